"""Segmentation's domain: keep the replica of profile features up to date."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import ClusterAssignment, ProfileFeatures
from shared.consuming import decode_contract
from shared.errors import NotFound
from shared.events import ProfileErased, ProfileMerged, ProfileUpserted

ProfileMessage = ProfileUpserted | ProfileMerged | ProfileErased
_adapter: TypeAdapter[ProfileMessage] = TypeAdapter(ProfileMessage)


def parse_profile_message(value: Any) -> ProfileMessage:
    """A `tessera.profiles.v1` message, or `PoisonMessage`."""
    return decode_contract(_adapter, value, "profile message")


async def apply_profile_messages(session: AsyncSession, values: Sequence[Any]) -> set[str]:
    """Upsert features (newer wins), drop merged-away and erased profiles; return the profiles touched."""
    touched: set[str] = set()
    for message in (parse_profile_message(v) for v in values):
        if isinstance(message, ProfileUpserted):
            await _upsert(session, message)
            touched.add(message.profile_id)
        elif isinstance(message, ProfileMerged) and not message.undone:
            await _forget(session, message.merged_id)
            touched.add(message.merged_id)
        elif isinstance(message, ProfileErased):
            await _forget(session, message.profile_id)
            touched.add(message.profile_id)
    return touched


async def _forget(session: AsyncSession, profile_id: str) -> None:
    """Drop a profile's features, scores and cluster assignments (it was merged away or erased)."""
    await session.execute(delete(ProfileFeatures).where(ProfileFeatures.profile_id == profile_id))
    await session.execute(delete(ClusterAssignment).where(ClusterAssignment.profile_id == profile_id))


async def _upsert(session: AsyncSession, message: ProfileUpserted) -> None:
    row = await session.get(ProfileFeatures, message.profile_id)
    if row is None:
        session.add(
            ProfileFeatures(
                profile_id=message.profile_id,
                traits=message.traits,
                computed=message.computed,
                consent=message.consent,
                scores={},
                updated_at=message.occurred_at,
            )
        )
        await session.flush()
    elif row.updated_at <= message.occurred_at:  # a replayed older message never overwrites a newer one
        row.traits, row.computed, row.consent = message.traits, message.computed, message.consent
        row.updated_at = message.occurred_at


async def get_features(session: AsyncSession, profile_id: str) -> ProfileFeatures:
    """The replicated features of a profile, or 404."""
    row = await session.get(ProfileFeatures, profile_id)
    if row is None:
        raise NotFound(f"No features for profile '{profile_id}'.")
    return row
