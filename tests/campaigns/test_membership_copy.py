"""Campaigns' membership copy (the audience of a run, its size, its triggers) applies segment messages by time: a
replay or an entry relayed after a newer exit changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.models import SegmentMember
from services.campaigns.service import apply_segment_messages
from shared.db import utcnow
from shared.events import SegmentEntered, SegmentExited


async def members(session: AsyncSession, segment_id: str) -> set[str]:
    query = select(SegmentMember.profile_id).where(SegmentMember.segment_id == segment_id)
    return set((await session.scalars(query)).all())


async def apply(session: AsyncSession, *messages: SegmentEntered | SegmentExited) -> list[SegmentEntered]:
    return await apply_segment_messages(session, [m.model_dump(mode="json") for m in messages])


async def test_an_entry_relayed_after_a_newer_exit_leaves_the_profile_out(session: AsyncSession) -> None:
    t1 = utcnow()
    entered = SegmentEntered(segment_id="s-order", profile_id="p1", occurred_at=t1)
    exited = SegmentExited(segment_id="s-order", profile_id="p1", occurred_at=t1 + timedelta(seconds=1))
    assert await apply(session, exited) == []
    assert await apply(session, entered) == []  # older than the exit applied: ignored, and no trigger
    assert await members(session, "s-order") == set()


async def test_a_replayed_entry_is_one_member_and_one_trigger(session: AsyncSession) -> None:
    entered = SegmentEntered(segment_id="s-replay", profile_id="p2", occurred_at=utcnow())
    assert [m.profile_id for m in await apply(session, entered)] == ["p2"]
    assert await apply(session, entered) == []
    assert await members(session, "s-replay") == {"p2"}


async def test_exit_then_a_later_entry_in_one_batch_is_a_member(session: AsyncSession) -> None:
    t1 = utcnow()
    await apply(session, SegmentEntered(segment_id="s-back", profile_id="p3", occurred_at=t1))
    back = [SegmentExited(segment_id="s-back", profile_id="p3", occurred_at=t1 + timedelta(seconds=1)),
            SegmentEntered(segment_id="s-back", profile_id="p3", occurred_at=t1 + timedelta(seconds=2))]  # fmt: skip
    await apply(session, *back)
    assert await members(session, "s-back") == {"p3"}
