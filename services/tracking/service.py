"""Tracking's domain: sources and write keys, and turning raw events into published messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.enrichment import DEFAULT_FUTURE_TOLERANCE, RequestFacts, enrich
from services.tracking.guards import RecentIds
from services.tracking.models import Source
from services.tracking.validation import EventInvalid, validate_event
from shared.auth import generate_key, hash_key
from shared.bus import OutboundMessage
from shared.db import transaction_lock, utcnow
from shared.errors import NotFound
from shared.events import EVENTS, EVENTS_REJECTED, MessageRejected

DEFAULT_SOURCE_NAME = "default"
SOURCE_FIELDS = frozenset({"name", "enabled", "anonymize_ip", "trusted"})  # what an admin may change


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits of one event: its size (batch limits are checked on the body) and how far ahead its time may be."""

    event_bytes: int
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE


@dataclass
class Prepared:
    """The outcome of validating and enriching one request's events."""

    messages: list[OutboundMessage] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0


def _hint(key: str) -> str:
    return f"{key[:8]}…"


async def create_source(
    session: AsyncSession, *, name: str, anonymize_ip: bool = True, trusted: bool = False
) -> tuple[Source, str]:
    """A new source and its write key (returned once, stored hashed)."""
    key = generate_key("twk")
    source = Source(name=name, anonymize_ip=anonymize_ip, trusted=trusted, write_key_hash=hash_key(key),
                    write_key_hint=_hint(key))  # fmt: skip
    session.add(source)
    await session.flush()
    return source, key


async def update_source(session: AsyncSession, source_id: str, changes: dict[str, Any]) -> Source:
    """Change a source's name, enabled, anonymize_ip or trusted flag."""
    source = await get_source(session, source_id)
    for field_name in SOURCE_FIELDS & changes.keys():
        setattr(source, field_name, changes[field_name])
    await session.flush()
    return source


async def ensure_source_with_key(session: AsyncSession, *, name: str, write_key: str) -> Source:
    """The source with this write key, created under `name` if missing (the default source at start). Replicas start
    together: the lock makes the others wait and then find the one created, instead of a unique-key error."""
    await transaction_lock(session, f"source:{hash_key(write_key)}", Source.__table__)
    source = await find_source(session, write_key)
    if source is None:
        source = Source(name=name, write_key_hash=hash_key(write_key), write_key_hint=_hint(write_key))
        session.add(source)
        await session.flush()
    return source


async def find_source(session: AsyncSession, write_key: str) -> Source | None:
    """The source a write key belongs to, if any."""
    return await session.scalar(select(Source).where(Source.write_key_hash == hash_key(write_key)))


async def list_sources(session: AsyncSession) -> Sequence[Source]:
    """Every source, oldest first."""
    return (await session.scalars(select(Source).order_by(Source.created_at))).all()


async def get_source(session: AsyncSession, source_id: str) -> Source:
    """One source by id, or 404."""
    source = await session.get(Source, source_id)
    if source is None:
        raise NotFound(f"Source '{source_id}' does not exist.")
    return source


async def delete_source(session: AsyncSession, source_id: str) -> Source:
    """Remove a source; its write key stops working."""
    source = await get_source(session, source_id)
    await session.delete(source)
    return source


async def rotate_write_key(session: AsyncSession, source_id: str) -> tuple[Source, str]:
    """Give a source a new write key; the old one stops working."""
    source = await get_source(session, source_id)
    key = generate_key("twk")
    source.write_key_hash = hash_key(key)
    source.write_key_hint = _hint(key)
    source.rotated_at = utcnow()
    return source, key


def _rejection(raw: Any, index: int, error: EventInvalid, facts: RequestFacts) -> OutboundMessage:
    rejected = MessageRejected(
        reason=f"{error.field}: {error.reason}",
        source=f"tracking:{facts.source_id}",
        topic=EVENTS,
        payload=raw,
        rejected_at=facts.received_at,
    )
    return OutboundMessage(EVENTS_REJECTED, facts.source_id, rejected)


def prepare_events(
    raws: Sequence[Any],
    facts: RequestFacts,
    *,
    forced_type: str | None,
    limits: Limits,
    recent: RecentIds,
    body_bytes: int | None = None,
) -> Prepared:
    """Validate, deduplicate and enrich events; invalid ones become rejected-topic messages."""
    prepared = Prepared()
    # A body within the per-event limit cannot hold an event over it: skip measuring each one.
    measure = body_bytes is None or body_bytes > limits.event_bytes
    for index, raw in enumerate(raws):
        try:
            if measure and len(orjson.dumps(raw)) > limits.event_bytes:
                raise EventInvalid("event", f"larger than the limit of {limits.event_bytes} bytes")
            event = validate_event(raw, forced_type)
        except EventInvalid as error:
            prepared.rejected.append({"index": index, "field": error.field, "reason": error.reason})
            prepared.messages.append(_rejection(raw, index, error, facts))
            continue
        if event.get("messageId") and recent.seen_before(f"{facts.source_id}:{event['messageId']}"):
            prepared.duplicates += 1
            continue
        event = enrich(event, facts, future_tolerance=limits.future_tolerance)
        if not raw.get("messageId"):
            recent.seen_before(f"{facts.source_id}:{event['messageId']}")
        key = event.get("userId") or event.get("anonymousId") or event.get("previousId")
        prepared.messages.append(OutboundMessage(EVENTS, key, event))
        prepared.accepted_ids.append(f"{facts.source_id}:{event['messageId']}")
    return prepared
