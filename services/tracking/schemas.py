"""Request and response models of the tracking API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SourceCreate(BaseModel):
    """A new source: a website or system with its own write key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    anonymize_ip: bool = True
    trusted: bool = False


class SourceUpdate(BaseModel):
    """Changes to a source; fields left out (or null) stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    anonymize_ip: bool | None = None
    trusted: bool | None = None


class SourceRead(BaseModel):
    """A source as listed; the write key itself is never shown again."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    write_key_hint: str
    enabled: bool
    anonymize_ip: bool
    trusted: bool
    created_at: datetime
    rotated_at: datetime | None = None


class SourceWithKey(SourceRead):
    """A source just created or rotated, with its write key shown once."""

    write_key: str


class RejectedEvent(BaseModel):
    """One event of a batch that was refused, and why."""

    index: int
    field: str
    reason: str


class IngestResponse(BaseModel):
    """Segment's answer, plus the refused events of a mixed batch."""

    success: bool = True
    rejected: list[RejectedEvent] | None = None
