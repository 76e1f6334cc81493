"""Feedback inbox: comments, mentions, reviews and survey answers with their sentiment; answering them and
reporting on response times, sentiment and what negative feedback talks about."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.feedback.models import FeedbackItem
from services.profiles.feedback.sentiment import FeedbackFact, analyse, summarize, top_terms
from services.profiles.models import Profile, SegmentMember
from shared.db import insert_many, new_id, utcnow
from shared.errors import BadRequest, Conflict, Invalid, NotFound
from shared.merge_chains import chain_end, load_chains

FEEDBACK_EVENTS = frozenset(
    {"Comment Posted", "Brand Mentioned", "Review Submitted", "Survey Responded", "Feedback Submitted"}
)
MAX_TEXT = 10_000  # characters kept and scored; longer texts are cut
CHUNK = 500  # keeps IN lists well under every backend's parameter limit
CLOCK_SKEW = timedelta(minutes=5)  # a response may be stamped this far ahead of our clock
Status = Literal["open", "responded", "closed"]
GroupBy = Literal["segment", "product", "platform", "none"]
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
FactRow = tuple[FeedbackFact, str, str | None, str | None]  # fact, home profile id, product id, platform


@dataclass(frozen=True, slots=True)
class FeedbackFilter:
    """Which feedback items a list or a report covers (every field optional)."""

    status: str | None = None
    sentiment: str | None = None
    platform: str | None = None
    product: str | None = None
    segment_id: str | None = None
    event: str | None = None  # e.g. `Survey Responded`: the comments of survey answers
    start: datetime | None = None
    end: datetime | None = None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    return str(value)[:MAX_TEXT] if isinstance(value, str | int | float) else None


def _rating(properties: dict[str, Any]) -> float | None:
    for key in ("rating", "score"):
        value = properties.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e12 and value == value:
            return float(value)
    return None


def feedback_row(event: Any, profile_id: str) -> dict[str, Any] | None:
    """The feedback item a tracked event makes (with its sentiment), or None for other events."""
    if event.type != "track" or event.event not in FEEDBACK_EVENTS:
        return None
    props = event.properties
    text = (_text(props.get("text")) or "").strip()
    mood = analyse(text) if text else None
    return {"id": new_id(), "message_id": event.dedup_key, "profile_id": profile_id, "event": event.event,
            "text": text, "platform": _text(props.get("platform")), "product_id": _text(props.get("product_id")),
            "post_id": _text(props.get("post_id")), "rating": _rating(props),
            "compound": mood.compound if mood else None, "label": mood.label if mood else None,
            "status": "open", "received_at": event.timestamp, "responded_at": None}  # fmt: skip


async def insert_items(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write a batch's feedback items at once (after their profiles exist)."""
    await insert_many(session, FeedbackItem.__table__, rows)


def _segment_profiles(segment_id: str) -> Select[str]:
    """Ids of a segment's members and of every profile merged into them, at any depth."""
    tree = (
        select(SegmentMember.profile_id.label("id"))
        .where(SegmentMember.segment_id == segment_id)
        .cte("segment_profiles", recursive=True)
    )
    tree = tree.union(select(Profile.id).where(Profile.merged_into == tree.c.id))
    return select(tree.c.id)


def _filtered(query: Q, where: FeedbackFilter) -> Q:
    conditions = [
        (where.status, lambda v: FeedbackItem.status == v),
        (where.sentiment, lambda v: FeedbackItem.label == v),
        (where.platform, lambda v: FeedbackItem.platform == v),
        (where.product, lambda v: FeedbackItem.product_id == v),
        (where.event, lambda v: FeedbackItem.event == v),
        (where.start, lambda v: FeedbackItem.received_at >= v),
        (where.end, lambda v: FeedbackItem.received_at < v),
        (where.segment_id, lambda v: FeedbackItem.profile_id.in_(_segment_profiles(v))),
    ]
    for value, condition in conditions:
        if value is not None:
            query = query.where(condition(value))
    return query


async def live_profiles(session: AsyncSession, profile_ids: Iterable[str]) -> dict[str, str]:
    """profile id → the live profile it now belongs to (itself unless it was merged away)."""
    homes = list(profile_ids)

    async def level(ids: set[str]) -> dict[str, str | None]:
        wanted, merged = sorted(ids), dict[str, str | None]()
        for start in range(0, len(wanted), CHUNK):
            query = select(Profile.id, Profile.merged_into).where(
                Profile.id.in_(wanted[start : start + CHUNK]), Profile.merged_into.is_not(None)
            )
            merged |= {row.id: row.merged_into for row in await session.execute(query)}
        return merged

    links = await load_chains(homes, level)
    return {home: chain_end(home, links.get) for home in homes}


