"""Customer journeys from the timeline: ordered funnels, the channel paths that lead to a conversion, and social
engagement by segment. Counting runs in SQL; only the channel of each touchpoint is decided here, by a pure rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import CTE, ColumnElement, Interval, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.models import Profile, SegmentMember, TimelineEvent
from shared.db import dialect_name

Channel = Literal["email", "social", "ads", "influencer", "web"]
SOCIAL_EVENTS = frozenset({"Post Viewed", "Post Liked", "Post Shared", "Comment Posted"})
SOCIAL_MEDIUMS = frozenset({"social", "social-media"})
PAID_MEDIUMS = frozenset({"cpc", "ppc", "paid", "display"})
TOUCH_TYPES = ("track", "page", "screen")  # identify, alias and group are bookkeeping, not touchpoints
ENGAGEMENT = {"Post Liked": "likes", "Comment Posted": "comments", "Post Shared": "shares", "Ad Clicked": "ad_clicks"}


def _shifted(column: Any, seconds: int, dialect: str) -> ColumnElement[Any]:
    """A stored time moved by whole seconds, comparable with stored times on both backends."""
    if dialect == "sqlite":
        # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' and its date functions round to milliseconds: shift the whole
        # seconds and put the fraction back unchanged, so window edges stay exact.
        whole = func.strftime("%Y-%m-%d %H:%M:%S", func.substr(column, 1, 19), f"{seconds:+d} seconds")
        return whole.op("||")(func.substr(column, 20))
    return column + literal(timedelta(seconds=seconds), Interval())  # type: ignore[no-any-return]


def _in_range(column: Any, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    return [c for c in (column >= start if start else None, column < end if end else None) if c is not None]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


# ---------------------------------------------------------------- funnels


@dataclass(frozen=True, slots=True)
class Step:
    """One funnel step: a named event, or a page view of a path."""

    event: str | None = None
    page: str | None = None

    def matches(self) -> ColumnElement[bool]:
        """The condition a timeline row meets when it is this step."""
        if self.event is not None:
            return TimelineEvent.name == self.event
        paths = (TimelineEvent.properties["path"].as_string(), TimelineEvent.context[("page", "path")].as_string())
        return and_(TimelineEvent.type == "page", or_(*(p == self.page for p in paths)))


async def funnel(
    session: AsyncSession,
    steps: Sequence[Step],
    *,
    window: timedelta,
    start: datetime | None = None,
    end: datetime | None = None,
    segment_id: str | None = None,
) -> dict[str, Any]:
    """People reaching each step in order, each later step within `window` of their first step 1 in [start, end)."""
    seconds = int(window.total_seconds())
    reached = _reached(steps, seconds, dialect_name(session), start, end, segment_id)
    counts = await session.execute(select(*(select(func.count(r.c.t)).scalar_subquery() for r in reached)))
    people = [int(n) for n in counts.one()]
    rows = [{"step": i + 1, "event": s.event, "page": s.page, "people": n,
             "conversion_from_previous": _rate(n, people[i - 1]) if i else None,
             "conversion_from_first": _rate(n, people[0])}
            for i, (s, n) in enumerate(zip(steps, people, strict=True))]  # fmt: skip
    return {"from": start, "to": end, "window_hours": seconds / 3600, "segment_id": segment_id, "steps": rows,
            "overall_conversion": _rate(people[-1], people[0])}  # fmt: skip


def _reached(
    steps: Sequence[Step], seconds: int, dialect: str, start: datetime | None, end: datetime | None,
    segment_id: str | None,
) -> list[CTE]:  # fmt: skip
    """Per step, everyone who reached the previous one: their first step 1 (`t0`) and when they first did this step
    after the previous (`t`, null when they never did within the window)."""
    te = TimelineEvent
    first = select(te.profile_id, func.min(te.occurred_at).label("t0"), func.min(te.occurred_at).label("t"))
    first = first.where(steps[0].matches(), *_in_range(te.occurred_at, start, end))
    if segment_id:
        members = select(SegmentMember.profile_id).where(SegmentMember.segment_id == segment_id)
        first = first.where(te.profile_id.in_(members))
    reached = [first.group_by(te.profile_id).cte("reached_1")]
    for k, step in enumerate(steps[1:], start=2):
        # The earliest match after the previous step is never worse than a later one, so greedy is exact; each
        # probe is a short range of the (profile_id, occurred_at) index.
        prev = reached[-1]
        within = and_(te.occurred_at > prev.c.t, te.occurred_at <= _shifted(prev.c.t0, seconds, dialect))
        earliest = select(func.min(te.occurred_at)).where(te.profile_id == prev.c.profile_id, within, step.matches())
        query = select(prev.c.profile_id, prev.c.t0, earliest.scalar_subquery().label("t")).where(prev.c.t.is_not(None))
        reached.append(query.cte(f"reached_{k}"))
    return reached


# ---------------------------------------------------------------- channels and paths


@dataclass(frozen=True, slots=True)
class Touch:
    """What the channel rule needs of one touchpoint (UTM fields come from `context.campaign`)."""

    name: str | None
    channel: str | None = None  # context.channel
    utm_source: str | None = None
    utm_medium: str | None = None
    referral_code: Any = None  # properties.referral_code
    source_id: str | None = None  # the tracking source, when known (the timeline does not keep it)


def channel_of(touch: Touch) -> Channel:
    """The marketing channel of a touchpoint; the first rule that holds wins: email, ads or social by event,
    influencer, ads or social by campaign, else web."""
    source, medium = (touch.utm_source or "").lower(), (touch.utm_medium or "").lower()
    name = touch.name or ""
    if touch.channel == "email" or touch.source_id == "email" or name.startswith("Email ") or medium == "email":
        return "email"
    if name == "Ad Clicked":
        return "ads"
    if name in SOCIAL_EVENTS:
        return "social"
    if "influencer" in (source, medium) or touch.referral_code not in (None, ""):
        return "influencer"
    if medium in PAID_MEDIUMS:
        return "ads"
    return "social" if medium in SOCIAL_MEDIUMS else "web"


def journey(channels: Iterable[str], max_length: int) -> tuple[str, ...]:
    """Channels in order with consecutive repeats collapsed, keeping the last `max_length`."""
    path: list[str] = []
    for channel in channels:
        if not path or path[-1] != channel:
            path.append(channel)
    return tuple(path[-max_length:])


async def conversion_paths(
    session: AsyncSession,
    conversion: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    lookback: timedelta = timedelta(days=30),
    max_length: int = 5,
    limit: int = 20,
) -> dict[str, Any]:
    """The commonest channel paths of touchpoints in the `lookback` before each person's first conversion in range."""
    te = TimelineEvent
    converted = select(te.profile_id, func.min(te.occurred_at).label("at")).where(
        te.name == conversion, *_in_range(te.occurred_at, start, end)
    )
    conversions = converted.group_by(te.profile_id).cte("conversions")
    people = int(await session.scalar(select(func.count()).select_from(conversions)) or 0)
    counts = await _path_counts(session, conversions, conversion, int(lookback.total_seconds()), max_length)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return {"conversion": conversion, "from": start, "to": end, "lookback_days": lookback.total_seconds() / 86400,
            "converting_people": people, "without_touchpoints": people - sum(counts.values()),
            "paths": [{"path": list(path), "people": n, "share": _rate(n, people)} for path, n in ranked]}  # fmt: skip


