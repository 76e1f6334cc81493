"""Profiles' domain for the REST API: read, search, edit traits and consent (under row locks), timeline."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.batch import ProfileState, recent_counts
from services.profiles.identity import normalise_email
from services.profiles.ingest import upserted_message
from services.profiles.locks import lock_profiles
from services.profiles.models import (
    Identity,
    IdentityConflict,
    Merge,
    Profile,
    TimelineEvent,
)  # fmt: skip
from services.profiles.traits import apply_traits, set_consent
from shared.bus import EventBuffer
from shared.db import utcnow
from shared.errors import BadRequest, Conflict, NotFound
from shared.events import PROFILES
from shared.merge_chains import chain_end, load_chains


async def get_profile(session: AsyncSession, profile_id: str, *, for_update: bool = False) -> Profile:
    """A live profile by id (a merged-away id leads to the profile it was merged into), or 404; `for_update`:
    locked against every other write until the transaction ends (`lock_profiles`)."""
    for _ in range(3):  # a merge may commit between reading the chain and locking its end: follow it again
        profile = await _live_profile(session, profile_id)
        if not for_update:
            return profile
        locked = await lock_profiles(session, [profile.id])
        if locked and locked[0].merged_into is None:
            return locked[0]
    raise Conflict("The profile is being merged; try again.")


async def _live_profile(session: AsyncSession, profile_id: str) -> Profile:
    found = await get_profiles(session, [profile_id])
    if not found:
        raise NotFound(f"Profile '{profile_id}' does not exist.")
    return found[0]


async def lookup(session: AsyncSession, *, user_id: str | None, anonymous_id: str | None, email: str | None) -> Profile:
    """The profile behind the first identity given, or 404."""
    wanted = [("user_id", user_id), ("anonymous_id", anonymous_id), ("email", normalise_email(email) or email)]
    given = [(k, v) for k, v in wanted if v]
    if not given:
        raise BadRequest("Give user_id, anonymous_id or email.")
    for kind, value in given:
        identity = await session.get(Identity, (kind, value))
        if identity:
            return await get_profile(session, identity.profile_id)
    raise NotFound("No profile has that identity.")


async def identities_of(session: AsyncSession, profile_id: str) -> list[Identity]:
    """The identities pointing at a profile."""
    return list((await session.scalars(select(Identity).where(Identity.profile_id == profile_id))).all())


async def get_profiles(session: AsyncSession, profile_ids: Sequence[str]) -> list[Profile]:
    """The profiles behind the ids that exist, in the order asked, each once; a merged-away id gives its survivor."""
    wanted = list(dict.fromkeys(profile_ids))
    rows: dict[str, Profile] = {}

    async def level(ids: set[str]) -> dict[str, str | None]:
        found = await _profiles_by_id(session, ids)
        rows.update(found)
        return {profile_id: p.merged_into for profile_id, p in found.items()}

    links = await load_chains(wanted, level)
    found = (rows.get(chain_end(profile_id, links.get)) for profile_id in wanted)
    return list({p.id: p for p in found if p is not None}.values())


async def _profiles_by_id(session: AsyncSession, ids: Iterable[str]) -> dict[str, Profile]:
    return {p.id: p for p in (await session.scalars(select(Profile).where(Profile.id.in_(list(ids))))).all()}


async def identities_by_profile(session: AsyncSession, profile_ids: Sequence[str]) -> dict[str, list[Identity]]:
    """The identities pointing at each of the profiles (an empty list for one with none)."""
    found: dict[str, list[Identity]] = {profile_id: [] for profile_id in profile_ids}
    if profile_ids:
        for identity in (await session.scalars(select(Identity).where(Identity.profile_id.in_(profile_ids)))).all():
            found[identity.profile_id].append(identity)
    return found


async def list_profiles(
    session: AsyncSession, *, trait_filters: dict[str, str], after: str | None, limit: int
) -> list[Profile]:
    """Live profiles matching every `trait = value` filter, in id order after the cursor."""
    query = select(Profile).where(Profile.merged_into.is_(None)).order_by(Profile.id).limit(limit)
    for name, value in trait_filters.items():
        query = query.where(Profile.traits[name].as_string() == value)
    if after:
        query = query.where(Profile.id > after)
    return list((await session.scalars(query)).all())


async def count_profiles(session: AsyncSession) -> int:
    """How many live profiles there are (merged-away ones left out)."""
    query = select(func.count()).select_from(Profile).where(Profile.merged_into.is_(None))
    return int(await session.scalar(query) or 0)


async def count_events(session: AsyncSession, *, since: datetime) -> int:
    """How many interactions the timeline holds from `since` on (by event time)."""
    query = select(func.count()).select_from(TimelineEvent).where(TimelineEvent.occurred_at >= since)
    return int(await session.scalar(query) or 0)


async def publish_profile(session: AsyncSession, profile: Profile, events: EventBuffer) -> None:
    """Announce a profile's current state (after a change made through the API)."""
    counts = await recent_counts(session, [profile.id])
    events.add(PROFILES, upserted_message(ProfileState.from_row(profile), counts[profile.id]), key=profile.id)


