"""Which identities an event names, normalised; junk values are never identities. Pure functions."""

from __future__ import annotations

import re
from typing import Any

from shared.events import TrackedEvent, is_junk_identifier

Key = tuple[str, str]  # (kind, value)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: Any) -> str | None:
    """Trimmed, lower-case email, or None when it is not one."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    return email if EMAIL.match(email) and len(email) <= 320 else None


def normalise_phone(value: Any) -> str | None:
    """Digits with a leading + (E.164-like), or None when too short to be a phone number."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if text.startswith(("+", "00")) else "") + digits.removeprefix("00" if text.startswith("00") else "")


def _id(kind: str, value: Any) -> Key | None:
    if value is None or is_junk_identifier(value):
        return None
    return (kind, str(value).strip()[:500])


def event_identities(event: TrackedEvent) -> list[Key]:
    """Every identity the event names, strongest first (user id, profile id, email, phone, external, anonymous)."""
    traits = event.traits or {}
    found_traits = event.context.get("traits")
    context_traits: dict[str, Any] = found_traits if isinstance(found_traits, dict) else {}
    found: list[Key | None] = [
        _id("user_id", event.userId),
        _id("profile_id", event.context.get("profileId")),
        _id("email", normalise_email(traits.get("email") or context_traits.get("email"))),
        _id("phone", normalise_phone(traits.get("phone") or context_traits.get("phone"))),
    ]
    for external in event.context.get("externalIds") or []:
        if isinstance(external, dict) and isinstance(external.get("type"), str):
            found.append(_id(f"ext:{external['type'][:50]}", external.get("id")))
    anonymous = event.anonymousId
    if anonymous and not str(anonymous).startswith("profile:"):  # email links carry context.profileId instead
        found.append(_id("anonymous_id", anonymous))
    unique: list[Key] = []
    for key in found:
        if key and key not in unique:
            unique.append(key)
    return unique


def alias_identities(event: TrackedEvent) -> list[Key]:
    """The identities an alias names as the previous person (an old user id or an anonymous id)."""
    previous = event.previousId
    if previous is None or is_junk_identifier(previous):
        return []
    return [("user_id", str(previous)), ("anonymous_id", str(previous))]
