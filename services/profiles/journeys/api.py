"""Profiles' HTTP API: journeys (funnels, conversion paths) and the social-engagement report; analysts may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.profiles.journeys.schemas import (
    NO_NUL,
    FunnelRead,
    FunnelRequest,
    PathsRead,
    SocialEngagementRead,
    WebReportRead,
)
from services.profiles.journeys.service import Step, conversion_paths, funnel, social_engagement
from services.profiles.journeys.web_report import GroupBy, web_report
from shared.auth import require_role
from shared.deps import SessionDep
from shared.errors import Invalid

# Every route here only reads; the funnel is a POST because its steps do not fit a URL, so analysts may run it.
router = APIRouter(prefix="/v1", tags=["journeys"], dependencies=[Depends(require_role("analyst"))])


def _utc(value: datetime, field: str) -> datetime:
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise Invalid(f"`{field}` is out of range.", fields=[{"field": field, "reason": "out of range"}]) from None


def _range(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """`from` and `to` in UTC (naive means UTC); `to` must be after `from`."""
    start, end = start and _utc(start, "from"), end and _utc(end, "to")
    if start is not None and end is not None:
        _ordered(start, end)
    return start, end


def _ordered(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid("`to` must be after `from`.", fields=[{"field": "to", "reason": "not after from"}])


@router.post("/journeys/funnel", response_model=FunnelRead)
async def run_funnel(body: FunnelRequest, session: SessionDep) -> FunnelRead:
    """People at each step of an ordered funnel and the conversion between steps."""
    start, end = _range(body.start, body.end)
    steps = [Step(event=s.event, page=s.page) for s in body.steps]
    result = await funnel(session, steps, window=timedelta(hours=body.window_hours), start=start, end=end,
                          segment_id=body.segment_id)  # fmt: skip
    return FunnelRead.model_validate(result)


@router.get("/journeys/paths", response_model=PathsRead)
async def get_paths(
    session: SessionDep,
    conversion: Annotated[str, Query(min_length=1, max_length=200, pattern=NO_NUL)] = "Order Completed",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    max_length: Annotated[int, Query(ge=1, le=20)] = 5,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    lookback_days: Annotated[int, Query(ge=1, le=90)] = 30,
) -> PathsRead:
    """The commonest channel sequences (email, social, ads, influencer, web) leading to a conversion."""
    start, end = _range(start, end)
    result = await conversion_paths(session, conversion, start=start, end=end, lookback=timedelta(days=lookback_days),
                                    max_length=max_length, limit=limit)  # fmt: skip
    return PathsRead.model_validate(result)


def _required_range(
    start: Annotated[datetime, Query(alias="from")], end: Annotated[datetime, Query(alias="to")]
) -> tuple[datetime, datetime]:
    """A report's `from` and `to` in UTC (naive means UTC); `to` must be after `from`."""
    start, end = _utc(start, "from"), _utc(end, "to")
    _ordered(start, end)
    return start, end


Period = Annotated[tuple[datetime, datetime], Depends(_required_range)]


@router.get("/reports/social-engagement", response_model=SocialEngagementRead)
async def get_social_engagement(session: SessionDep, period: Period) -> SocialEngagementRead:
    """Likes, comments, shares and ad clicks per segment and for everyone, with the share of people engaged."""
    start, end = period
    return SocialEngagementRead.model_validate(await social_engagement(session, start=start, end=end))


@router.get("/reports/web", response_model=WebReportRead)
async def get_web_report(
    session: SessionDep, period: Period, segment_id: str | None = None, by: GroupBy = "none"
) -> WebReportRead:
    """Sessions, bounce rate, average duration, pages per session, conversion rate and revenue."""
    start, end = period
    return WebReportRead.model_validate(await web_report(session, start=start, end=end, segment_id=segment_id, by=by))
