"""Web analytics from sessions: bounce rate, duration, pages per session, conversion, revenue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.journeys.models import WebSession
from services.profiles.models import SegmentMember

GroupBy = Literal["utm_source", "utm_medium", "utm_campaign", "none"]


def _metrics(sessions: int, bounces: int, seconds: float, pages: int, converted: int, revenue: float) -> dict[str, Any]:
    return {
        "sessions": sessions,
        "bounce_rate": round(bounces / sessions, 6) if sessions else 0.0,
        "avg_session_seconds": round(seconds / sessions, 3) if sessions else 0.0,
        "pages_per_session": round(pages / sessions, 6) if sessions else 0.0,
        "conversion_rate": round(converted / sessions, 6) if sessions else 0.0,
        "converted_sessions": converted,
        "revenue": round(revenue, 2),
    }


async def web_report(
    session: AsyncSession, *, start: datetime, end: datetime, segment_id: str | None, by: GroupBy
) -> dict[str, Any]:
    """Sessions started in [start, end), optionally only of a segment's members, grouped by a UTM field."""
    key = literal("all") if by == "none" else func.coalesce(getattr(WebSession, by), "(none)")
    rows = await _grouped(session, key, start, end, segment_id)
    days = await _grouped(session, func.date(WebSession.started_at), start, end, segment_id)
    groups = [{"key": r[0], **_metrics(*r[1:])} for r in rows]
    daily = sorted(({"day": str(r[0]), **_metrics(*r[1:])} for r in days), key=lambda d: d["day"])
    totals = [sum(r[i] or 0 for r in rows) for i in range(1, 7)]
    return {"from": start, "to": end, "segment_id": segment_id, "by": by, "groups": groups, "daily": daily,
            "total": _metrics(*totals)}  # fmt: skip


async def _grouped(
    session: AsyncSession, key: Any, start: datetime, end: datetime, segment_id: str | None
) -> list[Any]:
    """Sessions started in [start, end) summed per `key`: count, bounces, seconds, pages, converted, revenue."""
    query = select(
        key.label("key"),
        func.count().label("sessions"),
        func.sum(case((WebSession.page_views == 1, 1), else_=0)).label("bounces"),
        func.coalesce(func.sum(WebSession.duration_seconds), 0.0).label("seconds"),
        func.coalesce(func.sum(WebSession.page_views), 0).label("pages"),
        func.sum(case((WebSession.orders > 0, 1), else_=0), type_=Integer).label("converted"),
        func.coalesce(func.sum(WebSession.revenue), 0.0).label("revenue"),
    ).where(WebSession.started_at >= start, WebSession.started_at < end)
    if segment_id:
        member = and_(SegmentMember.profile_id == WebSession.profile_id, SegmentMember.segment_id == segment_id)
        query = query.join(SegmentMember, member)
    rows = (await session.execute(query.group_by(key).order_by(func.count().desc()))).all()
    return [(r.key, r.sessions, r.bounces or 0, r.seconds, r.pages, r.converted or 0, r.revenue) for r in rows]
