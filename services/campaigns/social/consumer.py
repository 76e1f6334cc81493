"""What social reports keep from `tessera.events.v1`: visits with a UTM campaign, sign-ups and orders with a code
or UTM campaign, brand mentions, contest entries and user content."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.social.models import (
    BrandMention,
    ContestEntry,
    SocialConversion,
    SocialVisit,
    UserContent,
)
from shared.db import insert_new
from shared.events import TrackedEvent

# What social reports keep from `tessera.events.v1`; every other event (most are page views without a UTM
# campaign) is passed over before anything else is looked at.
SOCIAL_EVENTS = frozenset({"page", "Signed Up", "Order Completed", "Brand Mentioned", "Contest Entered",
                           "Content Submitted"})  # fmt: skip
_KEYS = {SocialVisit: ("utm_campaign", "session_key"), SocialConversion: ("message_id",),
         BrandMention: ("message_id",), ContestEntry: ("message_id",), UserContent: ("id",)}  # fmt: skip


async def handle_tracked_events(session: AsyncSession, events: Sequence[TrackedEvent]) -> None:
    """Keep UTM-tagged visits, sign-ups and orders with a code or UTM campaign, brand mentions, contest entries
    and user content; idempotent (message id or natural key), so replays change nothing."""
    batches: dict[Any, dict[tuple[Any, ...], dict[str, Any]]] = {model: {} for model in _KEYS}
    for event in events:
        if _wanted(event):
            fact = _fact(event)
            if fact is not None:
                model, row = fact
                batches[model].setdefault(tuple(row[k] for k in _KEYS[model]), row)
    for model, rows in batches.items():
        await insert_new(session, model.__table__, list(rows.values()), list(_KEYS[model]))


def _wanted(event: TrackedEvent) -> bool:
    """The cheap test first: a social event name, or a page view that carries a UTM campaign."""
    if event.event_name == "page":
        return bool(_mapping(event.context.get("campaign")).get("name"))
    return event.event_name in SOCIAL_EVENTS


def _fact(event: TrackedEvent) -> tuple[Any, dict[str, Any]] | None:
    message_id = event.dedup_key if _text(event.messageId) else None
    person = _text(event.userId or event.anonymousId)
    if person is None or message_id is None:
        return None
    properties, context = event.properties, event.context
    base = {"person": person, "at": _utc(event.timestamp), "message_id": message_id}
    match event.event_name:
        case "page":
            return _visit(base, properties, context)
        case "Signed Up":
            return _conversion(base | {"kind": "signup"}, event)
        case "Order Completed":
            return _conversion(base | {"kind": "order"}, event)
        case "Brand Mentioned":
            brand = _handle(properties.get("brand") or properties.get("handle"))
            row = base | {"brand": brand, "platform": _lower(properties.get("platform"), 40)}
            return (BrandMention, _only(row, BrandMention)) if brand else None
        case "Contest Entered":
            contest = _text(properties.get("contest_id"))
            return (ContestEntry, _only(base | {"contest_id": contest}, ContestEntry)) if contest else None
        case _:
            return _content(base, properties)


def _visit(base: dict[str, Any], properties: dict[str, Any], context: dict[str, Any]) -> Any:
    campaign = _lower(_mapping(context.get("campaign")).get("name"), 200)
    if campaign is None:
        return None
    session_id = _text(context.get("sessionId") or properties.get("session_id"), 250)
    key = f"session:{session_id}" if session_id else f"day:{base['at'].date().isoformat()}:{base['person']}"
    return SocialVisit, {"utm_campaign": campaign, "session_key": key[:300], "person": base["person"], "at": base["at"]}


def _conversion(base: dict[str, Any], event: TrackedEvent) -> Any:
    properties = event.properties
    code = _lower(properties.get("referral_code") or properties.get("coupon"), 200)
    campaign = _lower(_mapping(event.context.get("campaign")).get("name"), 200)
    if code is None and campaign is None:
        return None
    row = base | {"referral_code": code, "utm_campaign": campaign, "order_id": _text(properties.get("order_id")),
                  "revenue": event.revenue if base["kind"] == "order" else 0.0}  # fmt: skip
    return SocialConversion, row


def _content(base: dict[str, Any], properties: dict[str, Any]) -> Any:
    # The id is part of review URLs: a content id or the bare message id (a message key has a slash).
    row = {"id": _text(properties.get("content_id")) or base["message_id"].partition("/")[2], "person": base["person"],
           "contest_id": _text(properties.get("contest_id")), "type": _lower(properties.get("type"), 40),
           "url": _text(properties.get("url"), 2000), "status": "pending", "submitted_at": base["at"]}  # fmt: skip
    return UserContent, row


def _only(row: dict[str, Any], model: Any) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in model.__table__.columns}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = 200) -> str | None:
    """A short, storable string (NUL characters dropped), or None for nothing."""
    if value is None or isinstance(value, dict | list) or value == "":
        return None
    text = str(value).replace("\x00", "").strip()[:limit]
    return text or None


def _lower(value: Any, limit: int) -> str | None:
    text = _text(value, limit)
    return text.lower() if text else None


def _handle(value: Any) -> str | None:
    text = _text(value)
    return _lower(text.lstrip("@"), 200) if text else None


def _utc(at: datetime) -> datetime:
    """An event time in UTC (a time without a zone is taken as UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


async def forget_people(session: AsyncSession, persons: list[str], pseudonym: str) -> None:
    """An erased person's social facts stay counted, under a pseudonym."""
    for model in (SocialConversion, ContestEntry, UserContent):
        await session.execute(update(model).where(model.person.in_(persons)).values(person=pseudonym))
    visits = (await session.scalars(select(SocialVisit).where(SocialVisit.person.in_(persons)))).all()
    for visit in visits:  # a visit without a session id is keyed by its day and person
        key = visit.session_key.replace(visit.person, pseudonym) if visit.session_key.startswith("day:") else None
        visit.person, visit.session_key = pseudonym, key or visit.session_key
