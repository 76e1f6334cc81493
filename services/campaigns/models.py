"""Campaigns' tables: campaigns, exposures (who was sent, held out or skipped), what recipients did afterwards,
the identities that tie later events to recipients, suppressions, audience exports, the membership replica and
surveys. Social analytics keeps its tables in `services.campaigns.social.models`, on the same metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns.base import Base, BigId, membership_changes, outbox, processed_messages
from services.campaigns.social import models as social_models
from shared.db import JSONType, UTCDateTime, new_id, utcnow

# Everything Alembic and the tests compare against the migrations: campaigns' own tables and social analytics'.
__all__ = ["Base", "membership_changes", "outbox", "processed_messages", "social_models"]


class SegmentMember(Base):
    """A profile currently in a segment, as published by segmentation."""

    __tablename__ = "segment_members"

    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A campaign: audience, channel, variants, holdout, schedule, caps, attribution, and where its run stands."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    # draft | scheduled | running | testing (A/B: waiting for the winner) | active (triggered) | paused | completed
    status: Mapped[str] = mapped_column(String(20), default="draft")
    channel: Mapped[str] = mapped_column(String(20))  # email | audience_export | webhook
    goal_event: Mapped[str] = mapped_column(String(200), default="Order Completed")
    target_segments: Mapped[list[str]] = mapped_column(JSONType)
    exclude_segments: Mapped[list[str]] = mapped_column(JSONType, default=list)
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # id, name, weight, subject, body
    holdout_percent: Mapped[float] = mapped_column(Float, default=0.0)
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"type": "now" | "at" | "on_entry", "at": …}
    frequency_cap: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # {"max": N, "days": D}
    attribution: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"model": …, "window_days": …}
    ab_test: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # {"test_percent", "wait_hours", "metric"}
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    progress: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    winner_variant_id: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(2000))
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    test_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exposure(Base):
    """What a campaign did to one profile: sent (variant), held out, skipped (reason), waiting for an A/B winner,
    or pending while its mail is in flight (a pending row left by a crash is never sent again)."""

    __tablename__ = "exposures"
    __table_args__ = (UniqueConstraint("campaign_id", "profile_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(32))
    profile_id: Mapped[str] = mapped_column(String(32), index=True)
    segment_id: Mapped[str | None] = mapped_column(String(32))  # the target segment the profile came through
    outcome: Mapped[str] = mapped_column(String(20))  # pending | sent | held_out | skipped | waiting | failed | unknown
    variant_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Interaction(Base):
    """An open, click or unsubscribe of a campaign's mail, from `tessera.events.v1` (deduplicated by message id)."""

    __tablename__ = "interactions"

    message_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # shared.events.dedup_key
    campaign_id: Mapped[str] = mapped_column(String(32), index=True)
    profile_id: Mapped[str] = mapped_column(String(32))
    variant_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))  # human_open | machine_open | click | unsubscribe
    url: Mapped[str | None] = mapped_column(String(2000))  # the link of a click
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Conversion(Base):
    """A goal event of a known recipient (sent or held out), from `tessera.events.v1`."""

    __tablename__ = "conversions"

    message_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # shared.events.dedup_key
    profile_id: Mapped[str] = mapped_column(String(32), index=True)
    event: Mapped[str] = mapped_column(String(200))
    revenue: Mapped[float] = mapped_column(Float, default=0.0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class KnownIdentity(Base):
    """An identifier of a profile a campaign reached, so its later events (orders by user id) are recognised."""

    __tablename__ = "known_identities"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), index=True)


class Suppression(Base):
    """An email address (by SHA-256) that must not be mailed: a permanent SMTP failure bounced it."""

    __tablename__ = "suppressions"

    email_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ErasedIdentity(Base):
    """An identity of a person erased with suppression, as a digest (`shared.events.identity_digest`): events that
    name it are not recorded (social visits, conversions, contest entries)."""

    __tablename__ = "erased_identities"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AudienceExport(Base):
    """One export of a campaign's audience as hashed identifiers, and what changed since the one before."""

    __tablename__ = "audience_exports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(String(32), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    rows: Mapped[list[list[str]]] = mapped_column(JSONType)  # [email hash, phone hash]
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[list[list[str]]] = mapped_column(JSONType)
    pushed: Mapped[str | None] = mapped_column(String(20))  # None | ok | failed
    push_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TriggerRequest(Base):
    """A profile that entered a triggered campaign's segment, waiting to be processed (at most once)."""

    __tablename__ = "trigger_requests"

    campaign_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    segment_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Survey(Base):
    """A one-question survey: CSAT (1–5), NPS (0–10) or CES (1–7), optionally asking for a comment."""

    __tablename__ = "surveys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # csat | nps | ces
    question: Mapped[str] = mapped_column(String(300))
    ask_comment: Mapped[bool] = mapped_column(Boolean, default=True)
    product_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyResponse(Base):
    """A person's answer to a survey: the last one they gave (by event time) replaces any earlier one."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "profile_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    survey_id: Mapped[str] = mapped_column(String(32), index=True)
    profile_id: Mapped[str] = mapped_column(String(32), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[str | None] = mapped_column(String(32), index=True)
    product_id: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(300))  # the event the answer came from (shared.events.dedup_key)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ProfileMerge(Base):
    """Copy of `profile.merged.v1`: `merged_id` now belongs to `profile_id` (until `undone`); `version` is the merged
    profile's version the message carried, so an older message never overwrites a newer one."""

    __tablename__ = "profile_merges"

    merged_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
