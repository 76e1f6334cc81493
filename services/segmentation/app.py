"""The segmentation service: `create_app(settings)`, run by uvicorn with `--factory`."""

from __future__ import annotations

from fastapi import FastAPI

from services.segmentation import api
from services.segmentation.config import Settings, get_settings
from services.segmentation.consumer import HANDLERS
from services.segmentation.models import outbox
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the segmentation app; connections open in the lifespan."""
    spec = ServiceSpec(
        name="segmentation",
        title="Tessera segmentation",
        routers=[api.read_only_router, api.router],
        outbox=outbox,
        handlers=HANDLERS,
    )
    return create_service_app(settings or get_settings(), spec)
