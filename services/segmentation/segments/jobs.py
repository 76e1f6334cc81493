"""Segment jobs: a backfill after a segment is created or redefined, and the sweep that recomputes segments counting
events "in the last N days" as days pass. Each job has its own session and records a failure on the segment."""

from __future__ import annotations

from datetime import date

import structlog

from services.segmentation.segments.models import Segment
from services.segmentation.segments.service import backfill, has_time_window, list_segments, lock_memberships
from shared.db import utcnow
from shared.errors import failure_text
from shared.runtime import Runtime

log = structlog.get_logger(__name__)


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


async def sweep_once(runtime: Runtime, today: date | None = None) -> None:
    """Recompute every ready segment whose definition counts events in a time window (as of `today`)."""
    async with runtime.sessions() as session:
        due = [s.id for s in await list_segments(session) if s.status == "ready" and has_time_window(s)]
    for segment_id in due:
        await run_backfill(runtime, segment_id, today)
