"""Segmentation's HTTP API for models and reports: clusterings (ML segments), CLV, RFM, scores, segment reports."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status

from services.segmentation import clusterings, clv_fits, lifetime, reports, scores
from services.segmentation.freshness import measure, require_fresh
from services.segmentation.jobs import run_clustering_job, run_clv_fit_job
from services.segmentation.rfm import SegmentMap
from services.segmentation.schemas import (
    ClusteringCreate,
    ClusteringRead,
    ClusteringUpdate,
    ClvFitRead,
    ClvFitRequest,
    ClvModelRead,
    ClvValidationRead,
    RfmMap,
)
from services.segmentation.segments import lock_memberships, recompute_dependents
from services.segmentation.service import get_features
from shared.auth import authorize
from shared.db import utcnow
from shared.deps import EventsDep, SessionDep
from shared.errors import Conflict, Invalid, field_error

AllowStale = Annotated[bool, Query(description="fit even while the replica is behind profiles (the result says so)")]
router = APIRouter(prefix="/v1", tags=["models"], dependencies=[Depends(authorize)])


async def _read(session: SessionDep, clustering: Any) -> ClusteringRead:
    run = await clusterings.latest_run(session, clustering.id)
    fields = {name: getattr(clustering, name) for name in ClusteringRead.model_fields if name != "latest_run"}
    return ClusteringRead(**fields | {"k": clustering.k or "auto", "latest_run": clusterings.run_summary(run)})


def _fit_after_commit(tasks: BackgroundTasks, request: Request, clustering_id: str) -> None:
    tasks.add_task(run_clustering_job, request.app.state.runtime, clustering_id)


@router.post("/clusterings", response_model=ClusteringRead, status_code=status.HTTP_201_CREATED)
async def create_clustering(
    body: ClusteringCreate,
    session: SessionDep,
    tasks: BackgroundTasks,
    request: Request,
    allow_stale: AllowStale = False,
) -> ClusteringRead:
    """Create a clustering and fit it as a job (poll `status` and `progress`); 409 while the replica is behind
    profiles unless `allow_stale`."""
    require_fresh(await measure(request.app.state.runtime), allow_stale=allow_stale)
    clustering = await clusterings.create_clustering(session, **body.model_dump())
    _fit_after_commit(tasks, request, clustering.id)
    return await _read(session, clustering)


@router.get("/clusterings", response_model=list[ClusteringRead])
async def list_clusterings(session: SessionDep) -> list[ClusteringRead]:
    """Every clustering with its latest result."""
    return [await _read(session, c) for c in await clusterings.list_clusterings(session)]


@router.get("/clusterings/{clustering_id}", response_model=ClusteringRead)
async def get_clustering(clustering_id: str, session: SessionDep) -> ClusteringRead:
    """A clustering: job status and progress, clusters with sizes, centroids, descriptions, names, silhouette."""
    return await _read(session, await clusterings.get_clustering(session, clustering_id))


@router.patch("/clusterings/{clustering_id}", response_model=ClusteringRead)
async def update_clustering(clustering_id: str, body: ClusteringUpdate, session: SessionDep) -> ClusteringRead:
    """Rename a clustering or set its re-run schedule (`rerun_every_hours`, null for none)."""
    changes = body.model_dump(exclude_unset=True)
    return await _read(session, await clusterings.update_clustering(session, clustering_id, changes))


@router.post("/clusterings/{clustering_id}/runs", response_model=ClusteringRead, status_code=status.HTTP_202_ACCEPTED)
async def rerun_clustering(
    clustering_id: str, session: SessionDep, tasks: BackgroundTasks, request: Request, allow_stale: AllowStale = False
) -> ClusteringRead:
    """Fit the clustering again now; published segments keep their ids and the drift is recorded (409 while the
    replica is behind profiles unless `allow_stale`)."""
    require_fresh(await measure(request.app.state.runtime), allow_stale=allow_stale)
    clustering = await clusterings.start_run(session, clustering_id)
    _fit_after_commit(tasks, request, clustering.id)
    return await _read(session, clustering)


@router.post("/clusterings/{clustering_id}/publish", response_model=ClusteringRead)
async def publish_clustering(clustering_id: str, session: SessionDep, events: EventsDep) -> ClusteringRead:
    """Create one segment per cluster of the latest run (kept stable across re-runs) and fill them."""
    await lock_memberships(session, exclusive=True)  # before writing scores (see `lock_memberships`)
    clustering = await clusterings.get_clustering(session, clustering_id)
    run = await clusterings.latest_run(session, clustering_id)
    if run is None:
        raise Conflict("The clustering has no finished run to publish yet.")
    segment_ids = await clusterings.publish(session, clustering, run)
    await recompute_dependents(session, segment_ids, events, utcnow().date(), scores_changed=True)
    return await _read(session, clustering)


@router.get("/clusterings/{clustering_id}/drift")
async def get_drift(clustering_id: str, session: SessionDep) -> dict[str, Any]:
    """Drift of each run against the one before: adjusted Rand index, PSI of cluster sizes, transitions."""
    runs = await clusterings.runs(session, clustering_id)
    return {"clustering_id": clustering_id, "runs": len(runs), "reports": clusterings.drift_history(runs)}


@router.post("/clv/fit", response_model=ClvFitRead, status_code=status.HTTP_202_ACCEPTED)
async def fit_clv(
    body: ClvFitRequest, session: SessionDep, tasks: BackgroundTasks, request: Request, allow_stale: AllowStale = False
) -> ClvFitRead:
    """Start a CLV fit as a job (poll `GET /v1/clv/fits/{id}`; 409 while another is under way, or while the replica
    is behind profiles unless `allow_stale`): BG/NBD +
    Gamma-Gamma, then every customer scored (P(alive), expected purchases over the horizon, CLV, CLV percentile)
    and the segments that use scores recomputed."""
    require_fresh(await measure(request.app.state.runtime), allow_stale=allow_stale)
    options = lifetime.ClvOptions(body.calibration_end or utcnow().date(), body.time_unit, body.horizon,
                                  body.discount_rate, body.rerun_every_hours)  # fmt: skip
    fit = await clv_fits.start_fit(session, options)
    tasks.add_task(run_clv_fit_job, request.app.state.runtime, fit.id)
    [read] = await clv_fits.describe_fits(session, [fit])
    return ClvFitRead(**read)


@router.get("/clv/fits", response_model=list[ClvFitRead])
async def list_clv_fits(session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[ClvFitRead]:
    """The latest CLV fits, newest first, with their status and the model each made."""
    return [ClvFitRead(**f) for f in await clv_fits.describe_fits(session, await clv_fits.recent_fits(session, limit))]


@router.get("/clv/fits/{fit_id}", response_model=ClvFitRead)
async def get_clv_fit(fit_id: str, session: SessionDep) -> ClvFitRead:
    """A CLV fit: status, progress and stage, then the model it made or the error that stopped it."""
    [read] = await clv_fits.describe_fits(session, [await clv_fits.get_fit(session, fit_id)])
    return ClvFitRead(**read)


@router.get("/clv/validation", response_model=ClvValidationRead)
async def validate_clv(
    session: SessionDep, request: Request, calibration_end: date, holdout_end: date,
    time_unit: Literal["days", "weeks"] = "weeks", allow_stale: AllowStale = False,
) -> ClvValidationRead:  # fmt: skip
    """Fit BG/NBD on orders up to `calibration_end` and compare the repeat purchases it expects up to `holdout_end`
    with the ones made, overall and by calibration repeat purchases (Fader, Hardie & Lee 2005); nothing is stored."""
    if holdout_end <= calibration_end:
        raise Invalid("The holdout must end after the calibration period.",
                      fields=[field_error("query.holdout_end", "must be after calibration_end")])  # fmt: skip
    freshness = await measure(request.app.state.runtime)
    require_fresh(freshness, allow_stale=allow_stale)
    rows = await lifetime.order_days(session)
    fit, report = await asyncio.to_thread(lifetime.validate, rows, calibration_end, holdout_end, time_unit)
    return ClvValidationRead(**asdict(report) | {"time_unit": time_unit, "bgnbd": asdict(fit), "freshness": freshness})


@router.get("/clv", response_model=ClvModelRead)
async def get_clv_model(session: SessionDep) -> ClvModelRead:
    """The latest CLV model: settings, parameters, log-likelihoods, excluded customers and schedule."""
    return ClvModelRead(**lifetime.describe(await lifetime.latest_model(session)))


def _moment(as_of: datetime | None) -> datetime:
    return as_of if as_of and as_of.tzinfo else (as_of.replace(tzinfo=UTC) if as_of else utcnow())


@router.get("/rfm/summary")
async def get_rfm_summary(session: SessionDep, as_of: datetime | None = None) -> dict[str, Any]:
    """RFM segments (Champions … Lost) of every customer with an order, scored by quintiles."""
    return await scores.rfm_summary(session, _moment(as_of))


@router.post("/rfm/score")
async def score_rfm(
    session: SessionDep, events: EventsDep, request: Request, as_of: datetime | None = None,
    allow_stale: AllowStale = False,
) -> dict[str, Any]:  # fmt: skip
    """Score every customer's R, F, M and RFM segment as scores usable in segment rules; returns the summary with
    the replica's freshness (409 while it is behind profiles unless `allow_stale`)."""
    freshness = await measure(request.app.state.runtime)
    require_fresh(freshness, allow_stale=allow_stale)
    await lock_memberships(session, exclusive=True)  # before writing scores (see `lock_memberships`)
    summary = await scores.rfm_summary(session, _moment(as_of), save=True)
    await recompute_dependents(session, (), events, utcnow().date(), scores_changed=True)
    return summary | {"freshness": freshness}


