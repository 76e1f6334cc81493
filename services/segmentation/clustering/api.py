"""Clusterings (ML segments): create and fit as jobs, re-run, publish as segments, and the drift between runs."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status

from services.segmentation.clustering import service as clusterings
from services.segmentation.clustering.jobs import run_clustering_job
from services.segmentation.clustering.models import Clustering
from services.segmentation.clustering.schemas import (
    ClusteringCreate,
    ClusteringRead,
    ClusteringUpdate,
    DriftHistoryRead,
    DriftReportRead,
)
from services.segmentation.deps import AllowStale
from services.segmentation.replica.freshness import measure, require_fresh
from services.segmentation.segments.service import lock_memberships, recompute_dependents
from shared.auth import authorize
from shared.db import utcnow
from shared.deps import EventsDep, SessionDep
from shared.errors import Conflict

router = APIRouter(prefix="/v1", tags=["clusterings"], dependencies=[Depends(authorize)])


async def _read(session: SessionDep, clustering: Clustering) -> ClusteringRead:
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


@router.get("/clusterings/{clustering_id}/drift", response_model=DriftHistoryRead)
async def get_drift(clustering_id: str, session: SessionDep) -> DriftHistoryRead:
    """Drift of each run against the one before: adjusted Rand index, PSI of cluster sizes, transitions."""
    runs = await clusterings.runs(session, clustering_id)
    reports = [DriftReportRead.model_validate(r) for r in clusterings.drift_history(runs)]
    return DriftHistoryRead(clustering_id=clustering_id, runs=len(runs), reports=reports)
