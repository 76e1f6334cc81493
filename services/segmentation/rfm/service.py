"""RFM over the feature replica: recency (days since the last order), frequency (orders) and monetary (revenue)
scored by quintiles, named from an editable segment map, and saved as scores segment rules can use."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.base import Setting
from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.replica.scores import write_scores
from services.segmentation.rfm.model import (
    DEFAULT_SEGMENT_MAP,
    SegmentMap,
    fm_score,
    name_segments,
    score_rfm,
    summarise_segments,
)

RFM_KEYS = ("rfm_r", "rfm_f", "rfm_m", "rfm_segment")
RFM_MAP_SETTING = "rfm_segment_map"


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
