"""Social analytics' tables: posts and their daily metrics, influencers, and what `tessera.events.v1` says about
them (UTM visits, coded conversions, brand mentions, contest entries, user content)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.campaigns.base import Base
from shared.db import JSONType, UTCDateTime, new_id, utcnow


class SocialPost(Base):
    """A post on a social network, ours or a competitor's, imported over REST or CSV (key: platform + post id)."""

    __tablename__ = "social_posts"

    platform: Mapped[str] = mapped_column(String(40), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    author: Mapped[str] = mapped_column(String(200), index=True)  # the account, lower case, without "@"
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    content_type: Mapped[str] = mapped_column(String(20))  # image | video | text | article | story
    text: Mapped[str | None] = mapped_column(Text)
    # The UTM campaign name the post's links carry (free text, `campaign` in the REST rows), not a campaign id.
    utm_campaign: Mapped[str | None] = mapped_column(String(200), index=True)
    influencer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    competitor: Mapped[bool] = mapped_column(Boolean, default=False)
    competitor_handle: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SocialPostMetric(Base):
    """What one post did on one day (daily values, summed over a period) and its account's followers that day."""

    __tablename__ = "social_post_metrics"

    platform: Mapped[str] = mapped_column(String(40), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    saves: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Influencer(Base):
    """An influencer we work with, and the referral codes and UTM campaigns that credit them."""

    __tablename__ = "influencers"
    __table_args__ = (UniqueConstraint("platform", "handle"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(40))
    handle: Mapped[str] = mapped_column(String(200))
    referral_codes: Mapped[list[str]] = mapped_column(JSONType)  # lower case
    utm_campaigns: Mapped[list[str]] = mapped_column(JSONType)  # lower case
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SocialVisit(Base):
    """A visit that landed with a UTM campaign: a session id, or else one person on one day (the natural key)."""

    __tablename__ = "social_visits"

    utm_campaign: Mapped[str] = mapped_column(String(200), primary_key=True)  # lower case
    session_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    person: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SocialConversion(Base):
    """A sign-up or order that carried a referral code (or coupon) or a UTM campaign, from `tessera.events.v1`."""

    __tablename__ = "social_conversions"

    message_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # shared.events.dedup_key
    kind: Mapped[str] = mapped_column(String(20))  # signup | order
    person: Mapped[str] = mapped_column(String(200))
    referral_code: Mapped[str | None] = mapped_column(String(200), index=True)  # lower case
    utm_campaign: Mapped[str | None] = mapped_column(String(200), index=True)  # lower case
    order_id: Mapped[str | None] = mapped_column(String(200))
    revenue: Mapped[float] = mapped_column(Float, default=0.0)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BrandMention(Base):
    """A `Brand Mentioned` event: which brand (lower case, without "@"), where and when."""

    __tablename__ = "brand_mentions"

    message_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # shared.events.dedup_key
    brand: Mapped[str] = mapped_column(String(200), index=True)
    platform: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ContestEntry(Base):
    """A `Contest Entered` event: who entered which contest."""

    __tablename__ = "contest_entries"

    message_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # shared.events.dedup_key
    contest_id: Mapped[str] = mapped_column(String(200), index=True)
    person: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserContent(Base):
    """A piece of user-generated content (`Content Submitted`), pending until a marketer approves or rejects it."""

    __tablename__ = "user_content"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)  # properties.content_id, else the message key
    contest_id: Mapped[str | None] = mapped_column(String(200), index=True)
    type: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(String(2000))
    person: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending | approved | rejected
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