async def patch_traits(session: AsyncSession, profile_id: str, traits: dict[str, Any], events: EventBuffer) -> Profile:
    """Set traits by hand (they win over earlier events) and announce the profile."""
    profile = await get_profile(session, profile_id, for_update=True)
    values, times = dict(profile.traits), dict(profile.trait_times)
    apply_traits(values, times, traits, utcnow(), force=True)
    profile.traits, profile.trait_times, profile.updated_at = values, times, utcnow()
    profile.version = (profile.version or 0) + 1
    await publish_profile(session, profile, events)
    return profile


async def put_consent(session: AsyncSession, profile_id: str, choices: dict[str, bool], events: EventBuffer) -> Profile:
    """Record consent per channel from the API and announce the profile."""
    profile = await get_profile(session, profile_id, for_update=True)
    consent = dict(profile.consent)
    for channel, granted in choices.items():
        set_consent(consent, channel, granted, "api", utcnow(), now=True)
    profile.consent, profile.updated_at = consent, utcnow()
    profile.version = (profile.version or 0) + 1
    await publish_profile(session, profile, events)
    return profile


def _cursor(event: TimelineEvent) -> str:
    return base64.urlsafe_b64encode(f"{event.occurred_at.isoformat()}|{event.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), int(event_id)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The cursor is not valid.", fields=[{"field": "cursor", "reason": "malformed"}]) from None


async def timeline(
    session: AsyncSession, profile_id: str, *, cursor: str | None, limit: int
) -> tuple[Sequence[TimelineEvent], str | None]:
    """A profile's interactions, newest first, and the cursor of the next page."""
    profile = await get_profile(session, profile_id)
    query = select(TimelineEvent).where(TimelineEvent.profile_id == profile.id)
    if cursor:
        at, event_id = _decode_cursor(cursor)
        older = or_(TimelineEvent.occurred_at < at, and_(TimelineEvent.occurred_at == at, TimelineEvent.id < event_id))
        query = query.where(older)
    rows = (await session.scalars(query.order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
                                  .limit(limit + 1))).all()  # fmt: skip
    page = rows[:limit]
    return page, _cursor(page[-1]) if len(rows) > limit else None


async def prune_timeline(session: AsyncSession, *, older_than_days: int, chunk: int = 5000) -> int:
    """Delete at most `chunk` timeline rows older than the retention period; return how many."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    ids = (await session.scalars(select(TimelineEvent.id).where(TimelineEvent.occurred_at < cutoff).limit(chunk))).all()
    if ids:
        await session.execute(delete(TimelineEvent).where(TimelineEvent.id.in_(ids)))
    return len(ids)


async def list_merges(session: AsyncSession, profile_id: str) -> Sequence[Merge]:
    """Merges into or out of a profile, newest first."""
    query = select(Merge).where(or_(Merge.kept_id == profile_id, Merge.merged_id == profile_id))
    return (await session.scalars(query.order_by(Merge.created_at.desc()))).all()


async def list_conflicts(session: AsyncSession, *, limit: int) -> Sequence[IdentityConflict]:
    """Recent identity conflicts (events that would have joined two known people)."""
    query = select(IdentityConflict).order_by(IdentityConflict.created_at.desc()).limit(limit)
    return (await session.scalars(query)).all()
