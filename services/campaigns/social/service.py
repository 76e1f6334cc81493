"""Social media reports: engagement of our posts (by post, content type, platform, campaign or segment), a daily
trend and the top content; contests and user-generated content; the period and figures other reports share.

Metrics are daily values per post (what happened that day), summed over the days of a period; reach summed over
days counts a person reached on two days twice. `followers` is the account's size that day: rates by followers use
each post's latest count in the period."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.social.models import ContestEntry, SocialPost, SocialPostMetric, UserContent
from shared.db import utcnow
from shared.errors import Invalid, NotFound, Unavailable, field_error

if TYPE_CHECKING:  # the HTTP client is the caller's; domain code only calls it
    from services.campaigns.clients import PeerServices

P, M = SocialPost, SocialPostMetric
COUNTS = ("impressions", "reach", "likes", "comments", "shares", "saves", "clicks")
ENGAGEMENT = ("likes", "comments", "shares", "saves")
DEFINITION = {
    "engagements": "likes + comments + shares + saves",
    "ctr": "clicks / impressions",
    "engagement_rate_by_reach": "engagements / reach",
    "engagement_rate_by_impressions": "engagements / impressions",
    "engagement_rate_by_followers": "engagements / followers (each post's latest follower count, summed)",
    "amplification_rate": "shares / followers",
    "virality_rate": "shares / impressions",
}
TOP = 5
DAILY = (*COUNTS, "engagements", "ctr", "engagement_rate_by_reach", "engagement_rate_by_impressions", "virality_rate")
GROUPS = {"post": None, "content_type": "content_type", "platform": "platform", "campaign": "utm_campaign"}


def rate(part: float, whole: float) -> float | None:
    """part / whole, rounded to 6 places; None when there is nothing to divide by."""
    return round(part / whole, 6) if whole else None


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included; either may be open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise Invalid("`from` is after `to`.", fields=[field_error("from", "must not be after `to`")])

    def since(self) -> datetime | None:
        """The first instant of the period (UTC), if bounded."""
        return datetime.combine(self.start, time(), UTC) if self.start else None

    def until(self) -> datetime | None:
        """The first instant after the period (UTC), if bounded."""
        if self.end is None or self.end >= date.max:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def days(self, column: Any) -> list[Any]:
        """Conditions keeping a date column inside the period."""
        return [c for c in (column >= self.start if self.start else None, column <= self.end if self.end else None)
                if c is not None]  # fmt: skip

    def instants(self, column: Any) -> list[Any]:
        """Conditions keeping a timestamp column inside the period."""
        since, until = self.since(), self.until()
        return [c for c in (column >= since if since else None, column < until if until else None) if c is not None]

    def report(self) -> dict[str, str | None]:
        """The period as the response states it."""
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


@dataclass
class Totals:
    """Summed metrics of some posts; the follower figures cover only posts that reported followers."""

    posts: int = 0
    impressions: int = 0
    reach: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    clicks: int = 0
    followers: int = 0
    followed_engagements: int = 0
    followed_shares: int = 0

    @property
    def engagements(self) -> int:
        """likes + comments + shares + saves."""
        return self.likes + self.comments + self.shares + self.saves

    def add(self, other: Totals) -> Totals:
        """Add another group's figures to these."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def report(self) -> dict[str, Any]:
        """Counts and rates, as every social report gives them."""
        return {name: getattr(self, name) for name in ("posts", *COUNTS, "followers")} | {
            "engagements": self.engagements,
            "ctr": rate(self.clicks, self.impressions),
            "engagement_rate_by_reach": rate(self.engagements, self.reach),
            "engagement_rate_by_impressions": rate(self.engagements, self.impressions),
            "engagement_rate_by_followers": rate(self.followed_engagements, self.followers),
            "amplification_rate": rate(self.followed_shares, self.followers),
            "virality_rate": rate(self.shares, self.impressions),
        }


@dataclass
class PostFigures:
    """A post and its figures in a period."""

    platform: str
    post_id: str
    author: str
    content_type: str
    utm_campaign: str | None
    competitor: bool
    competitor_handle: str | None
    published_at: datetime
    totals: Totals = field(default_factory=Totals)

    def brand(self) -> str:
        """ "" for our posts, else the competitor's handle."""
        return (self.competitor_handle or self.author) if self.competitor else ""


def _joined(query: Any) -> Any:
    return query.join(P, and_(P.platform == M.platform, P.post_id == M.post_id))


async def post_figures(session: AsyncSession, period: Period, *conditions: Any) -> list[PostFigures]:
    """Every post matching the conditions that has metrics in the period, with its summed figures."""
    info = (P.platform, P.post_id, P.author, P.content_type, P.utm_campaign, P.competitor, P.competitor_handle,
            P.published_at)  # fmt: skip
    sums = [func.coalesce(func.sum(getattr(M, name)), 0) for name in COUNTS]
    query = _joined(select(*info, *sums)).where(*period.days(M.date), *conditions).group_by(*info)
    followers = await _latest_followers(session, period, *conditions)
    posts = []
    for row in await session.execute(query.order_by(P.published_at, P.platform, P.post_id)):
        totals = Totals(1, *(int(v) for v in row[len(info) :]))
        latest = followers.get((row.platform, row.post_id))
        if latest is not None:
            totals.followers, totals.followed_shares = latest, totals.shares
            totals.followed_engagements = totals.engagements
        posts.append(PostFigures(**{c.key: value for c, value in zip(info, row, strict=False)}, totals=totals))
    return posts


