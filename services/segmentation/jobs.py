"""Segment backfills as background jobs: their own session, events through the outbox, errors on the segment."""

from __future__ import annotations

import structlog

from services.segmentation.models import Segment
from services.segmentation.segments import backfill
from shared.bus import EventBuffer
from shared.db import utcnow
from shared.outbox import stage
from shared.runtime import Runtime

log = structlog.get_logger(__name__)


async def run_backfill(runtime: Runtime, segment_id: str) -> None:
    """Recompute a segment's members; a failure is recorded on the segment, never hidden."""
    try:
        buffer = EventBuffer()
        async with runtime.sessions() as session:
            segment = await session.get(Segment, segment_id)
            if segment is None:
                return
            await backfill(session, segment, buffer, utcnow().date())
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
