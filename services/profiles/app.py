"""The profiles service: `create_app(settings)`; run with `uvicorn --factory services.profiles.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.profiles import api
from services.profiles.config import Settings, get_settings
from services.profiles.consumer import HANDLERS
from services.profiles.models import outbox
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the profiles app; connections open in the lifespan."""
    spec = ServiceSpec(
        name="profiles", title="Tessera profiles", routers=[api.router], outbox=outbox, handlers=HANDLERS
    )
    return create_service_app(settings or get_settings(), spec)
