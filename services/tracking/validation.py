"""Segment-spec validation of one event: returns the cleaned event or raises `EventInvalid`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.events import is_junk_identifier

TYPES = ("track", "identify", "page", "screen", "group", "alias")
OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt")
MAX_ID_LENGTH = 500
# Tracking's email events use `profile:<id>` as their anonymous id; profiles reads it as "no browser id".
RESERVED_ANONYMOUS_PREFIX = "profile:"


class EventInvalid(ValueError):
    """An event that breaks the spec; names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_time(value: Any, field: str) -> datetime:
    """An ISO-8601 timestamp as an aware UTC datetime (naive means UTC)."""
    if not isinstance(value, str):
        raise EventInvalid(field, "must be an ISO-8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EventInvalid(field, f"'{value[:40]}' is not an ISO-8601 timestamp") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _identifier(event: dict[str, Any], field: str) -> str | None:
    value = event.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventInvalid(field, "must be a string")
    text = str(value).strip()
    if is_junk_identifier(text):
        raise EventInvalid(field, f"'{text}' is not a valid identifier")
    if len(text) > MAX_ID_LENGTH:
        raise EventInvalid(field, f"longer than {MAX_ID_LENGTH} characters")
    return text


def _require_text(event: dict[str, Any], field: str, max_length: int = 200) -> str:
    value = event.get(field)
    if not isinstance(value, str) or not value.strip():
        raise EventInvalid(field, f"is required for {event['type']} and must be a non-empty string")
    if len(value) > max_length:
        raise EventInvalid(field, f"longer than {max_length} characters")
    return value.strip()


def _check_objects(event: dict[str, Any]) -> None:
    for field in OBJECT_FIELDS:
        value = event.get(field)
        if value is None:
            event[field] = {}
        elif not isinstance(value, dict):
            raise EventInvalid(field, "must be a JSON object")


def _check_identity(event: dict[str, Any]) -> None:
    for field in ("userId", "anonymousId", "previousId", "groupId"):
        if field in event:
            event[field] = _identifier(event, field)
    if str(event.get("anonymousId") or "").lower().startswith(RESERVED_ANONYMOUS_PREFIX):
        raise EventInvalid("anonymousId", f"may not start with '{RESERVED_ANONYMOUS_PREFIX}' (kept for email events)")
    if event["type"] == "alias":
        if not event.get("previousId"):
            raise EventInvalid("previousId", "is required for alias")
        if not event.get("userId"):
            raise EventInvalid("userId", "is required for alias")
    elif not event.get("userId") and not event.get("anonymousId"):
        raise EventInvalid("userId", "userId or anonymousId is required")
    if event["type"] == "group" and not event.get("groupId"):
        raise EventInvalid("groupId", "is required for group")


def validate_event(raw: Any, forced_type: str | None = None) -> dict[str, Any]:
    """Check one event against the Segment spec and return a cleaned copy."""
    if not isinstance(raw, dict):
        raise EventInvalid("event", "must be a JSON object")
    event = dict(raw)
    event_type = forced_type or event.get("type")
    if event_type not in TYPES:
        raise EventInvalid("type", f"must be one of {', '.join(TYPES)}")
    event["type"] = event_type
    _check_objects(event)
    _check_identity(event)
    if event_type == "track":
        event["event"] = _require_text(event, "event")
    if event_type in ("page", "screen") and event.get("name") is not None and not isinstance(event["name"], str):
        raise EventInvalid("name", "must be a string")
    message_id = event.get("messageId")
    if message_id is not None and (not isinstance(message_id, str) or not 0 < len(message_id) <= 200):
        raise EventInvalid("messageId", "must be a string of 1 to 200 characters")
    for field in TIME_FIELDS:
        if event.get(field) is not None:
            parse_time(event[field], field)
    return event
