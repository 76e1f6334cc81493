"""Segmentation's route dependencies: loading a segment or 404, and the `allow_stale` switch of fits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from services.segmentation.segments.models import Segment
from services.segmentation.segments.service import get_segment
from shared.deps import SessionDep


async def segment_or_404(segment_id: str, session: SessionDep) -> Segment:
    """The segment named by the path's `segment_id`, or 404."""
    return await get_segment(session, segment_id)


SegmentDep = Annotated[Segment, Depends(segment_or_404)]
AllowStale = Annotated[bool, Query(description="fit even while the replica is behind profiles (the result says so)")]
