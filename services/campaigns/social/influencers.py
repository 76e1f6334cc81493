"""Influencers we work with: their posts' reach and engagement, follower growth, and the visits, sign-ups and
orders their codes and UTM campaigns bring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.social.models import Influencer, SocialConversion, SocialVisit
from services.campaigns.social.service import M, P, Period, follower_growth, post_figures, rate, sum_totals
from shared.db import utcnow
from shared.errors import Conflict, NotFound


async def create_influencer(session: AsyncSession, fields: dict[str, Any]) -> Influencer:
    """Register an influencer; one per platform and handle (else 409)."""
    taken = select(Influencer.id).where(
        Influencer.platform == fields["platform"], Influencer.handle == fields["handle"]
    )
    if await session.scalar(taken):
        raise Conflict(f"Influencer @{fields['handle']} on {fields['platform']} already exists.")
    codes, campaigns = sorted(set(fields["referral_codes"])), sorted(set(fields["utm_campaigns"]))
    influencer = Influencer(**fields | {"referral_codes": codes, "utm_campaigns": campaigns, "created_at": utcnow()})
    session.add(influencer)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # registered at the same moment by another request
        raise Conflict(f"Influencer @{fields['handle']} on {fields['platform']} already exists.") from exc
    return influencer


async def list_influencers(session: AsyncSession) -> Sequence[Influencer]:
    """Every influencer, by name."""
    return (await session.scalars(select(Influencer).order_by(Influencer.name, Influencer.id))).all()


async def get_influencer(session: AsyncSession, influencer_id: str) -> Influencer:
    """One influencer, or 404."""
    influencer = await session.get(Influencer, influencer_id)
    if influencer is None:
        raise NotFound(f"No influencer '{influencer_id}'.")
    return influencer


async def influencer_report(session: AsyncSession, influencer: Influencer, period: Period) -> dict[str, Any]:
    """Their posts' reach and engagement, follower growth, and the sessions, sign-ups, orders and revenue that
    came through their referral codes (or coupons) or UTM campaigns."""
    posts = await post_figures(session, period, P.influencer_id == influencer.id)
    followers = await followers_of(session, period, P.influencer_id == influencer.id)
    sessions = await _sessions(session, influencer.utm_campaigns, period)
    signups, orders, revenue = await _conversions(session, influencer, period)
    return {
        "influencer_id": influencer.id,
        **period.report(),
        "posts": sum_totals(p.totals for p in posts).report(),
        "followers": followers,
        "sessions": sessions,
        "signups": signups,
        "orders": orders,
        "revenue": round(revenue, 2),
        "signup_rate": rate(signups, sessions),
        "order_rate": rate(orders, sessions),
        "attributed_by": {"referral_codes": influencer.referral_codes, "utm_campaigns": influencer.utm_campaigns},
    }


async def followers_of(session: AsyncSession, period: Period, *conditions: Any) -> dict[str, Any]:
    """Follower growth of the accounts behind the matching posts: first against last count in the period."""
    query = select(P.platform, P.author, M.followers).join(M, (M.platform == P.platform) & (M.post_id == P.post_id))
    query = query.where(M.followers.is_not(None), *period.days(M.date), *conditions).order_by(M.date)
    return follower_growth(((platform, author), n) for platform, author, n in await session.execute(query))


async def _sessions(session: AsyncSession, campaigns: list[str], period: Period) -> int:
    if not campaigns:
        return 0
    query = select(SocialVisit.session_key).where(SocialVisit.utm_campaign.in_(campaigns))
    return len(set((await session.scalars(query.where(*period.instants(SocialVisit.at)))).all()))


async def _conversions(session: AsyncSession, influencer: Influencer, period: Period) -> tuple[int, int, float]:
    """Sign-ups, distinct orders and their revenue carrying one of the influencer's codes or UTM campaigns."""
    matches = [SocialConversion.referral_code.in_(influencer.referral_codes),
               SocialConversion.utm_campaign.in_(influencer.utm_campaigns)]  # fmt: skip
    columns = (SocialConversion.kind, SocialConversion.message_id, SocialConversion.order_id, SocialConversion.revenue)
    query = select(*columns).where(or_(*matches), *period.instants(SocialConversion.at))
    signups, orders = 0, dict[str, float]()
    for kind, message_id, order_id, revenue in await session.execute(query.order_by(SocialConversion.at)):
        if kind == "signup":
            signups += 1
        else:
            orders.setdefault(order_id or message_id, revenue)  # an order sent twice counts once
    return signups, len(orders), sum(orders.values())
