"""The profiles service: `create_app(settings)`; run with `uvicorn --factory services.profiles.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.profiles import api
from services.profiles.config import Settings, get_settings
from services.profiles.consumer import handlers
from services.profiles.feedback import api as feedback_api
from services.profiles.imports import api as imports_api
from services.profiles.journeys import api as journeys_api
from services.profiles.models import outbox
from services.profiles.service import prune_timeline
from shared.runtime import Runtime, ServiceSpec, create_service_app

RETENTION_EVERY_SECONDS = 3600.0


async def _prune(runtime: Runtime, days: int) -> None:
    """Keep the timeline within its retention period, in small deletes."""
    while True:
        async with runtime.sessions() as session:
            deleted = await prune_timeline(session, older_than_days=days)
            await session.commit()
        if not deleted:
            return


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the profiles app; connections open in the lifespan."""
    settings = settings or get_settings()

    async def start(runtime: Runtime) -> None:
        if settings.timeline_retention_days > 0:
            days = settings.timeline_retention_days
            runtime.every(RETENTION_EVERY_SECONDS, lambda: _prune(runtime, days), "timeline-retention")

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
