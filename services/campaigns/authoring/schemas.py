"""Request and response models of campaign authoring: audience size, pre-flight, preview and test mail."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

Ids = list[str]


class AudienceQuery(BaseModel):
    """Target and exclusion segments, as a campaign names them."""

    model_config = ConfigDict(extra="forbid")

    target_segments: Ids = Field(max_length=50)
    exclude_segments: Ids = Field(default_factory=list, max_length=50)


class AudienceSize(BaseModel):
    """Profiles in a target segment and in no exclusion segment now."""

    size: int


class VariantPlan(BaseModel):
    """How many a variant would be sent to."""

    variant_id: str
    name: str
    recipients: int


class Preflight(BaseModel):
    """What launching now would do: who is skipped and why, held out, waiting for an A/B winner, sent each variant
    (computed by the launch's own eligibility and assignment on the same audience and contact data)."""

    audience: int
    already_exposed: int
    skipped: dict[str, int]
    held_out: int
    waiting: int
    variants: list[VariantPlan]
    sendable: int
    checked_at: datetime


class PreviewRequest(BaseModel):
    """A variant's templates and the audience member to render them for."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(default="", max_length=1000)
    body: str = Field(default="", max_length=100_000)
    profile_id: str = Field(min_length=1, max_length=64)
    campaign_id: str | None = Field(default=None, max_length=32)


class PreviewRead(BaseModel):
    """The mail as it will be sent: subject, HTML with tracked links, open pixel and unsubscribe link, plain text."""

    profile_id: str
    subject: str
    html: str
    text: str
    unsubscribe_url: str


class TestSend(BaseModel):
    """Send one variant, as rendered for an audience member, to an address (marked as a test, counted nowhere)."""

    model_config = ConfigDict(extra="forbid")

    variant_id: str = Field(min_length=1, max_length=32)
    profile_id: str = Field(min_length=1, max_length=64)
    to: EmailStr


class TestSent(BaseModel):
    """Where the test mail went."""

    sent_to: str
