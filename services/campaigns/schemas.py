"""Request and response models of the campaigns API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from services.campaigns.attribution import MODELS
from services.campaigns.stats import LiftResult

AttributionModel = Literal["last_touch", "first_touch", "linear", "position_based", "time_decay"]
assert set(MODELS) == set(AttributionModel.__args__)  # type: ignore[attr-defined]


class VariantIn(BaseModel):
    """One version of the message: its share of the (non-holdout) audience and its templates (Jinja2)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    weight: float = Field(default=1.0, gt=0, le=1000)
    subject: str = Field(default="", max_length=1000)
    body: str = Field(default="", max_length=100_000)


class Schedule(BaseModel):
    """When to send: on launch, at a time, or to each profile as it enters a target segment."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["now", "at", "on_entry"] = "now"
    at: datetime | None = None

    @model_validator(mode="after")
    def _time_for_at(self) -> Schedule:
        if (self.type == "at") != (self.at is not None):
            raise ValueError("`at` is required with type 'at' and only then")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("`at` needs a time zone")
        return self


class FrequencyCap(BaseModel):
    """At most `max` sends of this channel per profile in `days` days, across campaigns."""

    model_config = ConfigDict(extra="forbid")

    max: int = Field(ge=1, le=1000)
    days: int = Field(ge=1, le=365)


class Attribution(BaseModel):
    """How conversions inside the window after a send are credited."""

    model_config = ConfigDict(extra="forbid")

    model: AttributionModel = "last_touch"
    window_days: int = Field(default=7, ge=1, le=90)


class AbTest(BaseModel):
    """Send to a test share first, wait, pick the best variant by `metric`, send it to the rest."""

    model_config = ConfigDict(extra="forbid")

    test_percent: float = Field(gt=0, lt=100)
    wait_hours: float = Field(ge=0, le=24 * 30)
    metric: Literal["open_rate", "click_rate", "conversion_rate"] = "click_rate"


class CampaignCreate(BaseModel):
    """A campaign (see README: Campaigns)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    channel: Literal["email", "audience_export", "webhook"] = "email"
    goal_event: str = Field(default="Order Completed", min_length=1, max_length=200)
    target_segments: list[str] = Field(min_length=1, max_length=20)
    exclude_segments: list[str] = Field(default_factory=list, max_length=20)
    variants: list[VariantIn] = Field(min_length=1, max_length=10)
    holdout_percent: float = Field(default=0.0, ge=0, le=90)
    schedule: Schedule = Field(default_factory=Schedule)
    frequency_cap: FrequencyCap | None = None
    attribution: Attribution = Field(default_factory=Attribution)
    ab_test: AbTest | None = None
    webhook_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CampaignCreate:
        if len({v.name for v in self.variants}) != len(self.variants):
            raise ValueError("variant names must differ")
        if self.ab_test is not None and (len(self.variants) < 2 or self.schedule.type == "on_entry"):
            raise ValueError("an A/B test needs two variants or more and a one-off schedule")
        if self.channel == "webhook" and self.webhook_url is None:
            raise ValueError("the webhook channel needs webhook_url")
        return self


class CampaignUpdate(BaseModel):
    """Fields to change while the campaign is a draft, scheduled or paused."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    goal_event: str | None = Field(default=None, min_length=1, max_length=200)
    target_segments: list[str] | None = Field(default=None, min_length=1, max_length=20)
    exclude_segments: list[str] | None = Field(default=None, max_length=20)
    variants: list[VariantIn] | None = Field(default=None, min_length=1, max_length=10)
    holdout_percent: float | None = Field(default=None, ge=0, le=90)
    schedule: Schedule | None = None
    frequency_cap: FrequencyCap | None = None
    attribution: Attribution | None = None
    webhook_url: HttpUrl | None = None


class CampaignRead(BaseModel):
    """A campaign with its status and progress (audience, processed, sent, held out, skipped, failed)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    status: str
    channel: str
    goal_event: str
    target_segments: list[str]
    exclude_segments: list[str]
    variants: list[dict[str, Any]]
    holdout_percent: float
    schedule: dict[str, Any]
    frequency_cap: dict[str, Any] | None
    attribution: dict[str, Any]
    ab_test: dict[str, Any] | None
    webhook_url: str | None
    progress: dict[str, Any]
    winner_variant_id: str | None
    last_error: str | None
    launched_at: datetime | None
    test_ends_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CampaignSummary(BaseModel):
    """A campaign's line in the list: figures summed over its variants, and its lift against the holdout (the
    relative lift of the conversion rate with its interval and p-value; null without a holdout or sends)."""

    id: str
    name: str
    status: str
    channel: str
    audience: int | None
    sent: int
    human_opens: int
    clicks: int
    conversions: int
    lift: dict[str, Any] | None
    last_error: str | None
    launched_at: datetime | None


class LinkClicks(BaseModel):
    """A link of a campaign's mail: clicks through tracking's redirect, and the people who clicked it."""

    url: str | None
    clicks: int
    people: int


class RetentionArm(BaseModel):
    """One arm in one window: members whose window has ended, those who ordered in it, and the share (null if none)."""

    users: int
    active: int
    rate: float | None


class RetentionWindow(BaseModel):
    """Members active (an order) within `days` after their send: figures over members whose window has ended;
    `elapsed` once every member's has (at `complete_at`)."""

    days: int
    elapsed: bool
    complete_at: datetime | None
    members: int
    measured: int
    targeted: RetentionArm
    holdout: RetentionArm
    difference: LiftResult | None  # targeted − holdout share, absolute; computable false (with why) without variance
    reason: str | None


class RetentionUplift(BaseModel):
    """A campaign's retention uplift: targeted vs held-out members active 30, 60 and 90 days after the send."""

    campaign_id: str
    order_event: str
    as_of: datetime
    sent_from: datetime | None
    sent_to: datetime | None
    windows: list[RetentionWindow]


class PerformanceGoal(BaseModel):
    """A segment's goal as segmentation holds it: a metric and its bounds (either may be open)."""

    metric: Literal["conversion_rate", "click_rate", "open_rate", "revenue_per_recipient"]
    min: float | None = None
    max: float | None = None


class CampaignPerformance(BaseModel):
    """What one campaign measured among the segment's members it sent to; `met` is null until it sent to any."""

    campaign_id: str
    name: str
    recipients: int
    value: float | None
    met: bool | None


class SegmentPerformance(BaseModel):
    """A segment with a goal and every non-draft campaign that targeted it; `met` is null until one measured."""

    segment_id: str
    name: str
    goal: PerformanceGoal
    campaigns: list[CampaignPerformance]
    met: bool | None


class SegmentsPerformance(BaseModel):
    """Every segment that has a goal, against what the campaigns measured."""

    segments: list[SegmentPerformance]


class ExposureRead(BaseModel):
    """What a campaign did to one profile."""

    profile_id: str
    outcome: str
    variant_id: str | None
    reason: str | None
    segment_id: str | None
    at: datetime


class ExposurePage(BaseModel):
    """A page of exposures; `next_cursor` is null on the last page."""

    items: list[ExposureRead]
    next_cursor: int | None


class ExportPush(BaseModel):
    """An audience export's push status: null (not pushed), `ok` or `failed` with the error."""

    id: str
    pushed: str | None
    push_error: str | None


class ExportRead(BaseModel):
    """An audience export: its size, what changed since the one before, and its push status."""

    id: str
    created_at: datetime
    rows: int
    added: int
    removed: int
    pushed: str | None
    push_error: str | None


class SegmentAudience(BaseModel):
    """How many profiles of a segment campaigns can target now."""

    segment_id: str
    size: int
