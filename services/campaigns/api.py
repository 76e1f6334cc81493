"""Campaigns' HTTP API."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.campaigns import service
from shared.auth import authorize
from shared.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["audiences"], dependencies=[Depends(authorize)])


@router.get("/audiences/{segment_id}/size")
async def get_audience_size(segment_id: str, session: SessionDep) -> dict[str, int | str]:
    """How many profiles of a segment campaigns can target now."""
    return {"segment_id": segment_id, "size": await service.segment_size(session, segment_id)}