def _map_body(mapping: SegmentMap) -> dict[str, Any]:
    return {"cells": scores.map_cells(mapping)}


@router.get("/rfm/segment-map")
async def get_segment_map(session: SessionDep) -> dict[str, Any]:
    """The RFM segment map: (R, FM) cells → segment names."""
    return _map_body(await scores.get_segment_map(session))


@router.put("/rfm/segment-map")
async def put_segment_map(body: RfmMap, session: SessionDep) -> dict[str, Any]:
    """Replace the RFM segment map (it applies from the next summary or scoring)."""
    return _map_body(await scores.set_segment_map(session, [c.model_dump() for c in body.cells]))


@router.get("/profiles/{profile_id}/scores")
async def get_profile_scores(profile_id: str, session: SessionDep) -> dict[str, Any]:
    """A profile's scores: RFM, CLV, P(alive), expected purchases, clusters."""
    return {"profile_id": profile_id, "scores": (await get_features(session, profile_id)).scores}


@router.get("/segments/{segment_id}/report")
async def get_segment_report(segment_id: str, session: SessionDep, request: Request) -> dict[str, Any]:
    """Size, revenue per customer, average order value, average CLV, conversion rate, sentiment, email consent;
    with the replica's freshness (`as_of`, and the lag when it was computed)."""
    report = await reports.segment_report(session, segment_id)
    return report | {"freshness": await measure(request.app.state.runtime)}
