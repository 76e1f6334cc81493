"""The segmentation service: `create_app(settings)`, run by uvicorn with `--factory`."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.segmentation.base import outbox
from services.segmentation.clustering import api as clustering_api
from services.segmentation.clv import api as clv_api
from services.segmentation.config import Settings, get_settings
from services.segmentation.consumer import HANDLERS
from services.segmentation.jobs import run_due, sweep_if_due
from services.segmentation.replica import api as replica_api
from services.segmentation.rfm import api as rfm_api
from services.segmentation.segments import api as segments_api
from shared.runtime import Runtime, ServiceSpec, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the segmentation app; connections open in the lifespan."""
    settings = settings or get_settings()

    async def start(runtime: Runtime) -> None:
        if settings.profiles_url:
            key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else ""
            runtime.extras["profiles_http"] = httpx.AsyncClient(
                base_url=settings.profiles_url.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=5.0
            )
        if settings.sweep_interval_seconds > 0:
            every = settings.sweep_interval_seconds
            runtime.every(every, lambda: sweep_if_due(runtime, every), "segment-sweep")
        if settings.schedule_check_seconds > 0:
            runtime.every(settings.schedule_check_seconds, lambda: run_due(runtime), "model-schedule")

    async def stop(runtime: Runtime) -> None:
        if "profiles_http" in runtime.extras:
            await runtime.extras["profiles_http"].aclose()

    spec = ServiceSpec(
        name="segmentation",
        title="Tessera segmentation",
        routers=[
            segments_api.read_only_router,
            segments_api.router,
            replica_api.router,
            clustering_api.router,
            clv_api.router,
            rfm_api.router,
        ],
        outbox=outbox,
        handlers=HANDLERS,
        on_startup=[start],
        on_shutdown=[stop],
    )
    return create_service_app(settings, spec)
