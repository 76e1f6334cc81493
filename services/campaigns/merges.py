"""Campaigns' copy of profile merges (`profile.merged.v1`): what a merged-away profile id belongs to now, so the
answers and reports that name it count for the live person."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.models import ProfileMerge
from shared.events import ProfileMerged, decode_contract
from shared.merge_chains import MAX_DEPTH, chain_end, load_chains

_merged: TypeAdapter[ProfileMerged] = TypeAdapter(ProfileMerged)
CHUNK = 500  # keeps IN lists well under every backend's parameter limit


def merge_messages(values: Sequence[Any]) -> list[ProfileMerged]:
    """The merges (and undone merges) among `tessera.profiles.v1` messages."""
    wanted = [v for v in values if isinstance(v, dict) and v.get("type") == "profile.merged.v1"]
    return [decode_contract(_merged, v, "profile merge") for v in wanted]


async def remember_merges(session: AsyncSession, merges: Sequence[ProfileMerged]) -> None:
    """Keep each merged id's newest state (by the merged profile's version): merged into whom, or undone."""
    known = await _known(session, {m.merged_id for m in merges})
    for message in merges:
        row = known.get(message.merged_id)
        if row is None:
            row = known[message.merged_id] = ProfileMerge(merged_id=message.merged_id, version=-1)
            session.add(row)
        if message.merged_version >= row.version:
            row.profile_id, row.version, row.undone = message.profile_id, message.merged_version, message.undone


async def live_ids(session: AsyncSession, profile_ids: Iterable[str]) -> dict[str, str]:
    """profile id → the live profile it belongs to now (itself unless it was merged away)."""
    homes = set(profile_ids)

    async def level(ids: set[str]) -> dict[str, str | None]:
        rows = await _known(session, ids)
        return {i: (row.profile_id if row and not row.undone else None) for i in ids for row in [rows.get(i)]}

    links = await load_chains(homes, level)
    return {home: chain_end(home, links.get) for home in homes}


async def merged_into(session: AsyncSession, profile_id: str) -> list[str]:
    """The ids merged (at any depth, and not undone) into a profile."""
    found: list[str] = []
    pending = [profile_id]
    for _ in range(MAX_DEPTH):
        query = select(ProfileMerge.merged_id).where(ProfileMerge.profile_id.in_(pending), ~ProfileMerge.undone)
        pending = [i for i in (await session.scalars(query)).all() if i not in found and i != profile_id]
        if not pending:
            break
        found += pending
    return found


async def _known(session: AsyncSession, ids: set[str]) -> dict[str, ProfileMerge]:
    wanted, found = sorted(ids), dict[str, ProfileMerge]()
    for begin in range(0, len(wanted), CHUNK):
        query = select(ProfileMerge).where(ProfileMerge.merged_id.in_(wanted[begin : begin + CHUNK]))
        found |= {row.merged_id: row for row in (await session.scalars(query)).all()}
    return found
