"""Imports' tables: CSV import jobs and the rows the consumer has applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.profiles.models import Base
from shared.db import JSONType, UTCDateTime, new_id, utcnow


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
