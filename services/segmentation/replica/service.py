"""The feature replica: apply `tessera.profiles.v1` messages to each profile's features, and read them back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.clustering.models import ClusterAssignment
from services.segmentation.exceptions import FeaturesNotFound
from services.segmentation.replica.models import ProfileFeatures, ProfileTombstone
from shared.db import upsert, utcnow
from shared.events import ProfileErased, ProfileMerged, ProfileUpserted, decode_contract

ProfileMessage = ProfileUpserted | ProfileMerged | ProfileErased
ERASED = 2**62  # an erased profile's tombstone outranks every version: it never comes back
_adapter: TypeAdapter[ProfileMessage] = TypeAdapter(ProfileMessage)


def parse_profile_message(value: Any) -> ProfileMessage:
    """A `tessera.profiles.v1` message, or `PoisonMessage`."""
    return decode_contract(_adapter, value, "profile message")


async def apply_profile_messages(session: AsyncSession, values: Sequence[Any]) -> set[str]:
    """Upsert features (a newer version wins), drop merged-away and erased profiles and keep their tombstones (so an
    older message about them, arriving late on another partition, is ignored); return the profiles touched."""
    touched: set[str] = set()
    for message in (parse_profile_message(v) for v in values):
        if isinstance(message, ProfileUpserted):
            if await _upsert(session, message):
                touched.add(message.profile_id)
        elif isinstance(message, ProfileMerged) and not message.undone:
            await _forget(session, message.merged_id, message.merged_version)
            touched.add(message.merged_id)
        elif isinstance(message, ProfileErased):
            await _forget(session, message.profile_id, ERASED)
            touched.add(message.profile_id)
    return touched


async def _forget(session: AsyncSession, profile_id: str, version: int) -> None:
    """Drop a profile's features, scores and cluster assignments (it was merged away or erased), and remember it."""
    await session.execute(delete(ProfileFeatures).where(ProfileFeatures.profile_id == profile_id))
    await session.execute(delete(ClusterAssignment).where(ClusterAssignment.profile_id == profile_id))
    row = {"profile_id": profile_id, "version": version, "at": utcnow()}
    await upsert(session, ProfileTombstone.__table__, [row], keys=["profile_id"], replace=("version", "at"))


async def _upsert(session: AsyncSession, message: ProfileUpserted) -> bool:
    """Apply a profile's state unless what is held (or its tombstone) is as new; whether it was applied."""
    tombstone = await session.get(ProfileTombstone, message.profile_id)
    if tombstone is not None and message.version <= tombstone.version:
        return False
    row = await session.get(ProfileFeatures, message.profile_id)
    if row is None:
        session.add(ProfileFeatures(profile_id=message.profile_id, traits=message.traits, computed=message.computed,
                                    consent=message.consent, scores={}, version=message.version,
                                    updated_at=message.occurred_at))  # fmt: skip
        await session.flush()
        return True
    if (message.version, message.occurred_at) <= (row.version, row.updated_at):  # a replayed or older message
        return False
    row.traits, row.computed, row.consent = message.traits, message.computed, message.consent
    row.version, row.updated_at = message.version, message.occurred_at
    return True


async def get_features(session: AsyncSession, profile_id: str) -> ProfileFeatures:
    """The replicated features of a profile, or 404."""
    row = await session.get(ProfileFeatures, profile_id)
    if row is None:
        raise FeaturesNotFound(f"No features for profile '{profile_id}'.")
    return row
