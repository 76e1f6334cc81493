"""Profiles' domain: apply tracked events to profiles (identity by user and anonymous id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.models import Identity, Profile, processed_messages
from shared.bus import EventBuffer
from shared.consuming import decode_contract
from shared.db import utcnow
from shared.errors import NotFound
from shared.events import PROFILES, ProfileUpserted, TrackedEvent, is_junk_identifier
from shared.inbox import mark_processed, unseen

IDENTITY_FIELDS = (("user_id", "userId"), ("anonymous_id", "anonymousId"))


_tracked_event: TypeAdapter[TrackedEvent] = TypeAdapter(TrackedEvent)


def parse_event(value: Any) -> TrackedEvent:
    """A tracked event, or `PoisonMessage` when it breaks the contract."""
    return decode_contract(_tracked_event, value, "tracked event")


async def find_profile(session: AsyncSession, kind: str, value: str) -> Profile | None:
    """The profile an identity points at."""
    identity = await session.get(Identity, (kind, value))
    return await session.get(Profile, identity.profile_id) if identity else None


async def get_profile(session: AsyncSession, profile_id: str) -> Profile:
    """A profile by id, or 404."""
    profile = await session.get(Profile, profile_id)
    if profile is None:
        raise NotFound(f"Profile '{profile_id}' does not exist.")
    return profile


def _identities(event: TrackedEvent) -> list[tuple[str, str]]:
    pairs = [(kind, getattr(event, attr)) for kind, attr in IDENTITY_FIELDS]
    return [(kind, str(v)) for kind, v in pairs if v is not None and not is_junk_identifier(v)]


async def _resolve(session: AsyncSession, event: TrackedEvent) -> Profile:
    identities = _identities(event)
    profile = None
    for kind, value in identities:
        profile = await find_profile(session, kind, value)
        if profile:
            break
    if profile is None:
        profile = Profile(traits={}, event_count=0, first_seen_at=event.timestamp, last_seen_at=event.timestamp)
        session.add(profile)
        await session.flush()
    for kind, value in identities:
        if await session.get(Identity, (kind, value)) is None:
            session.add(Identity(kind=kind, value=value, profile_id=profile.id))
    return profile


def _apply(profile: Profile, event: TrackedEvent) -> None:
    profile.event_count += 1
    profile.first_seen_at = min(profile.first_seen_at, event.timestamp)
    profile.last_seen_at = max(profile.last_seen_at, event.timestamp)
    if event.type == "identify" and event.traits:
        profile.traits = {**profile.traits, **event.traits}


async def apply_events(session: AsyncSession, values: Sequence[Any], events: EventBuffer) -> None:
    """Apply new events (already applied ids are skipped) and publish each changed profile once."""
    parsed = [parse_event(v) for v in values]
    fresh = await unseen(session, processed_messages, (e.messageId for e in parsed))
    changed: dict[str, Profile] = {}
    for event in parsed:
        if event.messageId not in fresh:
            continue
        fresh.discard(event.messageId)  # the same id twice in one batch counts once
        profile = await _resolve(session, event)
        _apply(profile, event)
        changed[profile.id] = profile
        await mark_processed(session, processed_messages, [event.messageId])
    for profile in changed.values():
        events.add(PROFILES, _upserted(profile), key=profile.id)


def _upserted(profile: Profile) -> ProfileUpserted:
    computed = {
        "event_count": profile.event_count,
        "first_seen_at": profile.first_seen_at.isoformat(),
        "last_seen_at": profile.last_seen_at.isoformat(),
    }
    return ProfileUpserted(profile_id=profile.id, traits=profile.traits, computed=computed, occurred_at=utcnow())


async def lookup(session: AsyncSession, **identities: str | None) -> Profile:
    """The profile behind the first identity given, or 404."""
    for kind, value in identities.items():
        if value:
            profile = await find_profile(session, kind, value)
            if profile:
                return profile
    raise NotFound("No profile has that identity.")


async def identities_of(session: AsyncSession, profile_id: str) -> list[Identity]:
    """The identities pointing at a profile."""
    return list((await session.scalars(select(Identity).where(Identity.profile_id == profile_id))).all())
