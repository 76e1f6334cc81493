"""The clustering job: fit, record the run and its drift, republish its segments; a failure lands on the clustering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from services.segmentation.clustering.models import Clustering
from services.segmentation.clustering.service import fit_clustering, record_fit
from services.segmentation.replica.freshness import measure
from services.segmentation.segments.service import lock_memberships, recompute_dependents
from shared.db import utcnow
from shared.errors import DomainError, failure_text
from shared.runtime import Runtime

log = structlog.get_logger(__name__)
Progress = Callable[[float, str], Awaitable[None]]


def _progress_of(runtime: Runtime, clustering_id: str) -> Progress:
    async def progress(value: float, what: str) -> None:
        async with runtime.work() as work:
            clustering = await work.session.get(Clustering, clustering_id)
            if clustering is not None:
                clustering.status, clustering.progress, clustering.stage = "running", value, what

    return progress


async def run_clustering_job(runtime: Runtime, clustering_id: str) -> None:
    """Fit a clustering, record the run and its drift, republish its segments; failures land on the clustering."""
    try:
        async with runtime.sessions() as session:
            clustering = await session.get(Clustering, clustering_id)
            if clustering is None:
                return
            fresh = await measure(runtime)
            fitted = await fit_clustering(session, clustering, _progress_of(runtime, clustering_id))
        await _progress_of(runtime, clustering_id)(0.8, "comparing with the previous run")
        async with runtime.work() as work:
            await lock_memberships(work.session, exclusive=True)  # first: its writes then wait for no batch
            clustering = await work.session.get(Clustering, clustering_id, populate_existing=True)
            if clustering is None:
                return
            run, recompute = await record_fit(work.session, clustering, fitted)
            run.result = run.result | {"freshness": fresh}
            await recompute_dependents(work.session, recompute, work.events, utcnow().date(),
                                       scores_changed=bool(recompute))  # fmt: skip
    except Exception as exc:
        if not isinstance(exc, DomainError):
            log.exception("clustering_failed", clustering_id=clustering_id)
        async with runtime.work() as work:
            clustering = await work.session.get(Clustering, clustering_id)
            if clustering is not None:
                clustering.status, clustering.stage = "error", "failed"
                clustering.last_error = failure_text(exc)[:2000]
