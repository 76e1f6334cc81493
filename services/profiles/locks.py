"""Row locks on profiles: every write to a profile takes them before it reads what it will write back."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.models import Profile
from shared.db import take_write_lock


async def lock_profiles(session: AsyncSession, profile_ids: Iterable[str]) -> list[Profile]:
    """The profiles, freshly read and locked until the transaction ends: PostgreSQL row locks taken in id order
    (no deadlock cycle with another writer doing the same), SQLite's write lock. Every write to a profile (the
    consumer's batches, API edits, merges and their undo, erasure) takes these locks before it reads."""
    await take_write_lock(session, Profile.__table__)
    query = select(Profile).where(Profile.id.in_(sorted(set(profile_ids)))).order_by(Profile.id).with_for_update()
    return list((await session.scalars(query.execution_options(populate_existing=True))).all())
