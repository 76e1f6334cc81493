"""Profiles' consumer: `tessera.events.v1` → profiles; `tessera.segments.v1` → a membership replica."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.ingest import apply_events
from services.profiles.models import SegmentMember
from shared.bus import EventBuffer
from shared.consuming import Handler, Received, decode_contract
from shared.db import upsert
from shared.events import EVENTS, SEGMENTS, SegmentEntered, SegmentExited

_segment_message: TypeAdapter[SegmentEntered | SegmentExited] = TypeAdapter(SegmentEntered | SegmentExited)


def events_handler(points: Mapping[str, float] | None = None) -> Handler:
    """The handler of `tessera.events.v1`, awarding `points` per event name (the setting when None)."""

    async def handle_events(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
        """Apply a batch of tracked events to profiles."""
        await apply_events(session, [m.value for m in messages], events, points=points)

    return handle_events


async def handle_segments(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Keep who is in which segment, for segment-filtered reports (replays are harmless)."""
    for value in (m.value for m in messages):
        message: Any = decode_contract(_segment_message, value, "segment message")
        if isinstance(message, SegmentEntered):
            row = {
                "segment_id": message.segment_id,
                "profile_id": message.profile_id,
                "entered_at": message.occurred_at,
            }
            await upsert(
                session, SegmentMember.__table__, [row], keys=["segment_id", "profile_id"], replace=("entered_at",)
            )
        else:
            await session.execute(
                delete(SegmentMember).where(
                    SegmentMember.segment_id == message.segment_id, SegmentMember.profile_id == message.profile_id
                )
            )


def handlers(points: Mapping[str, float] | None = None) -> dict[str, Handler]:
    """Topic → handler for the profiles consumer."""
    return {EVENTS: events_handler(points), SEGMENTS: handle_segments}


HANDLERS: dict[str, Handler] = handlers()
