"""The campaigns service: `create_app(settings)`; run with `uvicorn --factory services.campaigns.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.campaigns import api
from services.campaigns.config import Settings, get_settings
from services.campaigns.consumer import HANDLERS
from services.campaigns.models import outbox
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the campaigns app; connections open in the lifespan."""
    spec = ServiceSpec(
        name="campaigns", title="Tessera campaigns", routers=[api.router], outbox=outbox, handlers=HANDLERS
    )
    return create_service_app(settings or get_settings(), spec)