async def _latest_followers(session: AsyncSession, period: Period, *conditions: Any) -> dict[tuple[str, str], int]:
    """(platform, post id) → the follower count of the last day in the period that reported one."""
    reported = [M.followers.is_not(None), *period.days(M.date), *conditions]
    last = _joined(select(M.platform, M.post_id, func.max(M.date).label("day"))).where(*reported)
    latest = last.group_by(M.platform, M.post_id).subquery()
    on = and_(M.platform == latest.c.platform, M.post_id == latest.c.post_id, M.date == latest.c.day)
    rows = await session.execute(select(M.platform, M.post_id, M.followers).join(latest, on))
    return {(platform, post_id): int(count or 0) for platform, post_id, count in rows}


def follower_growth(points: Iterable[tuple[Hashable, int | None]]) -> dict[str, Any]:
    """First and last follower count of each account (points in date order), summed over accounts; the growth."""
    first: dict[Hashable, int] = {}
    last: dict[Hashable, int] = {}
    for account, followers in points:
        first.setdefault(account, int(followers or 0))
        last[account] = int(followers or 0)
    if not first:
        return {"start": None, "end": None, "growth": None, "growth_rate": None}
    start, end = sum(first.values()), sum(last.values())
    return {"start": start, "end": end, "growth": end - start, "growth_rate": rate(end - start, start)}


async def engagement_report(session: AsyncSession, period: Period, by: str) -> dict[str, Any]:
    """Our posts' engagement per group, in total, day by day, and the top content by engagement rate by reach."""
    posts = await post_figures(session, period, P.competitor.is_(False))
    groups: dict[Any, Totals] = defaultdict(Totals)
    first: dict[Any, PostFigures] = {}
    for post in posts:
        key = _group_key(post, by)
        groups[key].add(post.totals)
        first.setdefault(key, post)
    rows = [{"key": key, **_describe(first[key], by), **totals.report()} for key, totals in groups.items()]
    rows.sort(key=lambda r: (-r["engagements"], str(r["key"])))
    return await _envelope(session, period, by, rows, sum_totals(p.totals for p in posts).report(), posts)


def _group_key(post: PostFigures, by: str) -> Any:
    column = GROUPS[by]
    return getattr(post, column) if column else f"{post.platform}:{post.post_id}"


def _describe(post: PostFigures, by: str) -> dict[str, Any]:
    if by != "post":
        return {}
    return {"platform": post.platform, "post_id": post.post_id, "content_type": post.content_type,
            "campaign": post.utm_campaign, "published_at": post.published_at.isoformat()}  # fmt: skip


def sum_totals(items: Iterable[Totals]) -> Totals:
    total = Totals()
    for item in items:
        total.add(item)
    return total


async def _envelope(
    session: AsyncSession, period: Period, by: str, groups: list[dict[str, Any]], total: Any,
    posts: Sequence[PostFigures],
) -> dict[str, Any]:  # fmt: skip
    return {"by": by, **period.report(), "engagement": DEFINITION, "groups": groups, "total": total,
            "daily": await _daily(session, period), "top_content": await _top(session, posts)}  # fmt: skip


async def _daily(session: AsyncSession, period: Period) -> list[dict[str, Any]]:
    """Our posts' figures per day of the period."""
    sums = [func.coalesce(func.sum(getattr(M, name)), 0) for name in COUNTS]
    query = _joined(select(M.date, *sums)).where(P.competitor.is_(False), *period.days(M.date)).group_by(M.date)
    days = []
    for day, *values in await session.execute(query.order_by(M.date)):
        report = Totals(0, *(int(v) for v in values)).report()
        days.append({"date": day.isoformat()} | {k: v for k, v in report.items() if k in DAILY})
    return days


async def _top(session: AsyncSession, posts: Sequence[PostFigures]) -> list[dict[str, Any]]:
    """The best posts by engagement rate by reach (then by engagements), with the start of their text."""
    reached = sorted((p for p in posts if p.totals.reach), key=lambda p: (-p.totals.engagements / p.totals.reach,
                     -p.totals.engagements, p.platform, p.post_id))[:TOP]  # fmt: skip
    texts: dict[tuple[str, str], str | None] = {}
    for post in reached:
        texts[(post.platform, post.post_id)] = await session.scalar(
            select(P.text).where(P.platform == post.platform, P.post_id == post.post_id)
        )
    return [{"platform": p.platform, "post_id": p.post_id, "content_type": p.content_type, "campaign": p.utm_campaign,
             "text": (texts[(p.platform, p.post_id)] or "")[:280], "reach": p.totals.reach,
             "engagements": p.totals.engagements,
             "engagement_rate_by_reach": rate(p.totals.engagements, p.totals.reach)} for p in reached]  # fmt: skip


