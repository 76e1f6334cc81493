"""Clusterings' tables: their settings and schedule, each run's result and drift, each profile's cluster."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.segmentation.base import Base
from shared.db import JSONType, UTCDateTime, new_id, utcnow


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
