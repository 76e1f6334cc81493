"""GDPR erasure (Art. 17): a person's profiles and every trace of them go, their identities are remembered only as
digests, and events that name them afterwards are dropped (or, erased without suppression, the person who comes
back starts with every channel opted out). Every other service is told through `profile.erased.v1`."""

from __future__ import annotations

from sqlalchemy import String, cast, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.feedback.models import FeedbackItem
from services.profiles.journeys.models import WebSession
from services.profiles.locks import lock_profiles
from services.profiles.models import (
    EventCount,
    Identity,
    IdentityConflict,
    Merge,
    Profile,
    SegmentMember,
    TimelineEvent,
)  # fmt: skip
from services.profiles.service import get_profile
from services.profiles.suppression import remember_erased
from shared.bus import EventBuffer
from shared.db import utcnow
from shared.events import PROFILES, ProfileErased

PERSONAL_ROWS = (Identity.profile_id, TimelineEvent.profile_id, EventCount.profile_id, WebSession.profile_id,
                 SegmentMember.profile_id, FeedbackItem.profile_id)  # fmt: skip


async def erase(session: AsyncSession, profile_id: str, events: EventBuffer, *, suppress: bool = True) -> str:
    """Erase the person behind a profile id: the live profile, every profile merged into it and all their rows,
    under the same row locks as every other write to them (a batch in flight cannot bring rows back)."""
    ids = await _lock_person(session, profile_id)
    identities = [(k, v) for k, v in await session.execute(
        select(Identity.kind, Identity.value).where(Identity.profile_id.in_(ids)))]  # fmt: skip
    await _delete_traces(session, ids)
    await remember_erased(session, identities, suppress=suppress)
    now = utcnow()
    for erased in ids:
        named = identities if erased == ids[0] else []
        events.add(PROFILES, ProfileErased(profile_id=erased, identities=named, suppressed=suppress,
                                           occurred_at=now), key=erased)  # fmt: skip
    return ids[0]


async def _lock_person(session: AsyncSession, profile_id: str) -> list[str]:
    """The live profile's id first, then those merged into it at any depth, all locked."""
    live = (await get_profile(session, profile_id, for_update=True)).id
    ids = [live]
    while True:
        query = select(Profile.id).where(Profile.merged_into.in_(ids))
        more = sorted(set((await session.scalars(query)).all()) - set(ids))
        if not more:
            return ids
        ids += more
        await lock_profiles(session, more)


async def _delete_traces(session: AsyncSession, ids: list[str]) -> None:
    for column in PERSONAL_ROWS:
        await session.execute(delete(column.class_).where(column.in_(ids)))
    await session.execute(delete(Merge).where(or_(Merge.kept_id.in_(ids), Merge.merged_id.in_(ids))))
    for profile_key in ids:
        await session.execute(
            delete(IdentityConflict).where(cast(IdentityConflict.profile_ids, String).contains(profile_key))
        )
    await session.execute(delete(Profile).where(Profile.id.in_(ids)))
