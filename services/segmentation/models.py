"""Segmentation's tables: the replica of profile features it evaluates segments on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JSONType, UTCDateTime, new_metadata
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
