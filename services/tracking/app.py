"""The tracking service: `create_app(settings)`; run with `uvicorn --factory services.tracking.app:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from datetime import timedelta

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from services.tracking import api, email_api, sources_api, survey_page
from services.tracking.config import Settings, get_settings
from services.tracking.deps import SourceCache
from services.tracking.guards import RateLimiter, RecentIds
from services.tracking.models import outbox
from services.tracking.publisher import Publisher
from services.tracking.service import DEFAULT_SOURCE_NAME, Limits, ensure_source_with_key
from services.tracking.spool import Spool
from shared.runtime import Runtime, ServiceSpec, create_service_app


async def _pending(spool: Spool) -> int:
    return spool.pending


async def _ensure_default_source(runtime: Runtime, write_key: str) -> None:
    """Create the default source once (replicas starting together take turns: `ensure_source_with_key` locks)."""
    async with runtime.work() as work:
        await ensure_source_with_key(work.session, name=DEFAULT_SOURCE_NAME, write_key=write_key)


def _spec(settings: Settings) -> ServiceSpec:
    async def start(runtime: Runtime) -> None:
        spool = Spool(settings.resolved_spool_path())
        settings.resolved_spool_path().parent.mkdir(parents=True, exist_ok=True)
        await spool.open()
        publisher = Publisher(runtime.bus, spool, timeout_seconds=settings.produce_timeout_seconds)
        runtime.extras.update(
            spool=spool,
            publisher=publisher,
            sources=SourceCache(runtime.sessions),
            limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
            email_limiter=RateLimiter(settings.email_rate_limit_per_second, settings.email_rate_limit_burst),
            limits=Limits(settings.max_event_bytes, timedelta(seconds=settings.future_tolerance_seconds)),
            recent_ids=RecentIds(settings.dedup_window_seconds, settings.dedup_max_ids),
            trusted_proxies=[ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies],
        )
        runtime.supervise(publisher.replay_forever, "spool-replay")
        runtime.held["spool"] = lambda _: _pending(spool)
        if settings.write_key:
            await _ensure_default_source(runtime, settings.write_key.get_secret_value())

    async def stop(runtime: Runtime) -> None:
        publisher: Publisher = runtime.extras["publisher"]
        with contextlib.suppress(Exception):  # flush what we can; the rest stays spooled for the next start
            async with asyncio.timeout(3):
                await publisher.replay_once()
        await runtime.extras["spool"].close()

    return ServiceSpec(
        name="tracking",
        title="Tessera tracking",
        routers=[api.router, email_api.router, survey_page.router, sources_api.router],
        outbox=outbox,
        on_startup=[start],
        on_shutdown=[stop],
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the tracking app; connections open in the lifespan."""
    settings = settings or get_settings()
    app = create_service_app(settings, _spec(settings))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "AnonymousId",
            "X-Write-Key",
            "Content-Encoding",
            "X-Retry-Count",
        ],
        max_age=86400,
    )
    return app