async def segment_engagement(session: AsyncSession, peers: PeerServices, period: Period) -> dict[str, Any]:
    """Engagement per segment from profiles (people behind likes, shares, comments and ad clicks), in the same
    envelope as the other groupings (`daily` and `top_content` still from our posts)."""
    # Profiles reports a half-open range [from, to): open ends become the last 28 days, the last day included.
    end = (period.end or date.today()) + timedelta(days=1)
    body = await peers.social_engagement(period.start or end - timedelta(days=29), end)
    segments = body.get("segments") if isinstance(body, dict) else None
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        raise Unavailable("Profiles answered the segment report in an unexpected shape.")
    groups = [{"key": s.get("segment_id"), **s} for s in segments]
    posts = await post_figures(session, period, P.competitor.is_(False))
    return await _envelope(session, period, "segment", groups, body.get("all"), posts)


async def list_contests(session: AsyncSession) -> list[dict[str, Any]]:
    """Every contest anyone entered or sent content to: entries, participants, content waiting for review, last
    activity; the most recently active first."""
    found: dict[str, dict[str, Any]] = {}
    entries = select(ContestEntry.contest_id, func.count(), func.count(func.distinct(ContestEntry.person)),
                     func.max(ContestEntry.at)).group_by(ContestEntry.contest_id)  # fmt: skip
    for contest_id, n, people, last in await session.execute(entries):
        found[contest_id] = _contest_row(contest_id) | {"entries": n, "participants": people, "last_activity_at": last}
    pending = func.sum(case((UserContent.status == "pending", 1), else_=0))
    content = select(UserContent.contest_id, func.count(), pending, func.max(UserContent.submitted_at)).where(
        UserContent.contest_id.is_not(None)
    )
    for contest_id, n, waiting, last in await session.execute(content.group_by(UserContent.contest_id)):
        row = found.setdefault(contest_id, _contest_row(contest_id))
        row |= {"user_content": n, "pending_review": int(waiting or 0)}
        row["last_activity_at"] = max(filter(None, (row["last_activity_at"], last)))
    return sorted(found.values(), key=lambda r: (r["last_activity_at"], r["contest_id"]), reverse=True)


def _contest_row(contest_id: str) -> dict[str, Any]:
    return {"contest_id": contest_id, "entries": 0, "participants": 0, "user_content": 0, "pending_review": 0,
            "last_activity_at": None}  # fmt: skip


async def contest_report(session: AsyncSession, contest_id: str, *, reach: int | None) -> dict[str, Any]:
    """Participants, people reached (the reach of our posts of the contest's campaign, unless given), participation
    rate, and the contest's user content by review status."""
    entered = select(func.count(), func.count(func.distinct(ContestEntry.person)))
    entries, participants = (await session.execute(entered.where(ContestEntry.contest_id == contest_id))).one()
    statuses = select(UserContent.status, func.count()).where(UserContent.contest_id == contest_id)
    content = Counter({s: int(n) for s, n in await session.execute(statuses.group_by(UserContent.status))})
    posts = await post_figures(session, Period(), P.utm_campaign == contest_id, P.competitor.is_(False))
    if not entries and not content and not posts:
        raise NotFound(f"Nothing is known of contest '{contest_id}': no entries, user content or posts.")
    totals = sum_totals(p.totals for p in posts)
    reached = totals.reach if reach is None else reach
    return {
        "contest_id": contest_id,
        "entries": int(entries),
        "participants": int(participants),
        "people_reached": reached,
        "people_reached_from": "posts" if reach is None else "reach parameter",
        "participation_rate": rate(int(participants), reached),
        "user_content": {s: content.get(s, 0) for s in ("pending", "approved", "rejected")}
        | {"total": sum(content.values())},
        "posts": totals.report(),
    }


async def list_content(
    session: AsyncSession, *, status: str | None, contest_id: str | None, offset: int, limit: int
) -> tuple[Sequence[UserContent], int | None]:
    """User-generated content, newest first, optionally of one status or contest; and the next page's offset."""
    query = select(UserContent).order_by(UserContent.submitted_at.desc(), UserContent.id)
    if status:
        query = query.where(UserContent.status == status)
    if contest_id:
        query = query.where(UserContent.contest_id == contest_id)
    items = (await session.scalars(query.offset(offset).limit(limit + 1))).all()
    return items[:limit], (offset + limit if len(items) > limit else None)


async def review_content(session: AsyncSession, content_id: str, status: str) -> UserContent:
    """Approve or reject a piece of user content (a decision can be changed)."""
    content = await session.get(UserContent, content_id)
    if content is None:
        raise NotFound(f"No user content '{content_id}'.")
    content.status, content.reviewed_at = status, utcnow()
    await session.flush()
    return content
