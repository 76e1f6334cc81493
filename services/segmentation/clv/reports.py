"""CLV reports over the replica's scores: how CLV and P(alive) spread, the top customers, and retention (cohorts,
repeat purchases and churn by P(alive)) over everyone or a segment's members."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.clv import retention
from services.segmentation.clv.service import order_days
from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.segments.models import SegmentMembership
from services.segmentation.segments.service import get_segment


async def clv_distribution(session: AsyncSession, *, bins: int = 20) -> dict[str, Any]:
    """Histograms of CLV (0 to the 99th percentile, the rest in the last bin) and of P(alive) over scored profiles."""
    clv, alive = ProfileFeatures.scores["clv"].as_float(), ProfileFeatures.scores["p_alive"].as_float()
    rows = (await session.execute(select(clv, alive).where(clv.is_not(None)))).all()
    values = np.array([r[0] for r in rows], dtype=float)
    chances = np.array([r[1] for r in rows if r[1] is not None], dtype=float)
    top = float(np.quantile(values, 0.99)) if len(values) else 0.0
    return {"customers": len(values), "clv": _histogram(np.minimum(values, top), bins, 0.0, top or 1.0),
            "p_alive": _histogram(chances, bins, 0.0, 1.0),
            "clv_total": float(values.sum()), "clv_mean": float(values.mean()) if len(values) else None}  # fmt: skip


async def top_customers(session: AsyncSession, *, limit: int) -> list[dict[str, Any]]:
    """The customers with the highest CLV: their scores and the traits that name them."""
    clv = ProfileFeatures.scores["clv"].as_float()
    query = select(ProfileFeatures).where(clv.is_not(None)).order_by(clv.desc(), ProfileFeatures.profile_id)
    rows = (await session.scalars(query.limit(limit))).all()
    return [{"profile_id": r.profile_id, "scores": r.scores, "name": _name(r.traits)} for r in rows]


def _histogram(values: Any, bins: int, low: float, high: float) -> list[dict[str, float | int]]:
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    return [{"low": float(edges[i]), "high": float(edges[i + 1]), "count": int(n)} for i, n in enumerate(counts)]


def _name(traits: dict[str, Any]) -> str | None:
    parts = [str(traits[k]) for k in ("first_name", "last_name") if isinstance(traits.get(k), str)]
    return " ".join(parts) or (traits.get("name") if isinstance(traits.get("name"), str) else None)


async def retention_report(session: AsyncSession, segment_id: str | None, as_of: date, threshold: float
                           ) -> dict[str, Any]:  # fmt: skip
    """The cohort matrix, repeat-purchase rate and churn over every customer with an order, or a segment's members."""
    members = await _members(session, segment_id) if segment_id else None
    days = [(str(p), date.fromisoformat(str(d))) for p, d, _ in map(tuple, await order_days(session))
            if members is None or p in members]  # fmt: skip
    query = select(ProfileFeatures.profile_id, ProfileFeatures.scores).where(ProfileFeatures.scores.is_not(None))
    alive = [scores["p_alive"] for p, scores in await session.execute(query)
             if isinstance(scores, dict) and isinstance(scores.get("p_alive"), int | float)
             and (members is None or p in members)]  # fmt: skip
    cohorts = retention.cohort_matrix(days, as_of)
    return {"segment_id": segment_id, "as_of": as_of, "customers": sum(c.customers for c in cohorts),
            "repeat_purchase_rate": retention.repeat_purchase_rate(days),
            "cohorts": [asdict(c) for c in cohorts], "churn": asdict(retention.churn(alive, threshold))}  # fmt: skip


async def _members(session: AsyncSession, segment_id: str) -> set[str]:
    await get_segment(session, segment_id)  # 404 for an unknown segment
    query = select(SegmentMembership.profile_id).where(SegmentMembership.segment_id == segment_id)
    return set((await session.scalars(query)).all())
