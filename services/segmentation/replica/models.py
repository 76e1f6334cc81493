"""The feature replica's tables: each profile's features as profiles last published them, and tombstones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from services.segmentation.base import Base
from shared.db import JSONType, UTCDateTime


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
