"""Request and response models of the profiles API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class IdentityRead(BaseModel):
    """An identifier pointing at the profile."""

    kind: str
    value: str


class ProfileRead(BaseModel):
    """A profile with its identities."""

    id: str
    traits: dict[str, Any]
    event_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    identities: list[IdentityRead]
