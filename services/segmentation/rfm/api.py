"""RFM: the summary of segments by recency, frequency and monetary value, scoring them for segment rules, and the
editable segment map."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request

from services.segmentation.deps import AllowStale
from services.segmentation.replica.freshness import measure, require_fresh
from services.segmentation.rfm import service as rfm
from services.segmentation.rfm.model import SegmentMap
from services.segmentation.rfm.schemas import RfmMap, RfmMapRead, RfmScoreRead, RfmSummaryRead
from services.segmentation.segments.service import lock_memberships, recompute_dependents
from shared.auth import authorize
from shared.db import utcnow
from shared.deps import EventsDep, SessionDep

router = APIRouter(prefix="/v1", tags=["rfm"], dependencies=[Depends(authorize)])


def _moment(as_of: datetime | None) -> datetime:
    return as_of if as_of and as_of.tzinfo else (as_of.replace(tzinfo=UTC) if as_of else utcnow())


@router.get("/rfm/summary", response_model=RfmSummaryRead)
async def get_rfm_summary(session: SessionDep, as_of: datetime | None = None) -> RfmSummaryRead:
    """RFM segments (Champions … Lost) of every customer with an order, scored by quintiles."""
    return RfmSummaryRead.model_validate(await rfm.rfm_summary(session, _moment(as_of)))


@router.post("/rfm/score", response_model=RfmScoreRead)
async def score_rfm(
    session: SessionDep, events: EventsDep, request: Request, as_of: datetime | None = None,
    allow_stale: AllowStale = False,
) -> RfmScoreRead:  # fmt: skip
    """Score every customer's R, F, M and RFM segment as scores usable in segment rules; returns the summary with
    the replica's freshness (409 while it is behind profiles unless `allow_stale`)."""
    freshness = await measure(request.app.state.runtime)
    require_fresh(freshness, allow_stale=allow_stale)
    await lock_memberships(session, exclusive=True)  # before writing scores (see `lock_memberships`)
    summary = await rfm.rfm_summary(session, _moment(as_of), save=True)
    await recompute_dependents(session, (), events, utcnow().date(), scores_changed=True)
    return RfmScoreRead.model_validate(summary | {"freshness": freshness})


def _map_body(mapping: SegmentMap) -> RfmMapRead:
    return RfmMapRead.model_validate({"cells": rfm.map_cells(mapping)})


@router.get("/rfm/segment-map", response_model=RfmMapRead)
async def get_segment_map(session: SessionDep) -> RfmMapRead:
    """The RFM segment map: (R, FM) cells → segment names."""
    return _map_body(await rfm.get_segment_map(session))


@router.put("/rfm/segment-map", response_model=RfmMapRead)
async def put_segment_map(body: RfmMap, session: SessionDep) -> RfmMapRead:
    """Replace the RFM segment map (it applies from the next summary or scoring)."""
    return _map_body(await rfm.set_segment_map(session, [c.model_dump() for c in body.cells]))
