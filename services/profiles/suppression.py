"""Erased people stay erased: their identities as digests, and what a batch does with events that name them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.batch import CHUNK, ProfileState
from services.profiles.identity import Key, alias_identities, event_identities
from services.profiles.models import ErasedIdentity
from services.profiles.traits import CONSENT_CHANNELS, set_consent
from shared.db import upsert, utcnow
from shared.events import TrackedEvent, identity_digest

SUPPRESSED_EVENTS = Counter(
    "tessera_profiles_suppressed_events_total", "Events dropped because they name an erased, suppressed identity"
)
Erased = dict[Key, ErasedIdentity]


async def remember_erased(session: AsyncSession, identities: Sequence[Key], *, suppress: bool) -> None:
    """Keep the digests of an erased person's identities (never their values)."""
    now = utcnow()
    rows = [{"kind": kind, "digest": identity_digest(kind, value), "suppress": suppress, "erased_at": now}
            for kind, value in identities]  # fmt: skip
    await upsert(session, ErasedIdentity.__table__, rows, keys=["kind", "digest"], replace=("suppress", "erased_at"))


async def erased_among(session: AsyncSession, keys: Iterable[Key]) -> Erased:
    """The identities among `keys` that belong to an erased person (one cheap query when nobody was erased)."""
    if not await session.scalar(select(exists().select_from(ErasedIdentity))):
        return {}
    by_digest = {identity_digest(kind, value): (kind, value) for kind, value in keys if kind != "profile_id"}
    digests, found = list(by_digest), Erased()
    for start in range(0, len(digests), CHUNK):
        query = select(ErasedIdentity).where(ErasedIdentity.digest.in_(digests[start : start + CHUNK]))
        for row in (await session.scalars(query)).all():
            if by_digest[row.digest][0] == row.kind:
                found[by_digest[row.digest]] = row
    return found


def without_suppressed(todo: list[TrackedEvent], erased: Erased) -> list[TrackedEvent]:
    """The events that name no suppressed identity; the others are dropped and counted."""
    if not erased:
        return todo
    kept = [e for e in todo if not any(_suppressed(erased, key) for key in _keys(e))]
    SUPPRESSED_EVENTS.inc(len(todo) - len(kept))
    return kept


def opt_out_returning(target: ProfileState, event: TrackedEvent, erased: Erased) -> None:
    """A person erased without suppression comes back opted out of every channel, as of their erasure."""
    found = [erased[key] for key in event_identities(event) if key in erased]
    if found:
        at: datetime = max(row.erased_at for row in found)
        for channel in CONSENT_CHANNELS:
            set_consent(target.consent, channel, False, "erasure", at)


def _keys(event: TrackedEvent) -> list[Key]:
    return event_identities(event) + alias_identities(event)


def _suppressed(erased: Erased, key: Key) -> bool:
    row = erased.get(key)
    return row is not None and row.suppress
