"""The feedback inbox's table: comments, mentions, reviews and survey answers with their sentiment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.profiles.models import Base
from shared.db import UTCDateTime, new_id


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
