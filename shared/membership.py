"""A service's copy of who is in which segment, kept from `tessera.segments.v1` (profiles and campaigns keep one):
entries and exits applied in order, each ignored when an equal or newer change of the same segment and profile
was applied already, so a replay or a late message never undoes a newer one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Column, MetaData, String, Table, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import UTCDateTime, insert_many, upsert
from shared.events import SegmentEntered, SegmentExited, decode_contract

SegmentMessage = SegmentEntered | SegmentExited
_adapter: TypeAdapter[SegmentMessage] = TypeAdapter(SegmentMessage)
CHUNK = 500


def membership_changes_table(metadata: MetaData) -> Table:
    """When each (segment, profile) last changed, entering or leaving: what a later message is compared with."""
    return Table(
        "segment_membership_changes",
        metadata,
        Column("segment_id", String(32), primary_key=True),
        Column("profile_id", String(32), primary_key=True),
        Column("at", UTCDateTime, nullable=False),
    )


def parse_segment_messages(values: Sequence[Any]) -> list[SegmentMessage]:
    """`tessera.segments.v1` messages, or `PoisonMessage`."""
    return [decode_contract(_adapter, value, "segment message") for value in values]


async def apply_memberships(
    session: AsyncSession, members: Any, changes: Table, messages: Sequence[SegmentMessage]
) -> list[SegmentEntered]:
    """Apply the messages newer than what was applied for their segment and profile; return the entries that made
    a member (a profile not in the segment before)."""
    latest = await _latest(session, changes, messages)
    before = await _current(session, members, messages)
    after, since, entered = set(before), dict[Any, Any](), list[SegmentEntered]()
    for message in messages:
        key = (message.segment_id, message.profile_id)
        if key in latest and message.occurred_at <= latest[key]:
            continue  # a replay or a message older than a change applied already
        latest[key] = message.occurred_at
        if isinstance(message, SegmentEntered) and key not in after:
            after.add(key)
            since[key] = message.occurred_at
            entered.append(message)
        elif isinstance(message, SegmentExited):
            after.discard(key)
    await _delete(session, members, list(before - after))
    rows = [{"segment_id": s, "profile_id": p, "entered_at": since[(s, p)]} for s, p in after - before]
    await insert_many(session, members, rows)
    stamps = [{"segment_id": s, "profile_id": p, "at": at} for (s, p), at in latest.items()]
    await upsert(session, changes, stamps, keys=["segment_id", "profile_id"], replace=("at",))
    return entered


async def _latest(session: AsyncSession, changes: Table, messages: Sequence[SegmentMessage]) -> dict[Any, Any]:
    keys = list({(m.segment_id, m.profile_id) for m in messages})
    found: dict[Any, Any] = {}
    for start in range(0, len(keys), CHUNK):
        where = tuple_(changes.c.segment_id, changes.c.profile_id).in_(keys[start : start + CHUNK])
        found |= {(s, p): at for s, p, at in await session.execute(select(changes).where(where))}
    return found


async def _current(session: AsyncSession, members: Table, messages: Sequence[SegmentMessage]) -> set[Any]:
    keys = list({(m.segment_id, m.profile_id) for m in messages})
    found: set[Any] = set()
    for start in range(0, len(keys), CHUNK):
        where = tuple_(members.c.segment_id, members.c.profile_id).in_(keys[start : start + CHUNK])
        found |= set((await session.execute(select(members.c.segment_id, members.c.profile_id).where(where))).all())
    return found


async def _delete(session: AsyncSession, members: Table, keys: list[Any]) -> None:
    for start in range(0, len(keys), CHUNK):
        where = tuple_(members.c.segment_id, members.c.profile_id).in_(keys[start : start + CHUNK])
        await session.execute(delete(members).where(where))
