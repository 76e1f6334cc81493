"""Segmentation's tables: the replica of profile features, segments and memberships, ML runs and score models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, Integer, String
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
    consent: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Written by scoring runs (RFM, CLV, clusterings), never by profile messages: rfm_segment, clv, p_alive …
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(BigInteger, default=0)  # profiles' version of what is held here
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProfileTombstone(Base):
    """A profile merged away (up to `version`) or erased (every version): older messages about it are ignored."""

    __tablename__ = "profile_tombstones"

    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class Clustering(Base):
    """An ML segmentation: which features, which method and k, its last run's result, and its schedule."""

    __tablename__ = "clusterings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    features: Mapped[list[str]] = mapped_column(JSONType)
    method: Mapped[str] = mapped_column(String(10))
    k: Mapped[int | None] = mapped_column(Integer)  # None: chosen by silhouette
    min_share: Mapped[float] = mapped_column(Float)
    segment_id: Mapped[str | None] = mapped_column(String(32))  # cluster only this segment's members
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | ready | error
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(100), default="queued")
    last_error: Mapped[str | None] = mapped_column(String(2000))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    rerun_every_hours: Mapped[float | None] = mapped_column(Float)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClusteringRun(Base):
    """One fit of a clustering: clusters (with their segment ids once published) and drift from the run before."""

    __tablename__ = "clustering_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clustering_id: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    profiles: Mapped[int] = mapped_column(Integer)
    k: Mapped[int] = mapped_column(Integer)
    silhouette: Mapped[float] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)  # clusters, k_scores, logged features
    drift: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class ClusterAssignment(Base):
    """The cluster of each profile in a clustering's latest run (what the next run's drift compares with)."""

    __tablename__ = "cluster_assignments"

    clustering_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)  # erasure and merges
    cluster: Mapped[int] = mapped_column(Integer)


class ClvModel(Base):
    """A BG/NBD + Gamma-Gamma fit: its settings, parameters and log-likelihoods, and its schedule."""

    __tablename__ = "clv_models"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    calibration_end: Mapped[datetime] = mapped_column(UTCDateTime)
    time_unit: Mapped[str] = mapped_column(String(10))
    horizon: Mapped[int] = mapped_column(Integer)
    discount_rate: Mapped[float] = mapped_column(Float)
    customers: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    rerun_every_hours: Mapped[float | None] = mapped_column(Float)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClvFit(Base):
    """A CLV fit job: what it was asked, its status and progress, and the model it made or the error that stopped it."""

    __tablename__ = "clv_fits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued | running | ready | error
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="queued")
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # {"status", "code", "message", "fields"}
    trigger: Mapped[str] = mapped_column(String(20))  # api | schedule
    calibration_end: Mapped[date] = mapped_column(Date)
    time_unit: Mapped[str] = mapped_column(String(10))
    horizon: Mapped[int] = mapped_column(Integer)
    discount_rate: Mapped[float] = mapped_column(Float)
    rerun_every_hours: Mapped[float | None] = mapped_column(Float)
    model_id: Mapped[str | None] = mapped_column(String(32))  # the ClvModel it made
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Setting(Base):
    """A service-wide setting edited over the API (e.g. the RFM segment map)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
