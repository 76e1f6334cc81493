"""Profiles' HTTP API."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.profiles import service
from services.profiles.models import Profile
from services.profiles.schemas import IdentityRead, ProfileRead
from shared.auth import authorize
from shared.deps import SessionDep
from shared.errors import BadRequest

router = APIRouter(prefix="/v1/profiles", tags=["profiles"], dependencies=[Depends(authorize)])


async def _read(session: SessionDep, profile: Profile) -> ProfileRead:
    identities = [IdentityRead(kind=i.kind, value=i.value) for i in await service.identities_of(session, profile.id)]
    return ProfileRead(
        id=profile.id,
        traits=profile.traits,
        event_count=profile.event_count,
        first_seen_at=profile.first_seen_at,
        last_seen_at=profile.last_seen_at,
        identities=identities,
    )


@router.get("/lookup", response_model=ProfileRead)
async def lookup_profile(
    session: SessionDep, user_id: str | None = None, anonymous_id: str | None = None
) -> ProfileRead:
    """Find a profile by one of its identities."""
    if not user_id and not anonymous_id:
        raise BadRequest("Give user_id or anonymous_id.")
    profile = await service.lookup(session, user_id=user_id, anonymous_id=anonymous_id)
    return await _read(session, profile)


@router.get("/{profile_id}", response_model=ProfileRead)
async def get_profile(profile_id: str, session: SessionDep) -> ProfileRead:
    """One profile by id."""
    return await _read(session, await service.get_profile(session, profile_id))
