"""The periodic loops: the time-window sweep of segments and the scheduled clustering and CLV re-runs, each round
run by one replica (the first to claim it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.base import Setting
from services.segmentation.clustering.jobs import run_clustering_job
from services.segmentation.clustering.service import claim_scheduled_run, due_clusterings
from services.segmentation.clv import fits
from services.segmentation.clv.jobs import run_clv_fit_job
from services.segmentation.segments.jobs import sweep_once
from shared.db import insert_new, take_write_lock, utcnow
from shared.runtime import Runtime


async def sweep_if_due(runtime: Runtime, every_seconds: float) -> None:
    """The periodic sweep, run by one replica per interval (the first to claim the round)."""
    async with runtime.work() as work:
        claimed = await claim_round(work.session, "segment-sweep", every_seconds, utcnow())
    if claimed:
        await sweep_once(runtime)


async def run_due(runtime: Runtime) -> None:
    """Run every scheduled clustering and CLV refit that is due now."""
    async with runtime.work() as work:
        due = await due_clusterings(work.session, utcnow())
        clusterings = [c for c in due if await claim_scheduled_run(work.session, c, utcnow())]
        refit = await fits.queue_due_refit(work.session, utcnow())
    for clustering_id in clusterings:
        await run_clustering_job(runtime, clustering_id)
    if refit is not None:
        await run_clv_fit_job(runtime, refit.id)


async def claim_round(session: AsyncSession, name: str, every_seconds: float, now: datetime) -> bool:
    """Whether this replica runs this round of a periodic job: the first to find the last round older than the
    interval takes it (its row locked meanwhile), the others skip it."""
    key = f"round:{name}"
    await insert_new(session, Setting.__table__, [{"key": key, "value": {}}], ["key"])
    await take_write_lock(session, Setting.__table__)
    row = await session.scalar(select(Setting).where(Setting.key == key).with_for_update())
    last = (row.value or {}).get("at") if row else None
    if row is None or (last and datetime.fromisoformat(last) > now - timedelta(seconds=every_seconds * 0.9)):
        return False
    row.value = {"at": now.isoformat()}
    return True
