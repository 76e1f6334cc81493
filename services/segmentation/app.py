"""The segmentation service: `create_app(settings)`, run by uvicorn with `--factory`."""

from __future__ import annotations

from fastapi import FastAPI

from services.segmentation import api, ml_api
from services.segmentation.config import Settings, get_settings
from services.segmentation.consumer import HANDLERS
from services.segmentation.insight import api as insight_api
from services.segmentation.jobs import run_due, sweep_once
from services.segmentation.models import outbox
from shared.runtime import Runtime, ServiceSpec, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the segmentation app; connections open in the lifespan."""
    settings = settings or get_settings()

    async def start(runtime: Runtime) -> None:
        if settings.sweep_interval_seconds > 0:
            runtime.every(settings.sweep_interval_seconds, lambda: sweep_once(runtime), "segment-sweep")
        if settings.schedule_check_seconds > 0:
            runtime.every(settings.schedule_check_seconds, lambda: run_due(runtime), "model-schedule")

    spec = ServiceSpec(
        name="segmentation",
        title="Tessera segmentation",
        routers=[api.read_only_router, api.router, ml_api.router, insight_api.router],
        outbox=outbox,
        handlers=HANDLERS,
        on_startup=[start],
    )
    return create_service_app(settings, spec)
