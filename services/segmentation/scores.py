"""Scores over the feature replica: writing them per profile, and RFM (recency = days since the last order,
frequency = orders, monetary = revenue) scored by quintiles and named from an editable segment map."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import ProfileFeatures, Setting
from services.segmentation.rfm import (
    DEFAULT_SEGMENT_MAP,
    SegmentMap,
    fm_score,
    name_segments,
    score_rfm,
    summarise_segments,
)
from shared.db import dialect_name, update_many

RFM_KEYS = ("rfm_r", "rfm_f", "rfm_m", "rfm_segment")
RFM_MAP_SETTING = "rfm_segment_map"
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


def _buyer(computed: dict[str, Any], as_of: datetime) -> tuple[float, float, float] | None:
    orders, last = computed.get("orders"), computed.get("last_order_at")
    if not isinstance(orders, int | float) or orders <= 0 or not isinstance(last, str):
        return None
    recency = max((as_of - datetime.fromisoformat(last)).total_seconds() / 86400, 0.0)
    return recency, float(orders), float(computed.get("revenue") or 0.0)


async def _buyers(session: AsyncSession, as_of: datetime) -> list[tuple[str, tuple[float, float, float]]]:
    rows = await session.execute(select(ProfileFeatures.profile_id, ProfileFeatures.computed))
    return [(pid, values) for pid, computed in rows if (values := _buyer(computed, as_of)) is not None]


async def get_segment_map(session: AsyncSession) -> dict[tuple[int, int], str]:
    """The RFM segment map in force: (R, FM) → name; the default grid until someone edits it."""
    setting = await session.get(Setting, RFM_MAP_SETTING)
    if setting is None:
        return dict(DEFAULT_SEGMENT_MAP)
    return {(int(cell["r"]), int(cell["fm"])): str(cell["name"]) for cell in setting.value}


async def set_segment_map(session: AsyncSession, cells: list[dict[str, Any]]) -> dict[tuple[int, int], str]:
    """Replace the RFM segment map; cells left out name their customers "Other"."""
    setting = await session.get(Setting, RFM_MAP_SETTING)
    if setting is None:
        session.add(Setting(key=RFM_MAP_SETTING, value=cells))
    else:
        setting.value = cells
    await session.flush()
    return await get_segment_map(session)


def map_cells(mapping: SegmentMap) -> list[dict[str, Any]]:
    """The map as a list of {r, fm, name}, R descending then FM ascending."""
    return [
        {"r": r, "fm": fm, "name": name} for (r, fm), name in sorted(mapping.items(), key=lambda c: (-c[0][0], c[0][1]))
    ]


async def rfm_summary(session: AsyncSession, as_of: datetime, *, save: bool = False) -> dict[str, Any]:
    """RFM segments of every customer with an order: size, share and average R, F and M per segment.
    With `save`, each customer's R, F, M and segment become scores usable in segment rules."""
    buyers = await _buyers(session, as_of)
    scored: dict[str, dict[str, Any]] = {}
    summaries: list[dict[str, Any]] = []
    cells: Counter[tuple[int, int]] = Counter()
    if buyers:
        recency, frequency, monetary = (list(column) for column in zip(*(v for _, v in buyers), strict=True))
        scores = score_rfm(recency, frequency, monetary)
        names = name_segments(scores.r, scores.f, scores.m, await get_segment_map(session))
        summaries = [asdict(s) for s in summarise_segments(names, recency, frequency, monetary)]
        cells = Counter(zip(map(int, scores.r), map(int, fm_score(scores.f, scores.m)), strict=True))
        rows = zip(buyers, scores.r, scores.f, scores.m, names, strict=True)
        scored = {pid: {"rfm_r": int(r), "rfm_f": int(f), "rfm_m": int(m), "rfm_segment": name}
                  for (pid, _), r, f, m, name in rows}  # fmt: skip
    if save:
        await write_scores(session, scored, RFM_KEYS)
    grid = [{"r": r, "fm": fm, "customers": n} for (r, fm), n in sorted(cells.items())]
    return {"as_of": as_of, "customers": len(buyers), "segments": summaries, "cells": grid}
