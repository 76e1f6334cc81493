"""Campaigns' domain: keep the replica of segment memberships it targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.models import SegmentMember
from shared.consuming import decode_contract
from shared.events import SegmentEntered, SegmentExited

SegmentMessage = SegmentEntered | SegmentExited
_adapter: TypeAdapter[SegmentMessage] = TypeAdapter(SegmentMessage)


def parse_segment_message(value: Any) -> SegmentMessage:
    """A `tessera.segments.v1` message, or `PoisonMessage`."""
    return decode_contract(_adapter, value, "segment message")


async def apply_segment_messages(session: AsyncSession, values: Sequence[Any]) -> None:
    """Enter and exit memberships; replays are harmless."""
    for message in (parse_segment_message(v) for v in values):
        key = (message.segment_id, message.profile_id)
        member = await session.get(SegmentMember, key)
        if isinstance(message, SegmentEntered) and member is None:
            session.add(SegmentMember(segment_id=key[0], profile_id=key[1], entered_at=message.occurred_at))
            await session.flush()
        elif isinstance(message, SegmentExited) and member is not None:
            await session.execute(
                delete(SegmentMember).where(SegmentMember.segment_id == key[0], SegmentMember.profile_id == key[1])
            )


async def segment_size(session: AsyncSession, segment_id: str) -> int:
    """How many profiles campaigns knows to be in a segment."""
    query = select(func.count()).select_from(SegmentMember).where(SegmentMember.segment_id == segment_id)
    return int(await session.scalar(query) or 0)
