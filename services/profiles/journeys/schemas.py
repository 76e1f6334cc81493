"""Request and response models of journeys: funnels, conversion paths, web analytics and social engagement."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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


class Period(BaseModel):
    """A report over [from, to)."""

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class SocialEngagementRead(Period):
    """Social engagement per segment and for everyone."""

    segments: list[SegmentEngagementRead]
    all: EngagementRead


class WebMetrics(BaseModel):
    """Sessions and what they did: bounce rate, average duration, pages per session, conversion and revenue."""

    sessions: int
    bounce_rate: float
    avg_session_seconds: float
    pages_per_session: float
    conversion_rate: float
    converted_sessions: int
    revenue: float


class WebGroup(WebMetrics):
    """One value of the grouping UTM field (`all` when not grouped, `(none)` for sessions without it)."""

    key: str


class WebDay(WebMetrics):
    """Sessions started on one day (UTC)."""

    day: str


class WebReportRead(Period):
    """Web analytics of sessions started in [from, to), optionally of a segment's members, grouped by a UTM field."""

    segment_id: str | None
    by: Literal["utm_source", "utm_medium", "utm_campaign", "none"]
    groups: list[WebGroup]
    daily: list[WebDay]
    total: WebMetrics
