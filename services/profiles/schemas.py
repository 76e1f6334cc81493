"""Request and response models of the profiles API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Channel = Literal["email", "ads", "analytics"]
ProfileId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MAX_TRAITS_BYTES = 32 * 1024  # what one tracked event may carry
MAX_TRAITS_DEPTH = 32


class IdentityRead(BaseModel):
    """An identifier pointing at the profile."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str


class ConsentRead(BaseModel):
    """Consent for one channel: the decision, where it came from and when."""

    granted: bool
    source: str
    at: datetime


class ProfileRead(BaseModel):
    """A profile: traits, computed traits, consent and identities."""

    id: str
    traits: dict[str, Any]
    computed: dict[str, Any]
    consent: dict[str, ConsentRead]
    first_seen_at: datetime
    last_seen_at: datetime
    identities: list[IdentityRead]


class ProfilePage(BaseModel):
    """One page of profiles and the cursor of the next."""

    items: list[ProfileRead]
    next_cursor: str | None


class CountRead(BaseModel):
    """How many there are."""

    count: int


class ProfileBatchRequest(BaseModel):
    """Profile ids to read at once."""

    model_config = ConfigDict(extra="forbid")

    ids: list[ProfileId] = Field(min_length=1, max_length=1000)


class ProfileBatchRead(BaseModel):
    """The profiles that exist, in the order asked; a merged-away id gives the profile it was merged into."""

    items: list[ProfileRead]


class TraitsPatch(BaseModel):
    """Traits to set by hand (they win over earlier events)."""

    model_config = ConfigDict(extra="forbid")

    traits: dict[str, Any] = Field(min_length=1)

    @field_validator("traits")
    @classmethod
    def _bounded(cls, traits: dict[str, Any]) -> dict[str, Any]:
        # Unbounded traits would be stored, then fail (or jam the outbox) when the profile is published.
        try:
            size = len(orjson.dumps(traits))
        except orjson.JSONEncodeError:  # orjson writes at most 254 levels
            size = None
        if size is not None and size > MAX_TRAITS_BYTES:
            raise ValueError(f"traits are larger than {MAX_TRAITS_BYTES} bytes")
        level: list[Any] = [traits]
        for _ in range(MAX_TRAITS_DEPTH):
            level = [c for v in level if isinstance(v, dict | list) for c in (v.values() if isinstance(v, dict) else v)]
        if size is None or any(isinstance(v, dict | list) for v in level):
            raise ValueError(f"traits nest deeper than {MAX_TRAITS_DEPTH} levels")
        return traits


class ConsentPut(BaseModel):
    """Consent decisions per channel."""

    model_config = ConfigDict(extra="forbid")

    email: bool | None = None
    ads: bool | None = None
    analytics: bool | None = None


class TimelineItem(BaseModel):
    """One interaction."""

    model_config = ConfigDict(from_attributes=True)

    message_id: str
    type: str
    name: str | None
    occurred_at: datetime
    session_id: str | None
    properties: dict[str, Any]
    context: dict[str, Any]


class TimelinePage(BaseModel):
    """Interactions newest first, and the cursor of the next (older) page."""

    items: list[TimelineItem]
    next_cursor: str | None


class MergeRead(BaseModel):
    """A merge: which profile was folded into which, why, and whether it was undone."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kept_id: str
    merged_id: str
    reason: str
    message_id: str | None
    moved_identities: list[list[str]]
    created_at: datetime
    undone_at: datetime | None


class ConflictRead(BaseModel):
    """An event that would have joined two known people; nothing was merged."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    message_id: str
    profile_ids: list[str]
    identities: list[list[str]]
    created_at: datetime


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
