"""Other people's accounts: influencers we work with (their posts' reach and engagement, follower growth, and the
visits, sign-ups and orders their codes and UTM campaigns bring) and competitors measured against us."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.models import BrandMention, Influencer, SocialConversion, SocialVisit
from services.campaigns.social import M, P, Period, PostFigures, Totals, follower_growth, post_figures, rate
from shared.db import utcnow
from shared.errors import Conflict, Invalid, NotFound, field_error

DEFAULT_DAYS = 28
US = ""  # our brand's key: no handle is empty


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
    followers = await _followers(session, period, P.influencer_id == influencer.id)
    sessions = await _sessions(session, influencer.utm_campaigns, period)
    signups, orders, revenue = await _conversions(session, influencer, period)
    return {
        "influencer_id": influencer.id,
        **period.report(),
        "posts": _total(posts).report(),
        "followers": followers,
        "sessions": sessions,
        "signups": signups,
        "orders": orders,
        "revenue": round(revenue, 2),
        "signup_rate": rate(signups, sessions),
        "order_rate": rate(orders, sessions),
        "attributed_by": {"referral_codes": influencer.referral_codes, "utm_campaigns": influencer.utm_campaigns},
    }


def _total(posts: Sequence[PostFigures]) -> Totals:
    total = Totals()
    for post in posts:
        total.add(post.totals)
    return total


async def _followers(session: AsyncSession, period: Period, *conditions: Any) -> dict[str, Any]:
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


def competitor_period(start: date | None, end: date | None, today: date) -> Period:
    """The period of a competitor comparison: the given days, else the last 28 days up to `to` (or today)."""
    span = timedelta(days=DEFAULT_DAYS - 1)
    try:
        end = end or (start + span if start else today)
        return Period(start or end - span, end)
    except OverflowError as exc:
        raise Invalid("The period runs past the calendar.", fields=[field_error("from", "out of range")]) from exc


async def competitors_report(session: AsyncSession, period: Period, *, brand: list[str]) -> dict[str, Any]:
    """Us and each competitor side by side: posts per week, content mix, engagement rates, follower growth, and
    share of voice among `Brand Mentioned` events. Our handles are `brand` if given, else our posts' authors."""
    ours = brand or sorted(set((await session.scalars(select(P.author).where(P.competitor.is_(False)))).all()))
    rivals = select(P.competitor_handle).where(P.competitor.is_(True), P.competitor_handle.is_not(None)).distinct()
    names = [US, *sorted({h for h in (await session.scalars(rivals)).all() if h})]
    posting = await _posting(session, period)
    figures = await post_figures(session, period)
    mentions = await _mentions(session, period, ours)
    tracked = sum(sum(c.values()) for name, c in mentions.items() if name in names)
    weeks = ((period.end - period.start).days + 1) / 7 if period.start and period.end else None
    rows = [_brand_row(name, posting[name], [f for f in figures if f.brand() == name], mentions[name], tracked, weeks)
            for name in names]  # fmt: skip
    for row in rows:
        row["followers"] = await _followers(session, period, *_brand_filter(row.pop("key")))
    untracked = sum(sum(c.values()) for name, c in mentions.items() if name not in names)
    return {**period.report(), "us": {"handles": ours, "from": "brand parameter" if brand else "our posts' authors"},
            "brands": rows, "mentions": {"tracked": tracked, "untracked": untracked}}  # fmt: skip


def _brand_filter(name: str) -> list[Any]:
    return [P.competitor.is_(False)] if name == US else [P.competitor.is_(True), P.competitor_handle == name]


async def _posting(session: AsyncSession, period: Period) -> dict[str, Counter[str]]:
    """brand → posts published in the period per content type."""
    query = select(P.competitor, P.competitor_handle, P.author, P.content_type).where(*period.instants(P.published_at))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for competitor, handle, author, content_type in await session.execute(query):
        counts[(handle or author) if competitor else US][content_type] += 1
    return counts


async def _mentions(session: AsyncSession, period: Period, ours: list[str]) -> dict[str, Counter[str]]:
    """brand (`US` for any of our handles) → mentions per platform (`unknown` when the event named none)."""
    query = select(BrandMention.brand, BrandMention.platform, func.count()).where(*period.instants(BrandMention.at))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for brand, platform, n in await session.execute(query.group_by(BrandMention.brand, BrandMention.platform)):
        counts[US if brand in ours else brand][platform or "unknown"] += int(n)
    return counts


def _brand_row(
    name: str, posting: Counter[str], posts: list[PostFigures], mentions: Counter[str], tracked: int,
    weeks: float | None,
) -> dict[str, Any]:  # fmt: skip
    published = sum(posting.values())
    report = _total(posts).report()
    return {
        "key": name,
        "brand": "us" if name == US else name,
        "is_us": name == US,
        "posts_published": published,
        "posts_per_week": round(published / weeks, 4) if weeks else None,
        "content_mix": {kind: rate(n, published) for kind, n in sorted(posting.items())},
        **{
            k: report[k]
            for k in (
                "impressions",
                "reach",
                "engagements",
                "engagement_rate_by_reach",
                "engagement_rate_by_impressions",
                "engagement_rate_by_followers",
            )
        },  # fmt: skip
        "mentions": sum(mentions.values()),
        "mentions_by_platform": dict(sorted(mentions.items())),
        "share_of_voice": rate(sum(mentions.values()), tracked),
    }
