"""Campaigns' consumer: `tessera.segments.v1` → the membership replica."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.service import apply_segment_messages
from shared.bus import EventBuffer
from shared.consuming import Handler, Received
from shared.events import SEGMENTS


async def handle_segments(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Apply a batch of segment entries and exits."""
    await apply_segment_messages(session, [m.value for m in messages])


HANDLERS: dict[str, Handler] = {SEGMENTS: handle_segments}
