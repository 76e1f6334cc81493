"""The profiles service: `create_app(settings)`; run with `uvicorn --factory services.profiles.app:create_app`."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import FastAPI

from services.profiles import api, feedback_api, imports_api, journeys_api
from services.profiles.config import Settings, get_settings
from services.profiles.consumer import handlers
from services.profiles.models import outbox
from services.profiles.service import prune_timeline
from shared.runtime import Runtime, ServiceSpec, create_service_app

log = structlog.get_logger(__name__)


async def _retention_loop(runtime: Runtime, days: int, every_seconds: float = 3600) -> None:
    """Keep the timeline within its retention period, in small deletes."""
    while True:
        try:
            while True:
                async with runtime.sessions() as session:
                    deleted = await prune_timeline(session, older_than_days=days)
                    await session.commit()
                if not deleted:
                    break
        except Exception as exc:  # the database may be briefly away: try again next round
            log.warning("timeline_retention_failed", error=type(exc).__name__)
        await asyncio.sleep(every_seconds)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the profiles app; connections open in the lifespan."""
    settings = settings or get_settings()

    async def start(runtime: Runtime) -> None:
        if settings.timeline_retention_days > 0:
            runtime.spawn(_retention_loop(runtime, settings.timeline_retention_days), "timeline-retention")

    routers = [api.read_only_router, api.router, imports_api.router, feedback_api.router, journeys_api.router]
    spec = ServiceSpec(
        name="profiles",
        title="Tessera profiles",
        routers=routers,
        outbox=outbox,
        handlers=handlers(settings.points_per_event),
        on_startup=[start],
    )
    return create_service_app(settings, spec)
