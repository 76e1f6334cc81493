"""Campaigns' HTTP API for social media: posts, metrics, engagement, competitors, influencers (filled in)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shared.auth import authorize

router = APIRouter(prefix="/v1", tags=["social"], dependencies=[Depends(authorize)])
