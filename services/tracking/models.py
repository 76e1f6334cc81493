"""Tracking's tables: sources with hashed write keys, and the durable spool."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, new_id, new_metadata, utcnow
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)


class Source(Base):
    """A website or system that sends events with its own write key."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    write_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    write_key_hint: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(default=True)
    anonymize_ip: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SpooledEvent(Base):
    """An accepted event the broker has not acknowledged yet; replayed in id order."""

    __tablename__ = "spooled_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(500))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
