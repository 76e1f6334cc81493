"""Segment backfills as background jobs: their own session, events through the outbox, errors on the segment."""

from __future__ import annotations

import asyncio
from datetime import date

import structlog

from services.segmentation.models import Segment
from services.segmentation.segments import backfill, has_time_window, list_segments
from shared.bus import EventBuffer
from shared.db import utcnow
from shared.outbox import stage
from shared.runtime import Runtime

log = structlog.get_logger(__name__)


async def run_backfill(runtime: Runtime, segment_id: str, today: date | None = None) -> None:
    """Recompute a segment's members; a failure is recorded on the segment, never hidden."""
    try:
        buffer = EventBuffer()
        async with runtime.sessions() as session:
            segment = await session.get(Segment, segment_id)
            if segment is None:
                return
            await backfill(session, segment, buffer, today or utcnow().date())
            await stage(session, runtime.outbox, buffer)
            await session.commit()
        runtime.relay.notify()
    except Exception as exc:
        log.exception("segment_backfill_failed", segment_id=segment_id)
        async with runtime.sessions() as session:
            segment = await session.get(Segment, segment_id)
            if segment is not None:
                segment.status, segment.last_error = "error", f"{type(exc).__name__}: {exc}"[:2000]
                await session.commit()


async def sweep_forever(runtime: Runtime, every_seconds: float) -> None:
    """Recompute time-window segments regularly, so members whose events age out of the window leave."""
    while True:
        await asyncio.sleep(every_seconds)
        await sweep_once(runtime)


async def sweep_once(runtime: Runtime, today: date | None = None) -> None:
    """Recompute every ready segment whose definition counts events in a time window (as of `today`)."""
    async with runtime.sessions() as session:
        due = [s.id for s in await list_segments(session) if s.status == "ready" and has_time_window(s)]
    for segment_id in due:
        await run_backfill(runtime, segment_id, today)
