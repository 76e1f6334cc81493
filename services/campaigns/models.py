"""Campaigns' tables: the replica of segment memberships it targets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, new_metadata
from shared.inbox import inbox_table
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)
processed_messages = inbox_table(Base.metadata)


class SegmentMember(Base):
    """A profile currently in a segment, as published by segmentation."""

    __tablename__ = "segment_members"

    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
