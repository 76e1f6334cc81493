"""Profiles' tables: profiles, identities, timeline, daily counts, merges, conflicts, segment replica; the sub-domains
(feedback, imports, journeys) keep theirs in their own `models.py` on the same metadata."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
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


class SegmentMember(Base):
    """Replica of `tessera.segments.v1`: who is in which segment (for segment-filtered reports)."""

    __tablename__ = "segment_members"

    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The sub-domains' tables share this metadata: importing them here lets migrations and drift checks see every table.
from services.profiles.feedback import models as _feedback  # noqa: E402, F401
from services.profiles.imports import models as _imports  # noqa: E402, F401
from services.profiles.journeys import models as _journeys  # noqa: E402, F401
