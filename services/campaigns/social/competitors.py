"""Competitors measured against us: posts per week, content mix, engagement rates, follower growth and share of
voice among `Brand Mentioned` events."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.social.influencers import followers_of
from services.campaigns.social.models import BrandMention
from services.campaigns.social.service import P, Period, PostFigures, post_figures, rate, sum_totals
from shared.errors import Invalid, field_error

DEFAULT_DAYS = 28
US = ""  # our brand's key: no handle is empty


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
        row["followers"] = await followers_of(session, period, *_brand_filter(row.pop("key")))
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
    report = sum_totals(p.totals for p in posts).report()
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