async def _path_counts(
    session: AsyncSession, conversions: CTE, conversion: str, seconds: int, max_length: int
) -> Counter[tuple[str, ...]]:
    te, c = TimelineEvent, conversions.c
    since = _shifted(c.at, -seconds, dialect_name(session))
    fields = (te.context["channel"].as_string(), te.context[("campaign", "source")].as_string(),
              te.context[("campaign", "medium")].as_string(), te.properties["referral_code"].as_string())  # fmt: skip
    on = and_(te.profile_id == c.profile_id, te.occurred_at < c.at, te.occurred_at >= since)
    query = (select(te.profile_id, te.name, *fields).join(conversions, on)
             .where(te.type.in_(TOUCH_TYPES), te.name != conversion)
             .order_by(te.profile_id, te.occurred_at, te.id).execution_options(yield_per=10_000))  # fmt: skip
    counts: Counter[tuple[str, ...]] = Counter()
    current, channels = None, list[str]()
    result = await session.stream(query)
    async for rows in result.partitions():  # a row at a time would cost a greenlet switch per row
        for row in rows:
            if row[0] != current and channels:
                counts[journey(channels, max_length)] += 1
                channels = []
            current = row[0]
            channels.append(channel_of(Touch(row[1], row[2], row[3], row[4], row[5])))
    if channels:
        counts[journey(channels, max_length)] += 1
    return counts


# ---------------------------------------------------------------- social engagement


def _engagement(people: int, engaged: int, counts: Sequence[Any]) -> dict[str, Any]:
    values = {field: int(n or 0) for field, n in zip(ENGAGEMENT.values(), counts, strict=True)}
    return {"people": people, "engaged_people": engaged, **values, "engagement_rate": _rate(engaged, people)}


async def social_engagement(session: AsyncSession, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Likes, comments, shares and ad clicks in [start, end) per segment (current members) and for everyone."""
    te = TimelineEvent
    per_person = select(te.profile_id, *(func.sum(case((te.name == name, 1), else_=0)).label(field)
                                         for name, field in ENGAGEMENT.items()))  # fmt: skip
    per_person = per_person.where(te.name.in_(list(ENGAGEMENT)), te.occurred_at >= start, te.occurred_at < end)
    engaged = per_person.group_by(te.profile_id).cte("engaged")
    sums = [func.sum(engaged.c[field]) for field in ENGAGEMENT.values()]
    by_segment = (select(SegmentMember.segment_id, func.count(), func.count(engaged.c.profile_id), *sums)
                  .outerjoin(engaged, engaged.c.profile_id == SegmentMember.profile_id)
                  .group_by(SegmentMember.segment_id).order_by(SegmentMember.segment_id))  # fmt: skip
    segments = [{"segment_id": r[0], **_engagement(int(r[1]), int(r[2]), r[3:])}
                for r in (await session.execute(by_segment)).all()]  # fmt: skip
    everyone = select(select(func.count()).where(Profile.merged_into.is_(None)).scalar_subquery(), func.count(), *sums)
    total = (await session.execute(everyone.select_from(engaged))).one()
    return {"from": start, "to": end, "segments": segments, "all": _engagement(int(total[0]), int(total[1]), total[2:])}
