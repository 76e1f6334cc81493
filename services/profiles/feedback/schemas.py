"""Request and response models of the feedback inbox: items, responses, sentiment statistics and terms."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FeedbackRead(BaseModel):
    """A feedback item: who said what where, its sentiment, and whether it was answered."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    message_id: str
    profile_id: str  # the live profile (a merged-away author gives the profile it was merged into)
    event: str
    text: str
    platform: str | None
    product_id: str | None
    post_id: str | None
    rating: float | None
    compound: float | None
    label: Literal["positive", "negative", "neutral"] | None
    status: Literal["open", "responded", "closed"]
    received_at: datetime
    responded_at: datetime | None


class FeedbackPage(BaseModel):
    """Feedback items newest first, and the cursor of the next (older) page."""

    items: list[FeedbackRead]
    next_cursor: str | None


class FeedbackRespond(BaseModel):
    """An answer to a feedback item: when (default now) and whether it also closes the item."""

    model_config = ConfigDict(extra="forbid")

    close: bool = False
    responded_at: datetime | None = None


class SentimentCount(BaseModel):
    """How many scored items carry a label, and their share of the scored items."""

    count: int
    share: float | None


class SentimentCounts(BaseModel):
    """Each sentiment label's count and share."""

    positive: SentimentCount
    negative: SentimentCount
    neutral: SentimentCount


class FeedbackDay(BaseModel):
    """Items received on a day (UTC) and their mean compound score."""

    day: str
    count: int
    mean_compound: float | None


class FeedbackSummary(BaseModel):
    """Response times (hours), the sentiment distribution and the daily trend of a set of feedback items."""

    items: int
    answered: int
    response_rate: float | None
    mean_response_hours: float | None
    median_response_hours: float | None
    answered_within_1h: float | None
    answered_within_24h: float | None
    scored: int
    mean_compound: float | None
    sentiment: SentimentCounts
    daily: list[FeedbackDay]


class FeedbackGroup(FeedbackSummary):
    """The summary of one segment, product or platform (null: items without one)."""

    key: str | None


class FeedbackStats(BaseModel):
    """The feedback report of a window, in total and per group (none when `by` is `none`)."""

    start: datetime | None = Field(alias="from")
    end: datetime | None = Field(alias="to")
    by: Literal["segment", "product", "platform", "none"]
    total: FeedbackSummary
    groups: list[FeedbackGroup]


class TermCount(BaseModel):
    """A word or word pair and how many texts use it."""

    term: str
    count: int


class ProductTerms(BaseModel):
    """A product's negative items and the terms they use most (product null: items naming no product)."""

    product_id: str | None
    negative_items: int
    terms: list[TermCount]


class NegativeTermsRead(BaseModel):
    """Per product, the terms negative feedback uses most; products with the most negative items first."""

    products: list[ProductTerms]
