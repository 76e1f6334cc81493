"""Segmentation's HTTP API."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.segmentation import service
from services.segmentation.schemas import FeaturesRead
from shared.auth import authorize
from shared.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["features"], dependencies=[Depends(authorize)])


@router.get("/profiles/{profile_id}/features", response_model=FeaturesRead)
async def get_profile_features(profile_id: str, session: SessionDep) -> FeaturesRead:
    """The features of a profile as segmentation sees them."""
    return FeaturesRead.model_validate(await service.get_features(session, profile_id))
