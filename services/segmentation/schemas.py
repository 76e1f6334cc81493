"""Request and response models of the segmentation API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FeaturesRead(BaseModel):
    """The features segmentation holds for one profile."""

    model_config = ConfigDict(from_attributes=True)

    profile_id: str
    traits: dict[str, Any]
    computed: dict[str, Any]
    updated_at: datetime


class SegmentCreate(BaseModel):
    """A rule segment: a JSON condition tree (see README)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    definition: dict[str, Any]


class SegmentUpdate(BaseModel):
    """Fields to change; a new definition rebuilds the segment."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    definition: dict[str, Any] | None = None


class SegmentRead(BaseModel):
    """A segment with its size and freshness: `status` is building, ready or error (with `last_error`)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    definition: dict[str, Any]
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
