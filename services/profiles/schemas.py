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
