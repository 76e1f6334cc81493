"""Routes: why a profile is (not) in a segment; trait keys, values and event names seen by the replica."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.segmentation.insight import service
from services.segmentation.insight.schemas import EventNames, ExplainRead, TraitKeys, TraitValues
from shared.auth import require_role
from shared.db import utcnow
from shared.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["insight"], dependencies=[Depends(require_role("analyst"))])
Text = Annotated[str, Query(max_length=200)]


@router.get("/segments/{segment_id}/explain", response_model=ExplainRead)
async def explain_segment(segment_id: str, profile_id: Text, session: SessionDep) -> Any:
    """The rule tree evaluated for one profile: each node true or false, each leaf with the actual value and, for
    behaviour, the counts per day in the window; computed by the same predicates as real-time membership."""
    return await service.explain_membership(session, segment_id, profile_id, utcnow().date())


@router.get("/traits/keys", response_model=TraitKeys)
async def list_trait_keys(session: SessionDep, prefix: Text = "") -> Any:
    """Trait and computed-trait keys seen on profiles (a sample), most common first."""
    return await service.trait_keys(session, prefix)


@router.get("/traits/values", response_model=TraitValues)
async def list_trait_values(session: SessionDep, key: Text, prefix: Text = "") -> Any:
    """The most common values of one trait (a sample of profiles)."""
    return await service.trait_values(session, key, prefix)


@router.get("/events/names", response_model=EventNames)
async def list_event_names(session: SessionDep) -> Any:
    """Event names profiles did in the last 90 days (a sample), most common first."""
    return await service.event_names(session)
