"""Topic names and the event models that are the only contract between services (DESIGN §2)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

T = TypeVar("T")

EVENTS = "tessera.events.v1"
EVENTS_REJECTED = "tessera.events.rejected.v1"
PROFILES = "tessera.profiles.v1"
SEGMENTS = "tessera.segments.v1"
CAMPAIGNS = "tessera.campaigns.v1"
ALL_TOPICS = (EVENTS, EVENTS_REJECTED, PROFILES, SEGMENTS, CAMPAIGNS)

# `Survey Responded` (properties: survey_id, kind, score, text = the comment): the scales of the survey kinds,
# shared by campaigns (which signs answer links) and tracking (which checks the answers it records).
SURVEY_RESPONDED = "Survey Responded"
SURVEY_SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}

# Values that clients send when they have no real identifier; never an identity.
JUNK_IDENTIFIERS = frozenset(
    {
        "",
        "null",
        "undefined",
        "none",
        "nil",
        "nan",
        "0",
        "-1",
        "anonymous",
        "unknown",
        "guest",
        "user",
        "n/a",
        "na",
        "[object object]",
        "false",
        "true",
        "test",
        "00000000-0000-0000-0000-000000000000",
    }
)


class PoisonMessage(Exception):
    """Raised by a handler for a message that can never be processed."""


def decode_contract(adapter: TypeAdapter[T], value: Any, what: str) -> T:
    """Validate a consumed value against an event contract, or raise `PoisonMessage` saying why."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise PoisonMessage(f"not a {what}: {location} {first['msg']}") from exc


def is_junk_identifier(value: object) -> bool:
    """True for values like `null`, `undefined`, `0` or `anonymous` that identify nobody."""
    return not isinstance(value, str | int) or str(value).strip().lower() in JUNK_IDENTIFIERS


SegmentType = Literal["track", "identify", "page", "screen", "group", "alias"]


def rejected_topic(topic: str) -> str:
    """Where poison messages of `topic` go: `tessera.x.v1` → `tessera.x.rejected.v1`."""
    stem, dot, version = topic.rpartition(".")
    if dot and version.startswith("v") and version[1:].isdigit():
        return f"{stem}.rejected.{version}"
    return f"{topic}.rejected"


def dedup_key(source_id: str, message_id: str) -> str:
    """A message id within its source's namespace, so one write key cannot shadow another source's (or an import's)
    events by sending their message ids first. Imports share one namespace: the same order in two files counts once."""
    namespace = "import" if source_id.startswith("import:") else source_id
    return f"{namespace}/{message_id}"


def identity_digest(kind: str, value: str) -> str:
    """SHA-256 of an identity (kind and value): how erased identities are remembered, never their value."""
    return hashlib.sha256(f"{kind}\x00{value}".encode()).hexdigest()


class Contract(BaseModel):
    """Base of every event: immutable, serialised as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TrackedEvent(BaseModel):
    """A behaviour event in the Segment spec, enriched by tracking (`tessera.events.v1`)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: SegmentType
    messageId: str
    sourceId: str
    receivedAt: datetime
    timestamp: datetime
    anonymousId: str | None = None
    userId: str | None = None
    event: str | None = None
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    sentAt: datetime | None = None
    originalTimestamp: datetime | None = None
    groupId: str | None = None
    previousId: str | None = None
    # Stamped by tracking from the source (never the client's word): only trusted, server-side sources and
    # tracking's own email links may opt a person back in after an opt-out.
    sourceTrusted: bool = False

    @property
    def dedup_key(self) -> str:
        """The key duplicates are detected by (see `dedup_key`)."""
        return dedup_key(self.sourceId, self.messageId)

    @property
    def event_name(self) -> str | None:
        """What happened: a track event's name, else the message type (`page`, `identify` …)."""
        return self.event if self.type == "track" else self.type

    @property
    def revenue(self) -> float:
        """The money an order names (`revenue`, else `total`); 0 when it names none that is a finite number."""
        try:
            number = float(self.properties.get("revenue", self.properties.get("total")))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return 0.0
        return number if number == number and abs(number) < 1e12 else 0.0

    @property
    def person_key(self) -> str:
        """The partition key that keeps one person's events in order."""
        return self.userId or self.anonymousId or self.previousId or self.messageId


class MessageRejected(Contract):
    """A message no consumer could handle, or an event tracking refused, with the reason."""

    type: Literal["message.rejected.v1"] = "message.rejected.v1"
    reason: str
    source: str
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    payload: Any = None
    rejected_at: datetime


class ProfileUpserted(Contract):
    """A profile was created or changed; carries what segmentation needs."""

    type: Literal["profile.upserted.v1"] = "profile.upserted.v1"
    profile_id: str
    # Grows with every write to the profile (under its row lock): a consumer ignores a message older than what it has.
    version: int = 0
    traits: dict[str, Any] = Field(default_factory=dict)
    computed: dict[str, Any] = Field(default_factory=dict)
    consent: dict[str, bool] = Field(default_factory=dict)
    occurred_at: datetime


class ProfileMerged(Contract):
    """`merged_id` was folded into `profile_id` (or split back out when `undone`)."""

    type: Literal["profile.merged.v1"] = "profile.merged.v1"
    profile_id: str
    merged_id: str
    merge_id: str
    undone: bool = False
    merged_version: int = 0  # the merged profile's version after the merge (or the undo)
    occurred_at: datetime


class ProfileErased(Contract):
    """GDPR erasure: every service deletes its copy of this profile and of the identities that named it
    (`[kind, value]` pairs: user_id, anonymous_id, email, phone, ext:<type>), and keeps away from them if
    `suppressed` (events naming them are dropped)."""

    type: Literal["profile.erased.v1"] = "profile.erased.v1"
    profile_id: str
    identities: list[tuple[str, str]] = Field(default_factory=list)
    suppressed: bool = True
    occurred_at: datetime


class SegmentEntered(Contract):
    """A profile entered a segment."""

    type: Literal["segment.entered.v1"] = "segment.entered.v1"
    segment_id: str
    profile_id: str
    occurred_at: datetime


class SegmentExited(Contract):
    """A profile left a segment."""

    type: Literal["segment.exited.v1"] = "segment.exited.v1"
    segment_id: str
    profile_id: str
    occurred_at: datetime


class CampaignExposure(Contract):
    """A campaign sent to, held out or skipped a profile."""

    type: Literal["campaign.exposure.v1"] = "campaign.exposure.v1"
    campaign_id: str
    profile_id: str
    outcome: Literal["sent", "held_out", "skipped"]
    variant_id: str | None = None
    reason: str | None = None
    occurred_at: datetime
