"""Segment reports: what a marketing manager compares across segments, aggregated in SQL over the members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.segments import engagement
from services.segmentation.segments.models import Segment, SegmentMembership
from shared.db import utcnow


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(float(numerator) / float(denominator), 6) if numerator is not None and denominator else None


async def segment_report(session: AsyncSession, segment: Segment, *, now: datetime | None = None) -> dict[str, Any]:
    """Size, revenue per member, average order value, average CLV, conversion rate (share of members with an order),
    average sentiment, the share of members who consent to email, and the engagement score's spread at `now`."""
    segment_id = segment.id
    computed, scores = ProfileFeatures.computed, ProfileFeatures.scores
    orders = func.coalesce(computed["orders"].as_float(), 0.0)
    query = (
        select(
            func.count(),
            func.sum(func.coalesce(computed["revenue"].as_float(), 0.0)),
            func.sum(orders),
            func.sum(case((orders > 0, 1), else_=0)),
            func.avg(scores["clv"].as_float()),
            func.count(scores["clv"].as_float()),
            func.avg(cast(computed["average_sentiment"].as_float(), Float)),
            func.sum(case((ProfileFeatures.consent["email"].as_boolean(), 1), else_=0)),
        )
        .select_from(SegmentMembership)
        .join(ProfileFeatures, ProfileFeatures.profile_id == SegmentMembership.profile_id)
        .where(SegmentMembership.segment_id == segment_id)
    )
    size, revenue, order_count, buyers, clv, clv_scored, sentiment, consenting = (await session.execute(query)).one()
    return {
        "segment_id": segment.id, "name": segment.name, "size": size, "status": segment.status,
        "last_computed_at": segment.last_computed_at, "revenue": round(float(revenue or 0.0), 2),
        "revenue_per_customer": _ratio(revenue, size), "orders": int(order_count or 0),
        "average_order_value": _ratio(revenue, order_count), "customers_with_orders": int(buyers or 0),
        "conversion_rate": _ratio(buyers, size),
        "average_clv": round(float(clv), 4) if clv is not None else None, "clv_scored_members": clv_scored,
        "average_sentiment": round(float(sentiment), 4) if sentiment is not None else None,
        "email_consent_share": _ratio(consenting, size),
        "engagement": await _engagement(session, segment_id, now or utcnow()),
    }  # fmt: skip


async def _engagement(session: AsyncSession, segment_id: str, now: datetime) -> dict[str, Any]:
    """The members' engagement scores decayed to `now` (each published with its reference time and half-life)."""
    query = (
        select(ProfileFeatures.computed[engagement.KEY])
        .select_from(SegmentMembership)
        .join(ProfileFeatures, ProfileFeatures.profile_id == SegmentMembership.profile_id)
        .where(SegmentMembership.segment_id == segment_id)
    )
    return engagement.distribution(await session.scalars(query), now)
