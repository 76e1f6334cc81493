"""Request and response models of surveys and their satisfaction reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SurveyKind = Literal["csat", "nps", "ces"]


class SurveyCreate(BaseModel):
    """A one-question survey: CSAT (1–5), NPS (0–10) or CES (1–7), optionally asking for a comment."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: SurveyKind
    question: str = Field(min_length=1, max_length=300)
    ask_comment: bool = True
    product_id: str | None = Field(default=None, min_length=1, max_length=200)


class SurveyRead(BaseModel):
    """A survey as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: SurveyKind
    question: str
    ask_comment: bool
    product_id: str | None
    created_at: datetime


class ResponseRead(BaseModel):
    """One person's (latest) answer to a survey."""

    model_config = ConfigDict(from_attributes=True)

    profile_id: str
    score: int
    comment: str | None
    campaign_id: str | None
    product_id: str | None
    answered_at: datetime


class ScoreRead(BaseModel):
    """CSAT (% of 4–5), NPS (% promoters − % detractors) or CES (mean) with its 95 % interval; None without
    answers (and CES intervals need two)."""

    kind: SurveyKind
    responses: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    std_error: float | None
    promoters: float | None = None
    passives: float | None = None
    detractors: float | None = None
    satisfied: float | None = None


class GroupScore(ScoreRead):
    """The figure of one segment, campaign or product (None: answers outside any)."""

    key: str | None


class PeriodScore(ScoreRead):
    """The figure of one day, week (from Monday) or month."""

    period: date


class SurveyReport(BaseModel):
    """A survey's figure overall, per group and over time, and how fresh it is."""

    model_config = ConfigDict(populate_by_name=True)

    survey_id: str
    kind: SurveyKind
    start: datetime | None = Field(alias="from")
    end: datetime | None = Field(alias="to")
    by: Literal["segment", "campaign", "product", "none"]
    interval: Literal["day", "week", "month"]
    total: ScoreRead
    groups: list[GroupScore]
    trend: list[PeriodScore]
    last_answer_at: datetime | None
    computed_at: datetime


class BeforeAfter(BaseModel):
    """after − before (in points of the figure), its 95 % interval and Welch's two-sided test."""

    survey_id: str
    kind: SurveyKind
    split: datetime
    before: ScoreRead
    after: ScoreRead
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    std_error: float | None
    dof: float | None
    t_statistic: float | None
    p_value: float | None
    significant: bool
    computed_at: datetime


class SurveyLink(BaseModel):
    """The signed URL of a survey's hosted page for one person."""

    url: str
