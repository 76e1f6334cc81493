"""Profiles' tables: profiles, identities, timeline, daily counts, sessions, merges, conflicts, imports, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JSONType, UTCDateTime, new_id, new_metadata, utcnow
from shared.inbox import inbox_table
from shared.membership import membership_changes_table
from shared.outbox import outbox_table

AutoId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)
processed_messages = inbox_table(Base.metadata)
membership_changes = membership_changes_table(Base.metadata)


class Profile(Base):
    """One customer; `merged_into` is set on a profile folded into another (kept for undo)."""

    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    traits: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    trait_times: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # trait → event time that set it
    computed: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    consent: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # channel → {granted, source, at}
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merged_into: Mapped[str | None] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)  # +1 with every write; published with the profile
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Identity(Base):
    """An identifier (anonymous id, user id, email, phone, external id) that points at a profile."""

    __tablename__ = "identities"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelineEvent(Base):
    """One interaction; `home_profile_id` is the profile it first belonged to (so a merge can be undone)."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_profile_time", "profile_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)  # shared.events.dedup_key
    profile_id: Mapped[str] = mapped_column(String(32))
    home_profile_id: Mapped[str] = mapped_column(String(32))  # undo filters by profile_id first: no index needed
    type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    session_id: Mapped[str | None] = mapped_column(String(32))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class EventCount(Base):
    """How often a profile did an event on a day: exact "in the last N days" counts."""

    __tablename__ = "event_counts"

    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Session(Base):
    """A visit: events with no gap over 30 minutes."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), index=True)
    home_profile_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    page_views: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    orders: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[float] = mapped_column(Float, default=0.0)


class Merge(Base):
    """A profile folded into another: what moved where, and what is needed to undo it."""

    __tablename__ = "merges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kept_id: Mapped[str] = mapped_column(String(32), index=True)
    merged_id: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(50))
    message_id: Mapped[str | None] = mapped_column(String(200))
    moved_identities: Mapped[list[list[str]]] = mapped_column(JSONType, default=list)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # the merged profile before
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityConflict(Base):
    """An event that would have joined two profiles with different user ids: not merged, recorded."""

    __tablename__ = "identity_conflicts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(String(200))
    profile_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    identities: Mapped[list[list[str]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ErasedIdentity(Base):
    """An identity of an erased person, kept as a digest only (`shared.events.identity_digest`): events naming it
    are dropped when `suppress`, else the person who comes back starts with every channel opted out."""

    __tablename__ = "erased_identities"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    suppress: Mapped[bool] = mapped_column(default=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ImportJob(Base):
    """A CSV import of customers or orders, with progress and the rows it refused; `status` is running (publishing),
    published (every accepted row on the event stream), done (every one of them applied to profiles) or failed."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportRowApplied(Base):
    """An imported row the consumer applied (once, whatever redeliveries): a job is done when all are applied."""

    __tablename__ = "import_rows_applied"

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_key: Mapped[str] = mapped_column(String(300), primary_key=True)


class SegmentMember(Base):
    """Replica of `tessera.segments.v1`: who is in which segment (for segment-filtered reports)."""

    __tablename__ = "segment_members"

    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedbackItem(Base):
    """A comment, mention, review or survey answer with its sentiment, answered or not.

    `profile_id` is the profile the event first belonged to: readers follow `merged_into`, and erasing the
    profile deletes the item with it."""

    __tablename__ = "feedback_items"
    __table_args__ = (Index("ix_feedback_items_received_id", "received_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)  # shared.events.dedup_key
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text, default="")
    platform: Mapped[str | None] = mapped_column(String(100))
    product_id: Mapped[str | None] = mapped_column(String(200), index=True)
    post_id: Mapped[str | None] = mapped_column(String(200))
    rating: Mapped[float | None] = mapped_column(Float)
    compound: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="open")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
