"""The campaigns service: `create_app(settings)`; run with `uvicorn --factory services.campaigns.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.campaigns import api, survey_api
from services.campaigns.authoring import api as authoring_api
from services.campaigns.clients import PeerServices, peer_client
from services.campaigns.config import Settings, get_settings
from services.campaigns.consumer import HANDLERS
from services.campaigns.jobs import run_due
from services.campaigns.models import outbox
from services.campaigns.outbound_http import webhook_client
from services.campaigns.social import api as social_api
from shared.runtime import Runtime, ServiceSpec, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the campaigns app; connections open in the lifespan."""
    settings = settings or get_settings()

    async def start(runtime: Runtime) -> None:
        client = peer_client(settings)
        runtime.extras["peers_http"] = client
        runtime.extras["peers"] = PeerServices(
            client,
            segmentation_url=settings.segmentation_url.rstrip("/"),
            profiles_url=settings.profiles_url.rstrip("/"),
        )
        runtime.extras["http"] = webhook_client(settings.allowed_webhook_networks)
        if settings.schedule_check_seconds > 0:
            runtime.every(settings.schedule_check_seconds, lambda: run_due(runtime), "campaign-schedule")

    async def stop(runtime: Runtime) -> None:
        for name in ("peers_http", "http"):
            if name in runtime.extras:
                await runtime.extras[name].aclose()

    spec = ServiceSpec(
        name="campaigns",
        title="Tessera campaigns",
        routers=[
            authoring_api.read_only_router,
            authoring_api.router,
            api.router,
            social_api.router,
            survey_api.router,
        ],
        outbox=outbox,
        handlers=HANDLERS,
        on_startup=[start],
        on_shutdown=[stop],
    )
    return create_service_app(settings, spec)
