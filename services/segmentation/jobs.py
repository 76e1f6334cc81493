"""Background jobs: segment backfills, clustering runs, CLV fits, the time-window sweep and scheduled re-segmentation.
Each job has its own session, sends its events through the outbox, and records a failure where users see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import structlog

from services.segmentation import clv_fits, lifetime
from services.segmentation.clusterings import claim_scheduled_run, due_clusterings, fit_clustering, record_fit
from services.segmentation.freshness import measure
from services.segmentation.models import Clustering, Segment
from services.segmentation.segments import (
    backfill,
    has_time_window,
    list_segments,
    lock_memberships,
    recompute_dependents,
)
from services.segmentation.service import claim_round
from shared.db import utcnow
from shared.errors import DomainError, failure_text
from shared.runtime import Runtime

log = structlog.get_logger(__name__)
Progress = Callable[[float, str], Awaitable[None]]


async def run_backfill(runtime: Runtime, segment_id: str, today: date | None = None) -> None:
    """Recompute a segment's members; a failure is recorded on the segment, never hidden."""
    try:
        async with runtime.work() as work:
            await lock_memberships(work.session, exclusive=True)  # no batch moves members meanwhile
            segment = await work.session.get(Segment, segment_id, populate_existing=True)
            if segment is not None:
                await backfill(work.session, segment, work.events, today or utcnow().date())
    except Exception as exc:
        log.exception("segment_backfill_failed", segment_id=segment_id)
        async with runtime.work() as work:
            segment = await work.session.get(Segment, segment_id)
            if segment is not None:
                segment.status, segment.last_error = "error", failure_text(exc)[:2000]


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


def _clv_progress_of(runtime: Runtime, fit_id: str) -> Progress:
    async def progress(value: float, what: str) -> None:
        async with runtime.work() as work:
            await clv_fits.report(work.session, fit_id, value, what)

    return progress


async def run_clv_fit_job(runtime: Runtime, fit_id: str) -> None:
    """Run a queued CLV fit: load the orders, fit and score off the event loop, then write the scores and the model
    and recompute the segments that read scores, in one transaction; a failure lands on the fit, nothing else."""
    try:
        async with runtime.work() as work:
            options = await clv_fits.claim(work.session, fit_id)
            if options is None:
                return  # another replica runs it
        async with runtime.sessions() as session:
            rows = await lifetime.order_days(session)
        fresh = await measure(runtime)  # what the fit saw: as of when, and what was still on its way
        progress = _clv_progress_of(runtime, fit_id)
        result = await lifetime.fit_and_score(rows, options, progress)
        await progress(0.8, f"writing the scores of {result.customers} customers")  # before this job's writes begin
        async with runtime.work() as work:
            await lock_memberships(work.session, exclusive=True)  # before the scores: see `lock_memberships`
            model = await clv_fits.finish(work.session, fit_id, options, result)
            model.parameters = model.parameters | {"freshness": fresh}
            await recompute_dependents(work.session, (), work.events, utcnow().date(), scores_changed=True)
    except Exception as exc:
        if not isinstance(exc, DomainError):
            log.exception("clv_fit_failed", fit_id=fit_id)
        async with runtime.work() as work:
            await clv_fits.fail(work.session, fit_id, exc)


async def sweep_if_due(runtime: Runtime, every_seconds: float) -> None:
    """The periodic sweep, run by one replica per interval (the first to claim the round)."""
    async with runtime.work() as work:
        claimed = await claim_round(work.session, "segment-sweep", every_seconds, utcnow())
    if claimed:
        await sweep_once(runtime)


async def sweep_once(runtime: Runtime, today: date | None = None) -> None:
    """Recompute every ready segment whose definition counts events in a time window (as of `today`)."""
    async with runtime.sessions() as session:
        due = [s.id for s in await list_segments(session) if s.status == "ready" and has_time_window(s)]
    for segment_id in due:
        await run_backfill(runtime, segment_id, today)


async def run_due(runtime: Runtime) -> None:
    """Run every scheduled clustering and CLV refit that is due now."""
    async with runtime.work() as work:
        due = await due_clusterings(work.session, utcnow())
        clusterings = [c for c in due if await claim_scheduled_run(work.session, c, utcnow())]
        refit = await clv_fits.queue_due_refit(work.session, utcnow())
    for clustering_id in clusterings:
        await run_clustering_job(runtime, clustering_id)
    if refit is not None:
        await run_clv_fit_job(runtime, refit.id)
