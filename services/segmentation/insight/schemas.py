"""Why a profile is (not) in a segment, and what the replica has seen: trait keys and values, event names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.segmentation.schemas import Freshness


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


class KeyCount(BaseModel):
    """A key and how many profiles of the sample have it, with a few example values."""

    key: str
    profiles: int
    examples: list[Any] = []


class TraitKeys(BaseModel):
    """Trait and computed-trait keys seen in a sample of the replica (most common first)."""

    traits: list[KeyCount]
    computed: list[KeyCount]
    sampled_profiles: int


class ValueCount(BaseModel):
    """A value of a trait and how many profiles of the sample have it."""

    value: Any
    profiles: int


class TraitValues(BaseModel):
    """The most common values of one trait in a sample of the replica."""

    key: str
    values: list[ValueCount]
    sampled_profiles: int


class NameCount(BaseModel):
    """An event name and how many profiles of the sample did it in the last 90 days."""

    name: str
    profiles: int


class EventNames(BaseModel):
    """Event names seen in a sample of the replica (most common first)."""

    names: list[NameCount]
    sampled_profiles: int


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


class ClvDistribution(BaseModel):
    """How CLV (capped at its 99th percentile, the rest in the last bin) and P(alive) spread over scored customers."""

    customers: int
    clv: list[Bin]
    p_alive: list[Bin]
    clv_total: float
    clv_mean: float | None


class TopCustomer(BaseModel):
    """A customer by CLV: the scores the last fit wrote and a display name from the traits, if any."""

    profile_id: str
    scores: dict[str, Any]
    name: str | None


class CohortRead(BaseModel):
    """Customers whose first order fell in `month`; `retained[k]`: the share of them ordering k months later."""

    month: str
    customers: int
    retained: list[float]


class ChurnRead(BaseModel):
    """Scored customers whose P(alive) is below `threshold`, and their share."""

    threshold: float
    scored: int
    churned: int
    share: float | None


class RetentionRead(BaseModel):
    """Retention by first-order month over every customer, or a segment's members, as of a day; with freshness."""

    segment_id: str | None
    as_of: date
    customers: int
    repeat_purchase_rate: float | None = Field(description="share of customers with orders on two days or more")
    cohorts: list[CohortRead]
    churn: ChurnRead
    freshness: Freshness
