"""Profiles' consumer: `tessera.events.v1` → profiles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.service import apply_events
from shared.bus import EventBuffer
from shared.consuming import Handler, Received
from shared.events import EVENTS


async def handle_events(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Apply a batch of tracked events to profiles."""
    await apply_events(session, [m.value for m in messages], events)


HANDLERS: dict[str, Handler] = {EVENTS: handle_events}
