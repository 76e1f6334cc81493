"""Profiles' HTTP API: journeys (filled in by the feature's module)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shared.auth import authorize

router = APIRouter(prefix="/v1", tags=["journeys"], dependencies=[Depends(authorize)])
