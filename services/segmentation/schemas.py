"""Request and response models of the segmentation API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FeaturesRead(BaseModel):
    """The features segmentation holds for one profile."""

    model_config = ConfigDict(from_attributes=True)

    profile_id: str
    traits: dict[str, Any]
    computed: dict[str, Any]
    consent: dict[str, Any]
    scores: dict[str, Any]
    updated_at: datetime


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


class ClusteringCreate(BaseModel):
    """An ML segmentation: features (computed traits such as `orders`, `traits.age`, `scores.clv`, or the derived
    `days_since_last_order`, `days_since_last_visit`, `tenure_days`), `kmeans` or `gmm`, and k or "auto"."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=150)
    features: list[str] = Field(min_length=1, max_length=30)
    method: Literal["kmeans", "gmm"] = "kmeans"
    k: int | Literal["auto"] = "auto"
    min_share: float = Field(default=0.02, ge=0, le=0.5)
    segment_id: str | None = Field(default=None, description="cluster only the members of this segment")
    rerun_every_hours: float | None = Field(default=None, gt=0, le=24 * 366)

    @model_validator(mode="after")
    def _k_in_range(self) -> ClusteringCreate:
        if self.k != "auto" and not 2 <= self.k <= 50:
            raise ValueError("k must be 'auto' or a whole number from 2 to 50")
        if len(set(self.features)) != len(self.features):
            raise ValueError("features must not repeat")
        return self


class ClusteringUpdate(BaseModel):
    """Rename a clustering or change its schedule."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=150)
    rerun_every_hours: float | None = Field(default=None, gt=0, le=24 * 366)


class ClusteringRead(BaseModel):
    """A clustering, its job status (`queued`, `running`, `ready`, `error`) and its latest result."""

    id: str
    name: str
    features: list[str]
    method: str
    k: int | Literal["auto"]
    min_share: float
    segment_id: str | None
    status: str
    progress: float
    stage: str
    last_error: str | None
    published: bool
    rerun_every_hours: float | None
    next_run_at: datetime | None
    created_at: datetime
    latest_run: dict[str, Any] | None


class ClvFitRequest(BaseModel):
    """Fit BG/NBD + Gamma-Gamma on orders up to `calibration_end`; score each customer over `horizon` units."""

    model_config = ConfigDict(extra="forbid")

    calibration_end: date | None = Field(default=None, description="default: today")
    time_unit: Literal["days", "weeks"] = "weeks"
    horizon: int = Field(default=52, ge=1, le=520)
    discount_rate: float = Field(default=0.0, ge=0, lt=1, description="per time unit")
    rerun_every_hours: float | None = Field(default=None, gt=0, le=24 * 366)


class BgNbdRead(BaseModel):
    """BG/NBD parameters (Fader, Hardie & Lee 2005), the maximised log-likelihood, and any parameter whose maximum
    lies on the model's boundary (held at e^±12 of the data's scale, standing for the limit)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float | None
    boundary: list[str] = Field(
        default=[], description="parameters whose maximum lies at 0 or infinity (e.g. 'p → ∞'): a limit of the model"
    )


class GammaGammaRead(BaseModel):
    """Gamma-Gamma parameters (Fader & Hardie 2013), the maximised log-likelihood, the repeat customers it was fitted
    on and those it left out, with why (null for models kept before exclusions were counted)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float | None
    customers: int | None = Field(default=None, description="repeat customers with a positive mean spend")
    excluded: int | None = Field(default=None, description="repeat customers whose repeat orders are worth 0")
    excluded_reason: str | None = None
    boundary: list[str] = Field(
        default=[], description="parameters whose maximum lies at 0 or infinity (e.g. 'p → ∞'): a limit of the model"
    )


class Freshness(BaseModel):
    """What a result was computed on: the newest profile change in the replica, and how many changes were still on
    their way (this replica's consumer lag plus what profiles had not passed on; null when it could not be told)."""

    as_of: datetime | None
    lag: int | None
    replica_lag: int | None
    upstream_pending: int | None
    checked_at: datetime


class ClvModelRead(BaseModel):
    """A fitted CLV model: settings, parameters, log-likelihoods, customers scored, schedule and freshness."""

    id: str
    calibration_end: date
    time_unit: str
    horizon: int
    discount_rate: float
    customers: int
    repeat_customers: int | None
    bgnbd: BgNbdRead
    gamma_gamma: GammaGammaRead
    rerun_every_hours: float | None
    next_run_at: datetime | None
    created_at: datetime
    freshness: Freshness | None = None


class HoldoutBucketRead(BaseModel):
    """Customers with this many calibration repeat purchases ("7+": 7 or more): mean holdout repeat purchases per
    customer, as the fit expected them and as they were made."""

    purchases: str
    customers: int
    expected: float
    actual: float


class ClvValidationRead(BaseModel):
    """BG/NBD fitted on orders up to `calibration_end`, checked on the holdout up to `holdout_end`."""

    calibration_end: date
    holdout_end: date
    time_unit: str
    holdout_length: float = Field(description="in `time_unit`")
    customers: int = Field(description="customers with an order in the calibration period")
    bgnbd: BgNbdRead
    expected_total: float = Field(description="repeat purchases the fit expects in the holdout, all customers")
    actual_total: int = Field(description="repeat purchases (distinct order days) made in the holdout")
    buckets: list[HoldoutBucketRead]
    freshness: Freshness


class JobError(BaseModel):
    """Why a job stopped, in the API's error shape, with the HTTP status a request doing the same would have had."""

    status: int
    code: str
    message: str
    fields: list[dict[str, str]]


class ClvFitRead(BaseModel):
    """A CLV fit job: `status` queued, running, ready or error; `progress` (0 to 1) and `stage`; the `model` it made
    once ready, or the `error` that stopped it (422: the data cannot support a fit; 409: no maximum was found)."""

    id: str
    status: str
    progress: float
    stage: str
    error: JobError | None
    trigger: Literal["api", "schedule"]
    calibration_end: date
    time_unit: str
    horizon: int
    discount_rate: float
    rerun_every_hours: float | None
    model_id: str | None
    model: ClvModelRead | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RfmCell(BaseModel):
    """One cell of the RFM segment map: R score and combined FM score → segment name."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(ge=1, le=5)
    fm: int = Field(ge=1, le=5)
    name: str = Field(min_length=1, max_length=60)


class RfmMap(BaseModel):
    """The RFM segment map; cells left out name their customers "Other"."""

    model_config = ConfigDict(extra="forbid")

    cells: list[RfmCell] = Field(min_length=1, max_length=25)

    @model_validator(mode="after")
    def _unique_cells(self) -> RfmMap:
        if len({(c.r, c.fm) for c in self.cells}) != len(self.cells):
            raise ValueError("each (r, fm) cell may appear once")
        return self
