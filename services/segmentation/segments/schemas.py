"""Request and response models of rule segments: definitions, members, memberships, explanations, changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.segmentation.replica.schemas import Freshness


class SegmentGoal(BaseModel):
    """What a segment should achieve when targeted, e.g. a conversion rate of at least 3%."""

    model_config = ConfigDict(extra="forbid")

    metric: Literal["conversion_rate", "click_rate", "open_rate", "revenue_per_recipient"]
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> SegmentGoal:
        if self.min is None and self.max is None:
            raise ValueError("a goal needs min or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class SegmentCreate(BaseModel):
    """A rule segment: a JSON condition tree (see README)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    definition: dict[str, Any]
    goal: SegmentGoal | None = None


class SegmentUpdate(BaseModel):
    """Fields to change; a new definition rebuilds the segment."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    definition: dict[str, Any] | None = None
    goal: SegmentGoal | None = None


class SegmentRead(BaseModel):
    """A segment with its size and freshness: `status` is building, ready or error (with `last_error`)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    definition: dict[str, Any]
    kind: str
    goal: dict[str, Any] | None
    status: str
    size: int
    last_computed_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class PreviewRequest(BaseModel):
    """A definition to try without saving."""

    model_config = ConfigDict(extra="forbid")

    definition: dict[str, Any]
    sample_size: int = Field(default=20, ge=0, le=200)


class PreviewRead(BaseModel):
    """How many profiles match, and some of them."""

    count: int
    sample: list[str]


class MemberRead(BaseModel):
    """A member and since when."""

    model_config = ConfigDict(from_attributes=True)

    profile_id: str
    entered_at: datetime


class MembersPage(BaseModel):
    """One page of members and the cursor of the next."""

    items: list[MemberRead]
    next_cursor: str | None


class MembershipRead(BaseModel):
    """A segment a profile is in, since when."""

    model_config = ConfigDict(from_attributes=True)

    segment_id: str
    entered_at: datetime


class PastMembershipRead(BaseModel):
    """A membership that ended."""

    model_config = ConfigDict(from_attributes=True)

    segment_id: str
    entered_at: datetime
    exited_at: datetime


class ProfileSegments(BaseModel):
    """A profile's current and past memberships."""

    current: list[MembershipRead]
    past: list[PastMembershipRead]


class SizeRead(BaseModel):
    """A segment's size at a moment."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    size: int


class ExplainNode(BaseModel):
    """A node of the rule tree as evaluated for one profile; leaves carry the profile's actual value."""

    model_config = ConfigDict(from_attributes=True)

    path: str
    kind: str  # and | or | not | trait | computed | event | score | segment
    result: bool
    condition: dict[str, Any] | None = None
    actual: Any = None
    daily_counts: dict[str, int] | None = None  # behaviour leaves: the days inside the window
    count: float | None = None  # behaviour leaves: their sum, what the bound was tested against
    children: list[ExplainNode] = []


class ExplainRead(BaseModel):
    """`member`: in the segment now; `matches`: the rules hold now (they differ only until the next sweep)."""

    segment_id: str
    profile_id: str
    member: bool
    matches: bool
    as_of: datetime
    tree: ExplainNode


class MembershipChange(BaseModel):
    """A profile entering or leaving a segment."""

    segment_id: str
    profile_id: str
    change: str  # entered | exited
    at: datetime


class MembershipChanges(BaseModel):
    """Entries and exits, newest first, with the cursor of the next (older) page."""

    items: list[MembershipChange]
    next_cursor: str | None
    as_of: datetime


class Bin(BaseModel):
    """A histogram bin [low, high)."""

    low: float
    high: float
    count: int


class EngagementRead(BaseModel):
    """How the members' engagement scores, decayed to `as_of`, spread: quartiles, 90th percentile and a histogram (0
    to the 99th percentile, the rest in the last bin); null statistics when no member is scored."""

    scored_members: int
    mean: float | None
    median: float | None
    p25: float | None
    p75: float | None
    p90: float | None
    max: float | None
    bins: list[Bin]
    as_of: datetime


class SegmentReportRead(BaseModel):
    """What a marketing manager compares across segments, over the members now; with the replica's freshness."""

    segment_id: str
    name: str
    size: int
    status: str
    last_computed_at: datetime | None
    revenue: float
    revenue_per_customer: float | None
    orders: int
    average_order_value: float | None
    customers_with_orders: int
    conversion_rate: float | None = Field(description="share of members with an order")
    average_clv: float | None
    clv_scored_members: int
    average_sentiment: float | None
    email_consent_share: float | None
    engagement: EngagementRead
    freshness: Freshness
