"""Profiles' consumer: `tessera.events.v1` → profiles; `tessera.segments.v1` → a membership replica."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.ingest import apply_events
from services.profiles.models import SegmentMember, membership_changes
from shared.bus import EventBuffer
from shared.consuming import Handler, Received
from shared.events import EVENTS, SEGMENTS
from shared.membership import apply_memberships, parse_segment_messages


def events_handler(points: Mapping[str, float] | None = None) -> Handler:
    """The handler of `tessera.events.v1`, awarding `points` per event name (the setting when None)."""

    async def handle_events(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
        """Apply a batch of tracked events to profiles."""
        await apply_events(session, [m.value for m in messages], events, points=points)

    return handle_events


async def handle_segments(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Keep who is in which segment, for segment-filtered reports (replays and late messages change nothing)."""
    parsed = parse_segment_messages([m.value for m in messages])
    await apply_memberships(session, SegmentMember.__table__, membership_changes, parsed)


def handlers(points: Mapping[str, float] | None = None) -> dict[str, Handler]:
    """Topic → handler for the profiles consumer."""
    return {EVENTS: events_handler(points), SEGMENTS: handle_segments}


HANDLERS: dict[str, Handler] = handlers()
