"""Rule segments' tables: definitions, current and past memberships, size history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.segmentation.base import Base
from shared.db import JSONType, UTCDateTime, new_id, utcnow


class Segment(Base):
    """A rule segment: its definition, and whether its membership is current (never stale silently)."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    kind: Mapped[str] = mapped_column(String(20), default="rules")  # rules | cluster (members set by a clustering)
    goal: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # e.g. {"metric": "conversion_rate", "min": 0.03}
    status: Mapped[str] = mapped_column(String(20), default="building")  # building | ready | error
    size: Mapped[int] = mapped_column(Integer, default=0)
    last_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SegmentMembership(Base):
    """A profile currently in a segment, since when."""

    __tablename__ = "segment_memberships"

    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PastMembership(Base):
    """A membership that ended: who was in which segment, from when to when."""

    __tablename__ = "past_memberships"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    segment_id: Mapped[str] = mapped_column(String(32))
    profile_id: Mapped[str] = mapped_column(String(32), index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SegmentSize(Base):
    """A segment's size at a moment (after each backfill and sweep): its history."""

    __tablename__ = "segment_sizes"

    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
