"""Segmentation's tables: the replica of profile features it evaluates segments on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JSONType, UTCDateTime, new_id, new_metadata, utcnow
from shared.inbox import inbox_table
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)
processed_messages = inbox_table(Base.metadata)


class ProfileFeatures(Base):
    """The traits and computed traits of one profile, as last published by profiles."""

    __tablename__ = "profile_features"

    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    traits: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    computed: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Segment(Base):
    """A rule segment: its definition, and whether its membership is current (never stale silently)."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
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
