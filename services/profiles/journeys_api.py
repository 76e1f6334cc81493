"""Profiles' HTTP API: journeys (funnels, conversion paths) and the social-engagement report; analysts may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.profiles.journeys import Step, conversion_paths, funnel, social_engagement
from shared.auth import require_role
from shared.deps import SessionDep
from shared.errors import Invalid

# Every route here only reads; the funnel is a POST because its steps do not fit a URL, so analysts may run it.
router = APIRouter(prefix="/v1", tags=["journeys"], dependencies=[Depends(require_role("analyst"))])
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refused here rather than failing in the database
EventName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
PagePath = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NO_NUL)]


class FunnelStepIn(BaseModel):
    """A step: `{"event": "Product Viewed"}` or `{"page": "/checkout"}`."""

    model_config = ConfigDict(extra="forbid")

    event: EventName | None = None
    page: PagePath | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> FunnelStepIn:
        if (self.event is None) == (self.page is None):
            raise ValueError("give exactly one of `event` or `page`")
        return self


class FunnelRequest(BaseModel):
    """An ordered funnel: 2-10 steps, each within `window_hours` of the first, optionally for a segment."""

    model_config = ConfigDict(extra="forbid")

    steps: list[FunnelStepIn] = Field(min_length=2, max_length=10)
    window_hours: int = Field(72, ge=1, le=2160)
    start: datetime | None = Field(None, alias="from")
    end: datetime | None = Field(None, alias="to")
    segment_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)] | None = None


class FunnelStepRead(BaseModel):
    """People who reached a step, and the share of the previous step's and the first step's people."""

    step: int
    event: str | None
    page: str | None
    people: int
    conversion_from_previous: float | None
    conversion_from_first: float


class FunnelRead(BaseModel):
    """A funnel's steps and its overall conversion (last step / first step)."""

    start: datetime | None = Field(alias="from")
    end: datetime | None = Field(alias="to")
    window_hours: float
    segment_id: str | None
    steps: list[FunnelStepRead]
    overall_conversion: float


class PathRead(BaseModel):
    """A channel sequence and how many converting people followed it (share of all converting people)."""

    path: list[str]
    people: int
    share: float


class PathsRead(BaseModel):
    """The commonest paths to a conversion."""

    conversion: str
    start: datetime | None = Field(alias="from")
    end: datetime | None = Field(alias="to")
    lookback_days: float
    converting_people: int
    without_touchpoints: int
    paths: list[PathRead]


class EngagementRead(BaseModel):
    """Social engagement of a group of people."""

    people: int
    engaged_people: int
    likes: int
    comments: int
    shares: int
    ad_clicks: int
    engagement_rate: float


class SegmentEngagementRead(EngagementRead):
    """Social engagement of a segment's current members."""

    segment_id: str


class SocialEngagementRead(BaseModel):
    """Social engagement per segment and for everyone."""

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    segments: list[SegmentEngagementRead]
    all: EngagementRead


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


@router.get("/reports/social-engagement", response_model=SocialEngagementRead)
async def get_social_engagement(
    session: SessionDep,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
) -> SocialEngagementRead:
    """Likes, comments, shares and ad clicks per segment and for everyone, with the share of people engaged."""
    start, end = _utc(start, "from"), _utc(end, "to")
    _ordered(start, end)
    result = await social_engagement(session, start=start, end=end)
    return SocialEngagementRead.model_validate(result)
