"""CLV's tables: fitted models (with their schedule) and fit jobs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.segmentation.base import Base
from shared.db import JSONType, UTCDateTime, new_id, utcnow


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
