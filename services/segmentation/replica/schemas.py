"""Response models of the feature replica: a profile's features and scores, what it has seen, how fresh it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class FeaturesRead(BaseModel):
    """The features segmentation holds for one profile."""

    model_config = ConfigDict(from_attributes=True)

    profile_id: str
    traits: dict[str, Any]
    computed: dict[str, Any]
    consent: dict[str, Any]
    scores: dict[str, Any]
    updated_at: datetime


class Freshness(BaseModel):
    """What a result was computed on: the newest profile change in the replica, and how many changes were still on
    their way (this replica's consumer lag plus what profiles had not passed on; null when it could not be told)."""

    as_of: datetime | None
    lag: int | None
    replica_lag: int | None
    upstream_pending: int | None
    checked_at: datetime


class KeyCount(BaseModel):
    """A key and how many profiles of the sample have it, with a few example values."""

    key: str
    profiles: int
    examples: list[Any] = []


class TraitKeys(BaseModel):
    """Trait and computed-trait keys seen in a sample of the replica (most common first)."""

    traits: list[KeyCount]
    computed: list[KeyCount]
    sampled_profiles: int


class ValueCount(BaseModel):
    """A value of a trait and how many profiles of the sample have it."""

    value: Any
    profiles: int


class TraitValues(BaseModel):
    """The most common values of one trait in a sample of the replica."""

    key: str
    values: list[ValueCount]
    sampled_profiles: int


class NameCount(BaseModel):
    """An event name and how many profiles of the sample did it in the last 90 days."""

    name: str
    profiles: int


class EventNames(BaseModel):
    """Event names seen in a sample of the replica (most common first)."""

    names: list[NameCount]
    sampled_profiles: int


class ProfileScoresRead(BaseModel):
    """A profile's scores: RFM, CLV, P(alive), expected purchases, cluster segments (each key written by its run)."""

    profile_id: str
    scores: dict[str, Any]
