"""Response models of a campaign's results: figures per arm, lifts against the holdout, tests between variants,
the sample-ratio check and attributed conversions (`results.campaign_results`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from services.campaigns.stats import BayesianResult, LiftResult


class ArmReport(BaseModel):
    """One arm's figures (a variant, the holdout, or a segment's treated or held-out share): rates over delivered
    mail, conversions over assigned users."""

    users: int
    sent: int
    failed: int
    human_opens: int
    machine_opens: int
    clicks: int
    unsubscribes: int
    conversions: int
    revenue: float
    delivered: int
    open_rate: float | None
    click_rate: float | None
    conversion_rate: float | None
    revenue_per_recipient: float | None


class VariantReport(ArmReport):
    """A variant's figures."""

    variant_id: str
    name: str


class NotComputable(BaseModel):
    """A figure that cannot be computed yet, and why."""

    computable: Literal[False]
    reason: str


class LiftPair(BaseModel):
    """A lift, relative and absolute."""

    relative: LiftResult
    absolute: LiftResult


class VersusHoldout(BaseModel):
    """Everyone sent to against the holdout: conversion rate and revenue per user, and what the campaign added."""

    conversion_rate: LiftPair
    revenue_per_user: LiftPair
    incremental_conversions: float
    incremental_revenue: float


class BetweenVariants(BaseModel):
    """A variant against the first (control): relative lift of the conversion rate, chance to beat it and risk."""

    control: str
    variant_id: str
    conversion_rate: LiftResult
    chance_to_beat_control: float
    risk: dict[str, float]
    bayesian: BayesianResult


class SampleRatio(BaseModel):
    """Whether the arms' sizes match the configured shares (a mismatch below p = 0.001)."""

    computable: Literal[True]
    arms: list[str]
    users: list[int]
    expected_shares: list[float]
    p_value: float
    mismatch: bool


class Attributed(BaseModel):
    """Conversions and revenue credited to the campaign by an attribution model."""

    model: str
    window_days: int
    conversions: float
    revenue: float


class ResultsBase(BaseModel):
    """What every form of a campaign's results states."""

    campaign_id: str
    goal_event: str
    attribution: dict[str, Any]
    sequential: bool


class VariantResults(ResultsBase):
    """Results per variant and the holdout (`by=variant`)."""

    by: Literal["variant"]
    variants: list[VariantReport]
    holdout: ArmReport | None
    versus_holdout: VersusHoldout | NotComputable | None
    between_variants: list[BetweenVariants]
    sample_ratio: SampleRatio | NotComputable
    attributed: Attributed


class SegmentResult(BaseModel):
    """One target segment: treated against held out, with the lift (or why it cannot be computed)."""

    segment_id: str
    treated: ArmReport
    holdout: ArmReport
    conversion_rate: LiftPair | None = None
    revenue_per_user: LiftPair | None = None
    incremental_conversions: float | None = None
    incremental_revenue: float | None = None
    computable: Literal[False] | None = None
    reason: str | None = None


class SegmentResults(ResultsBase):
    """Results per target segment (`by=segment`)."""

    by: Literal["segment"]
    segments: list[SegmentResult]


CampaignResults = Annotated[VariantResults | SegmentResults, Field(discriminator="by")]
