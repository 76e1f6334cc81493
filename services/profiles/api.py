"""Profiles' HTTP API: analysts read; marketers and admins write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from services.profiles import service
from services.profiles.erasure import erase
from services.profiles.merging import undo_merge
from services.profiles.models import Identity, Profile
from services.profiles.schemas import (
    ConflictRead,
    ConsentPut,
    CountRead,
    MergeRead,
    ProfileBatchRead,
    ProfileBatchRequest,
    ProfilePage,
    ProfileRead,
    TimelineItem,
    TimelinePage,
    TraitsPatch,
)  # fmt: skip
from services.profiles.traits import public_computed
from shared.auth import authorize, require_role
from shared.deps import EventsDep, SessionDep
from shared.errors import Invalid

router = APIRouter(prefix="/v1", tags=["profiles"], dependencies=[Depends(authorize)])
# A batch read is a POST (the ids do not fit a URL) that changes nothing: analysts may run it.
read_only_router = APIRouter(prefix="/v1", tags=["profiles"], dependencies=[Depends(require_role("analyst"))])
Limit = Annotated[int, Query(ge=1, le=500)]
AdminOnly = Depends(require_role("admin"))


def _to_read(profile: Profile, identities: list[Identity]) -> ProfileRead:
    return ProfileRead(
        id=profile.id, traits=profile.traits, computed=public_computed(profile.computed), consent=profile.consent,
        first_seen_at=profile.first_seen_at, last_seen_at=profile.last_seen_at,
        identities=[{"kind": i.kind, "value": i.value} for i in identities],  # type: ignore[misc]
    )  # fmt: skip


async def _read(session: SessionDep, profile: Profile) -> ProfileRead:
    return _to_read(profile, await service.identities_of(session, profile.id))


async def _read_many(session: SessionDep, profiles: list[Profile]) -> list[ProfileRead]:
    identities = await service.identities_by_profile(session, [p.id for p in profiles])
    return [_to_read(p, identities[p.id]) for p in profiles]


@router.get("/profiles", response_model=ProfilePage)
async def list_profiles(
    request: Request, session: SessionDep, cursor: str | None = None, limit: Limit = 50
) -> ProfilePage:
    """Profiles, filtered by `traits.<name>=<value>` query parameters, with cursor pagination."""
    filters = {k.removeprefix("traits."): v for k, v in request.query_params.items() if k.startswith("traits.")}
    rows = await service.list_profiles(session, trait_filters=filters, after=cursor, limit=limit)
    items = await _read_many(session, rows)
    return ProfilePage(items=items, next_cursor=rows[-1].id if len(rows) == limit else None)


@read_only_router.post("/profiles/batch", response_model=ProfileBatchRead)
async def get_profiles_batch(body: ProfileBatchRequest, session: SessionDep) -> ProfileBatchRead:
    """Up to 1000 profiles by id, in the order asked; unknown ids are left out, merged-away ids give the survivor."""
    return ProfileBatchRead(items=await _read_many(session, await service.get_profiles(session, body.ids)))


@router.get("/profiles/lookup", response_model=ProfileRead)
async def lookup_profile(
    session: SessionDep, user_id: str | None = None, anonymous_id: str | None = None, email: str | None = None
) -> ProfileRead:
    """Find a profile by user id, anonymous id or email."""
    profile = await service.lookup(session, user_id=user_id, anonymous_id=anonymous_id, email=email)
    return await _read(session, profile)


@router.get("/profiles/count", response_model=CountRead)
async def count_profiles(session: SessionDep) -> CountRead:
    """How many live profiles there are (merged-away ones left out)."""
    return CountRead(count=await service.count_profiles(session))


@router.get("/events/count", response_model=CountRead)
async def count_events(session: SessionDep, since: datetime) -> CountRead:
    """How many interactions the timeline holds from `since` on (e.g. midnight UTC: today's events)."""
    try:
        start = _aware(since).astimezone(UTC)
    except OverflowError as exc:
        raise Invalid("`since` is out of range.", fields=[{"field": "query.since", "reason": "out of range"}]) from exc
    return CountRead(count=await service.count_events(session, since=start))


@router.get("/profiles/{profile_id}", response_model=ProfileRead)
async def get_profile(profile_id: str, session: SessionDep) -> ProfileRead:
    """One profile (a merged-away id answers with the profile it was merged into)."""
    return await _read(session, await service.get_profile(session, profile_id))


@router.patch("/profiles/{profile_id}/traits", response_model=ProfileRead)
async def patch_traits(profile_id: str, body: TraitsPatch, session: SessionDep, events: EventsDep) -> ProfileRead:
    """Set traits by hand."""
    return await _read(session, await service.patch_traits(session, profile_id, body.traits, events))


@router.put("/profiles/{profile_id}/consent", response_model=ProfileRead)
async def put_consent(profile_id: str, body: ConsentPut, session: SessionDep, events: EventsDep) -> ProfileRead:
    """Record consent per channel (email, ads, analytics)."""
    choices = {k: v for k, v in body.model_dump().items() if v is not None}
    return await _read(session, await service.put_consent(session, profile_id, choices, events))


@router.delete("/profiles/{profile_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminOnly])
async def erase_profile(profile_id: str, session: SessionDep, events: EventsDep, suppress: bool = True) -> None:
    """GDPR erasure (admins): the person's data, timeline and feedback deleted here and in every service; events
    naming their identities are dropped from now on unless `suppress=false`."""
    await erase(session, profile_id, events, suppress=suppress)


@router.get("/profiles/{profile_id}/timeline", response_model=TimelinePage)
async def get_timeline(
    profile_id: str, session: SessionDep, cursor: str | None = None, limit: Limit = 50
) -> TimelinePage:
    """Every interaction of a profile, newest first."""
    rows, next_cursor = await service.timeline(session, profile_id, cursor=cursor, limit=limit)
    return TimelinePage(items=[TimelineItem.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/profiles/{profile_id}/merges", response_model=list[MergeRead])
async def list_merges(profile_id: str, session: SessionDep) -> list[MergeRead]:
    """Merges into or out of a profile."""
    return [MergeRead.model_validate(m) for m in await service.list_merges(session, profile_id)]


@router.post("/merges/{merge_id}/undo", response_model=MergeRead, dependencies=[AdminOnly])
async def undo(merge_id: str, session: SessionDep, events: EventsDep) -> MergeRead:
    """Split a merged profile back out (admins)."""
    merge = await undo_merge(session, merge_id, events)
    for profile_id in (merge.kept_id, merge.merged_id):  # both changed: every service sees them as they are now
        await service.publish_profile(session, await service.get_profile(session, profile_id), events)
    return MergeRead.model_validate(merge)


@router.get("/identity-conflicts", response_model=list[ConflictRead])
async def list_conflicts(session: SessionDep, limit: Limit = 100) -> list[ConflictRead]:
    """Events that would have joined two known people (not merged)."""
    return [ConflictRead.model_validate(c) for c in await service.list_conflicts(session, limit=limit)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
