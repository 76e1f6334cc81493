"""RFM over the feature replica: recency (days since the last order), frequency (orders), monetary (revenue)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import ProfileFeatures
from services.segmentation.rfm import name_segments, score_rfm, summarise_segments


def _buyer(computed: dict[str, Any], as_of: datetime) -> tuple[float, float, float] | None:
    orders, last = computed.get("orders"), computed.get("last_order_at")
    if not isinstance(orders, int | float) or orders <= 0 or not isinstance(last, str):
        return None
    recency = max((as_of - datetime.fromisoformat(last)).total_seconds() / 86400, 0.0)
    return recency, float(orders), float(computed.get("revenue") or 0.0)


async def rfm_summary(session: AsyncSession, as_of: datetime) -> dict[str, Any]:
    """RFM segments of every customer with an order: size, share and average R, F and M per segment."""
    rows = await session.execute(select(ProfileFeatures.profile_id, ProfileFeatures.computed))
    buyers = [(pid, values) for pid, computed in rows if (values := _buyer(computed, as_of)) is not None]
    if not buyers:
        return {"as_of": as_of, "customers": 0, "segments": []}
    recency, frequency, monetary = (list(column) for column in zip(*(v for _, v in buyers), strict=True))
    scores = score_rfm(recency, frequency, monetary)
    names = name_segments(scores.r, scores.f, scores.m)
    summaries = summarise_segments(names, recency, frequency, monetary)
    return {"as_of": as_of, "customers": len(buyers), "segments": [asdict(s) for s in summaries]}
