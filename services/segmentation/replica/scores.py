"""Scores in the feature replica: each scoring run (RFM, CLV, clusterings) owns some keys of a profile's `scores`,
and writes them without touching the other runs' keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.replica.models import ProfileFeatures
from shared.db import dialect_name, update_many

CHUNK = 5000


async def write_scores(session: AsyncSession, scores: Mapping[str, Mapping[str, Any]], owned: Iterable[str]) -> None:
    """Set each profile's `owned` score keys to the given values; profiles not given lose those keys.
    Other keys (another model's scores) are kept: the merge happens in the database, one statement per chunk."""
    owned = tuple(owned)
    if dialect_name(session) not in _MERGE:
        await write_scores_portable(session, scores, owned)
        return
    drop, merge = _MERGE[dialect_name(session)](owned)
    await session.execute(drop, {"owned": list(owned), "given": _json(list(scores))})
    profile_ids = list(scores)
    for start in range(0, len(profile_ids), CHUNK):
        chunk = {pid: dict(scores[pid]) for pid in profile_ids[start : start + CHUNK]}
        await session.execute(merge, {"owned": list(owned), "rows": _json(chunk)})
    _expire_scores(session)


def _merge_sqlite(owned: tuple[str, ...]) -> tuple[TextClause, TextClause]:
    paths = ", ".join(f"'$.\"{key}\"'" for key in owned)  # owned keys are our own constants, never user input
    present = " OR ".join(f"json_type(scores, '$.\"{key}\"') IS NOT NULL" for key in owned)
    drop = text(f"UPDATE profile_features SET scores = json_remove(scores, {paths}) WHERE ({present}) "
                "AND profile_id NOT IN (SELECT value FROM json_each(:given))")  # fmt: skip
    merge = text(f"UPDATE profile_features SET scores = json_patch(json_remove(scores, {paths}), given.value) "
                 "FROM json_each(:rows) AS given WHERE profile_features.profile_id = given.key")  # fmt: skip
    return drop, merge


def _merge_postgresql(owned: tuple[str, ...]) -> tuple[TextClause, TextClause]:
    drop = text("UPDATE profile_features SET scores = scores - CAST(:owned AS text[]) "
                "WHERE scores ?| CAST(:owned AS text[]) "
                "AND profile_id NOT IN (SELECT jsonb_array_elements_text(CAST(:given AS jsonb)))")  # fmt: skip
    merge = text("UPDATE profile_features AS f SET scores = (f.scores - CAST(:owned AS text[])) || given.value "
                 "FROM jsonb_each(CAST(:rows AS jsonb)) AS given WHERE f.profile_id = given.key")  # fmt: skip
    return drop, merge


_MERGE: dict[str, Callable[[tuple[str, ...]], tuple[TextClause, TextClause]]] = {
    "sqlite": _merge_sqlite, "postgresql": _merge_postgresql}  # fmt: skip


async def write_scores_portable(session: AsyncSession, scores: Mapping[str, Mapping[str, Any]],
                                owned: Iterable[str]) -> None:  # fmt: skip
    """`write_scores` on any backend: read every profile's scores, merge in Python, write back those that differ."""
    owned = tuple(owned)

    def change(profile_id: str, current: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in current.items() if k not in owned} | dict(scores.get(profile_id, {}))

    await rewrite_scores(session, change)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _expire_scores(session: AsyncSession) -> None:
    for row in [obj for obj in session.identity_map.values() if isinstance(obj, ProfileFeatures)]:
        session.expire(row, ["scores"])  # rows loaded before now hold the old scores


async def rewrite_scores(session: AsyncSession, change: Callable[[str, dict[str, Any]], dict[str, Any]]) -> int:
    """Apply `change(profile_id, scores) -> new scores` to every profile; write only those that differ."""
    changed: list[dict[str, Any]] = []
    for profile_id, current in await session.execute(select(ProfileFeatures.profile_id, ProfileFeatures.scores)):
        new = change(profile_id, dict(current or {}))
        if new != current:
            changed.append({"profile_id": profile_id, "scores": new})
    for start in range(0, len(changed), CHUNK):
        await update_many(session, ProfileFeatures.__table__, changed[start : start + CHUNK], key="profile_id")
    _expire_scores(session)
    return len(changed)
