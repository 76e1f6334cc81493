"""Request and response models of CLV: fits, models, validation, distribution, top customers and retention."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.segmentation.replica.schemas import Freshness
from services.segmentation.segments.schemas import Bin


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
