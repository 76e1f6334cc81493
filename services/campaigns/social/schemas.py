"""Request and response models of campaigns' social API: import rows, influencers, user content."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

ContentType = Literal["image", "video", "text", "article", "story"]
ReviewStatus = Literal["approved", "rejected"]
ContentStatus = Literal["pending", "approved", "rejected"]
EARLIEST, LATEST = 1990, 2200
MAX_COUNT = 10**15


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _handle(value: str) -> str:
    """An account name as stored: lower case, without a leading "@"."""
    handle = value.lstrip("@").strip().lower()
    if not handle:
        raise ValueError("is empty")
    return handle


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _aware(value: datetime) -> datetime:
    """A time with a zone (UTC assumed when none is given) in the years social data can have."""
    if not EARLIEST <= value.year <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(value: date) -> date:
    if not EARLIEST <= value.year <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_no_nul)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_nul)]
Handle = Annotated[Name, AfterValidator(_handle)]
Code = Annotated[Name, AfterValidator(str.lower)]
SocialNetwork = Annotated[
    str, BeforeValidator(_lower), StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9_.\-]+$")
]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class PostRow(BaseModel):
    """One post: ours, or a competitor's (`competitor` true, `competitor_handle` defaulting to the author)."""

    model_config = ConfigDict(extra="ignore")

    platform: SocialNetwork
    post_id: Name
    author: Handle
    published_at: Annotated[datetime, AfterValidator(_aware)]
    content_type: Annotated[ContentType, BeforeValidator(_lower)]
    text: Annotated[Text, Field(max_length=10_000)] | None = None
    campaign: Name | None = None
    influencer_id: Annotated[Name, Field(max_length=32)] | None = None
    competitor: bool = False
    competitor_handle: Handle | None = None


class MetricRow(BaseModel):
    """What a post did on one day (daily values, not running totals) and its account's followers that day."""

    model_config = ConfigDict(extra="ignore")

    platform: SocialNetwork
    post_id: Name
    date: Annotated[date, AfterValidator(_day)]
    impressions: Count = 0
    reach: Count = 0
    likes: Count = 0
    comments: Count = 0
    shares: Count = 0
    saves: Count = 0
    clicks: Count = 0
    followers: Count | None = None


class RowError(BaseModel):
    """A refused row: its line (CSV: the file's line, header = 1; JSON: the list index), the field and why."""

    line: int
    field: str
    reason: str


class ImportResult(BaseModel):
    """How many rows were stored, and every refused row with the reason."""

    accepted: int
    rejected: list[RowError]


class InfluencerCreate(BaseModel):
    """An influencer, and the referral codes (or coupons) and UTM campaigns that credit them (case-insensitive)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    platform: SocialNetwork
    handle: Handle
    referral_codes: list[Code] = Field(default_factory=list, max_length=100)
    utm_campaigns: list[Code] = Field(default_factory=list, max_length=100)


class InfluencerRead(BaseModel):
    """An influencer as stored (codes and campaigns in lower case)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    platform: str
    handle: str
    referral_codes: list[str]
    utm_campaigns: list[str]
    created_at: datetime


class ContentRead(BaseModel):
    """A piece of user-generated content and where its review stands."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contest_id: str | None
    type: str | None
    url: str | None
    person: str
    status: str
    submitted_at: datetime
    reviewed_at: datetime | None


class ContentPage(BaseModel):
    """A page of user-generated content, newest first."""

    items: list[ContentRead]
    next_offset: int | None


class ContentReview(BaseModel):
    """A marketer's decision on a piece of user-generated content."""

    model_config = ConfigDict(extra="forbid")

    status: ReviewStatus


class PeriodBounds(BaseModel):
    """The days a report covers (`from`, `to`: ISO dates, either open)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from")
    to: str | None


class PostCounts(BaseModel):
    """Summed daily metrics of some posts."""

    impressions: int
    reach: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int


class SocialTotals(PostCounts):
    """Summed metrics of some posts and their rates (null when there is nothing to divide by)."""

    posts: int
    followers: int
    engagements: int
    ctr: float | None
    engagement_rate_by_reach: float | None
    engagement_rate_by_impressions: float | None
    engagement_rate_by_followers: float | None
    amplification_rate: float | None
    virality_rate: float | None


class DailyEngagement(PostCounts):
    """Our posts' figures on one day."""

    date: str
    engagements: int
    ctr: float | None
    engagement_rate_by_reach: float | None
    engagement_rate_by_impressions: float | None
    virality_rate: float | None


class TopPost(BaseModel):
    """One of the best posts by engagement rate by reach, with the start of its text."""

    platform: str
    post_id: str
    content_type: str
    campaign: str | None
    text: str
    reach: int
    engagements: int
    engagement_rate_by_reach: float | None


class EngagementReport(PeriodBounds):
    """Engagement per group (a group's figures, or profiles' figures of a segment for `by=segment`), in total,
    day by day, and the top content."""

    by: Literal["post", "content_type", "platform", "campaign", "segment"]
    engagement: dict[str, str]
    groups: list[dict[str, Any]]  # Totals.report() and the key; `by=segment`: profiles' rows as profiles gives them
    total: dict[str, Any] | None
    daily: list[DailyEngagement]
    top_content: list[TopPost]


class FollowerGrowth(BaseModel):
    """First and last follower count in a period, summed over accounts, and the growth."""

    start: int | None
    end: int | None
    growth: int | None
    growth_rate: float | None


class BrandRow(BaseModel):
    """Us or one competitor in a period."""

    brand: str
    is_us: bool
    posts_published: int
    posts_per_week: float | None
    content_mix: dict[str, float | None]
    impressions: int
    reach: int
    engagements: int
    engagement_rate_by_reach: float | None
    engagement_rate_by_impressions: float | None
    engagement_rate_by_followers: float | None
    mentions: int
    mentions_by_platform: dict[str, int]
    share_of_voice: float | None
    followers: FollowerGrowth


class OurHandles(BaseModel):
    """Our handles in a competitor report, and where they came from."""

    model_config = ConfigDict(populate_by_name=True)

    handles: list[str]
    from_: str = Field(alias="from")


class CompetitorsReport(PeriodBounds):
    """Us and each competitor side by side, and how many mentions named a tracked brand or another."""

    us: OurHandles
    brands: list[BrandRow]
    mentions: dict[str, int]


class InfluencerReport(PeriodBounds):
    """An influencer's posts, follower growth, and what their codes and UTM campaigns brought."""

    influencer_id: str
    posts: SocialTotals
    followers: FollowerGrowth
    sessions: int
    signups: int
    orders: int
    revenue: float
    signup_rate: float | None
    order_rate: float | None
    attributed_by: dict[str, list[str]]


class ContestSummary(BaseModel):
    """A contest seen in entries or user content: how many entered, how much content waits for review."""

    contest_id: str
    entries: int
    participants: int
    user_content: int
    pending_review: int
    last_activity_at: datetime


class ContestReport(BaseModel):
    """A contest's participants, people reached, participation rate, user content by review status and posts."""

    contest_id: str
    entries: int
    participants: int
    people_reached: int
    people_reached_from: str
    participation_rate: float | None
    user_content: dict[str, int]
    posts: SocialTotals
