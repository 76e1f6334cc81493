"""Segmentation's consumer: `tessera.profiles.v1` → the feature replica."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.replica.service import apply_profile_messages
from services.segmentation.segments.service import evaluate_profiles, lock_memberships
from shared.bus import EventBuffer
from shared.consuming import Handler, Received
from shared.db import utcnow
from shared.events import PROFILES


async def handle_profiles(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Apply a batch of profile changes to the replica, then move the touched profiles in or out of segments."""
    await lock_memberships(session, exclusive=False)
    touched = await apply_profile_messages(session, [m.value for m in messages])
    await evaluate_profiles(session, touched, events, utcnow().date())


HANDLERS: dict[str, Handler] = {PROFILES: handle_profiles}
