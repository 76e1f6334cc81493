"""The feature replica: a profile's features and scores as segmentation holds them, and what the replica has seen
(trait keys and values, event names) for rule editors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.segmentation.replica import catalogue
from services.segmentation.replica import service as replica
from services.segmentation.replica.schemas import EventNames, FeaturesRead, ProfileScoresRead, TraitKeys, TraitValues
from shared.auth import authorize
from shared.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["features"], dependencies=[Depends(authorize)])
Text = Annotated[str, Query(max_length=200)]


@router.get("/profiles/{profile_id}/features", response_model=FeaturesRead)
async def get_profile_features(profile_id: str, session: SessionDep) -> FeaturesRead:
    """The features of a profile as segmentation sees them."""
    return FeaturesRead.model_validate(await replica.get_features(session, profile_id))


@router.get("/profiles/{profile_id}/scores", response_model=ProfileScoresRead)
async def get_profile_scores(profile_id: str, session: SessionDep) -> ProfileScoresRead:
    """A profile's scores: RFM, CLV, P(alive), expected purchases, clusters."""
    return ProfileScoresRead(profile_id=profile_id, scores=(await replica.get_features(session, profile_id)).scores)


@router.get("/traits/keys", response_model=TraitKeys)
async def list_trait_keys(session: SessionDep, prefix: Text = "") -> Any:
    """Trait and computed-trait keys seen on profiles (a sample), most common first."""
    return await catalogue.trait_keys(session, prefix)


@router.get("/traits/values", response_model=TraitValues)
async def list_trait_values(session: SessionDep, key: Text, prefix: Text = "") -> Any:
    """The most common values of one trait (a sample of profiles)."""
    return await catalogue.trait_values(session, key, prefix)


@router.get("/events/names", response_model=EventNames)
async def list_event_names(session: SessionDep) -> Any:
    """Event names profiles did in the last 90 days (a sample), most common first."""
    return await catalogue.event_names(session)
