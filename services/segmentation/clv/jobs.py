"""The CLV fit job: load the orders, fit and score off the event loop, then write scores and model in one
transaction; a failure lands on the fit, nothing else changes."""

from __future__ import annotations

import structlog

from services.segmentation.clv import fits, service
from services.segmentation.clv.service import Progress
from services.segmentation.replica.freshness import measure
from services.segmentation.segments.service import lock_memberships, recompute_dependents
from shared.db import utcnow
from shared.errors import DomainError
from shared.runtime import Runtime

log = structlog.get_logger(__name__)


def _clv_progress_of(runtime: Runtime, fit_id: str) -> Progress:
    async def progress(value: float, what: str) -> None:
        async with runtime.work() as work:
            await fits.report(work.session, fit_id, value, what)

    return progress


async def run_clv_fit_job(runtime: Runtime, fit_id: str) -> None:
    """Run a queued CLV fit: load the orders, fit and score off the event loop, then write the scores and the model
    and recompute the segments that read scores, in one transaction; a failure lands on the fit, nothing else."""
    try:
        async with runtime.work() as work:
            options = await fits.claim(work.session, fit_id)
            if options is None:
                return  # another replica runs it
        async with runtime.sessions() as session:
            rows = await service.order_days(session)
        fresh = await measure(runtime)  # what the fit saw: as of when, and what was still on its way
        progress = _clv_progress_of(runtime, fit_id)
        result = await service.fit_and_score(rows, options, progress)
        await progress(0.8, f"writing the scores of {result.customers} customers")  # before this job's writes begin
        async with runtime.work() as work:
            await lock_memberships(work.session, exclusive=True)  # before the scores: see `lock_memberships`
            model = await fits.finish(work.session, fit_id, options, result)
            model.parameters = model.parameters | {"freshness": fresh}
            await recompute_dependents(work.session, (), work.events, utcnow().date(), scores_changed=True)
    except Exception as exc:
        if not isinstance(exc, DomainError):
            log.exception("clv_fit_failed", fit_id=fit_id)
        async with runtime.work() as work:
            await fits.fail(work.session, fit_id, exc)