def _cursor(item: FeedbackItem) -> str:
    return base64.urlsafe_b64encode(f"{item.received_at.isoformat()}|{item.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, item_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), item_id
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The cursor is not valid.", fields=[{"field": "cursor", "reason": "malformed"}]) from None


async def list_feedback(
    session: AsyncSession, where: FeedbackFilter, *, cursor: str | None, limit: int
) -> tuple[Sequence[FeedbackItem], str | None]:
    """Feedback items matching the filter, newest first, and the cursor of the next page."""
    query = _filtered(select(FeedbackItem), where)
    if cursor:
        at, item_id = _decode_cursor(cursor)
        older = or_(FeedbackItem.received_at < at, and_(FeedbackItem.received_at == at, FeedbackItem.id < item_id))
        query = query.where(older)
    query = query.order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc()).limit(limit + 1)
    rows = (await session.scalars(query)).all()
    page = rows[:limit]
    return page, _cursor(page[-1]) if len(rows) > limit else None


async def get_item(session: AsyncSession, item_id: str) -> FeedbackItem:
    """One feedback item, or 404."""
    item = await session.get(FeedbackItem, item_id)
    if item is None:
        raise NotFound(f"Feedback item '{item_id}' does not exist.")
    return item


async def respond(session: AsyncSession, item_id: str, *, close: bool, at: datetime | None = None) -> FeedbackItem:
    """Record that the brand answered an item (now, or at `at`); `close` also closes it."""
    item = await get_item(session, item_id)
    if item.status == "closed":
        raise Conflict("This feedback item is closed.")
    if item.status == "responded" and not close:
        raise Conflict("This feedback item was already answered; send `close` to close it.")
    when = at or utcnow()
    if when < item.received_at or when > utcnow() + CLOCK_SKEW:
        reason = "before the item was received" if when < item.received_at else "in the future"
        raise Invalid(f"`responded_at` is {reason}.", fields=[{"field": "responded_at", "reason": reason}])
    if item.responded_at is None:
        item.responded_at = when
    item.status = "closed" if close else "responded"
    return item


async def _facts(session: AsyncSession, where: FeedbackFilter) -> list[FactRow]:
    columns = (FeedbackItem.received_at, FeedbackItem.responded_at, FeedbackItem.compound, FeedbackItem.label,
               FeedbackItem.profile_id, FeedbackItem.product_id, FeedbackItem.platform)  # fmt: skip
    rows = await session.execute(_filtered(select(*columns), where))
    return [(FeedbackFact(r[0], r[1], r[2], r[3]), r[4], r[5], r[6]) for r in rows]


async def _segments_of(session: AsyncSession, profile_ids: Iterable[str]) -> dict[str, list[str]]:
    """live profile id → the segments it is in (profiles' replica of segmentation)."""
    ids, found = list(set(profile_ids)), dict[str, list[str]]()
    for start in range(0, len(ids), CHUNK):
        query = select(SegmentMember.profile_id, SegmentMember.segment_id).where(
            SegmentMember.profile_id.in_(ids[start : start + CHUNK])
        )
        for profile_id, segment_id in await session.execute(query):
            found.setdefault(profile_id, []).append(segment_id)
    return found


async def _group_keys(session: AsyncSession, rows: list[FactRow], by: GroupBy) -> list[list[Any]]:
    """The groups each item counts in: its product or platform, or every segment of its profile."""
    if by == "product":
        return [[r[2]] for r in rows]
    if by == "platform":
        return [[r[3]] for r in rows]
    live = await live_profiles(session, {r[1] for r in rows})
    segments = await _segments_of(session, live.values())
    return [segments.get(live[r[1]], [None]) for r in rows]


async def feedback_stats(session: AsyncSession, where: FeedbackFilter, *, by: GroupBy) -> dict[str, Any]:
    """Response times, sentiment distribution and daily trend of the items received in the window, overall and
    per segment, product or platform (an item of a profile in two segments counts in both)."""
    rows = await _facts(session, where)
    facts = [r[0] for r in rows]
    report: dict[str, Any] = {"from": where.start, "to": where.end, "by": by, "total": summarize(facts), "groups": []}
    if by == "none":
        return report
    grouped: dict[Any, list[FeedbackFact]] = {}
    for fact, keys in zip(facts, await _group_keys(session, rows, by), strict=True):
        for key in keys:
            grouped.setdefault(key, []).append(fact)
    ordered = sorted(grouped.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))
    report["groups"] = [{"key": key} | summarize(group) for key, group in ordered]
    return report


async def negative_terms(session: AsyncSession, where: FeedbackFilter, *, limit: int = 10) -> list[dict[str, Any]]:
    """Per product, the terms negative feedback mentions most (products with the most negative items first)."""
    negative = replace(where, sentiment="negative")
    rows = await session.execute(_filtered(select(FeedbackItem.product_id, FeedbackItem.text), negative))
    texts: dict[str | None, list[str]] = {}
    for product_id, text in rows:
        texts.setdefault(product_id, []).append(text)
    ordered = sorted(texts.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))
    return [{"product_id": product, "negative_items": len(group), "terms": top_terms(group, limit)}
            for product, group in ordered]  # fmt: skip
