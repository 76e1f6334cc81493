"""Profiles' HTTP API: feedback (filled in by the feature's module)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shared.auth import authorize

router = APIRouter(prefix="/v1", tags=["feedback"], dependencies=[Depends(authorize)])
