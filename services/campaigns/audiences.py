"""Ad-platform customer lists: normalise and SHA-256 hash emails and phones, lay out CSV rows, diff exports.

Pure functions, no I/O. Every identifier is normalised the way the platform documents, then hashed; output rows
hold only lowercase SHA-256 hex digests or empty cells, never a plain identifier.

Normalisation decisions:
- email: trim and lowercase only, as Google Customer Match and Meta Custom Audiences both specify. Gmail dots and
  "+tag" suffixes are kept (removing them is not part of either platform's customer-list rules and would change
  the hash they compute on their side). Anything that is not `local@domain.tld` without inner spaces is dropped.
- phone: parsed with `phonenumbers` (national numbers need a default region) and kept only when valid. Google wants
  E.164 with the leading "+" ("+14155552671"); Meta wants digits only with the country code ("14155552671"), and a
  hashed "+" form does not match there.

Incremental exports diff the hashed rows, not profile ids: a removal must carry the hashes the platform was sent,
even if the profile's email or phone has changed since.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import phonenumbers

AdPlatform = Literal["google_ads", "meta"]
Row = tuple[str, str]

# Column headers for hashed customer-list files, (email, phone), in this order in every row.
# Google Ads Customer Match: headers must be the English names "Email" and "Phone" (hashed values go in the same
# columns; support.google.com/google-ads/answer/7659867). Meta: the Marketing API schema keys "EMAIL" and "PHONE";
# Ads Manager file uploads map columns by name and also accept these.
CUSTOMER_LIST_COLUMNS: dict[str, Row] = {
    "google_ads": ("Email", "Phone"),
    "meta": ("EMAIL", "PHONE"),
}

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Contact:
    """A profile's plain identifiers as stored; either may be missing."""

    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class MembershipDiff(Generic[T]):
    """What an incremental export must add to and remove from the platform's list."""

    added: frozenset[T]
    removed: frozenset[T]


def sha256_hex(value: str) -> str:
    """Lowercase hex SHA-256 of a UTF-8 string."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_email(raw: str | None) -> str | None:
    """Trim and lowercase an email address; None when it is missing or not shaped like local@domain.tld."""
    if raw is None:
        return None
    email = raw.strip().lower()
    local, _, domain = email.partition("@")
    if email.count("@") != 1 or not local or "." not in domain.strip(".") or any(ch.isspace() for ch in email):
        return None
    return email


def normalise_phone(raw: str | None, *, default_region: str | None = None) -> str | None:
    """Format a phone number as E.164 ("+14155552671"); None when missing, unparseable or invalid."""
    if raw is None or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def hash_email(raw: str | None) -> str | None:
    """SHA-256 of the normalised email (the same for Google and Meta); None when it is not usable."""
    email = normalise_email(raw)
    return sha256_hex(email) if email else None


def hash_phone(raw: str | None, *, platform: AdPlatform, default_region: str | None = None) -> str | None:
    """SHA-256 of the phone in the platform's format: E.164 for Google, E.164 without "+" for Meta."""
    e164 = normalise_phone(raw, default_region=default_region)
    if e164 is None:
        return None
    return sha256_hex(e164 if platform == "google_ads" else e164.lstrip("+"))


def customer_list_header(platform: AdPlatform) -> Row:
    """The CSV header for a platform's hashed customer list."""
    try:
        return CUSTOMER_LIST_COLUMNS[platform]
    except KeyError:
        raise ValueError(f"unknown ad platform {platform!r}") from None


def customer_list_rows(
    contacts: Iterable[Contact],
    *,
    platform: AdPlatform,
    default_region: str | None = None,
) -> list[Row]:
    """Hashed (email, phone) rows in header order, deduplicated; contacts with nothing usable are skipped."""
    customer_list_header(platform)  # fail fast on an unknown platform
    rows: dict[Row, None] = {}  # a dict keeps first-seen order while deduplicating
    for contact in contacts:
        email = hash_email(contact.email) or ""
        phone = hash_phone(contact.phone, platform=platform, default_region=default_region) or ""
        if email or phone:
            rows[(email, phone)] = None
    return list(rows)


def customer_list_csv(rows: Iterable[Row], *, platform: AdPlatform) -> str:
    """Render hashed rows as the platform's CSV file, header first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(customer_list_header(platform))
    writer.writerows(rows)
    return out.getvalue()


def diff_members(previous: Iterable[T], current: Iterable[T]) -> MembershipDiff[T]:
    """Members to add (in current only) and to remove (in previous only) since the last export."""
    before, now = frozenset(previous), frozenset(current)
    return MembershipDiff(added=now - before, removed=before - now)
