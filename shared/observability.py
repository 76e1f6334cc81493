"""`/health`, `/ready`, Prometheus `/metrics` and a request log without client addresses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import error_response, field_error

log = structlog.get_logger("tessera.http")

REQUESTS = Counter("tessera_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "tessera_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

Check = Callable[[], Awaitable[dict[str, Any] | None]]


class NotReady(Exception):
    """A readiness check's failure, with a message that says what is missing."""


def health_router(service: str, checks: dict[str, Check]) -> APIRouter:
    """Liveness, readiness (every check must pass within 2 s) and metrics."""
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": service}

    @router.get("/ready", response_model=None)
    async def ready() -> JSONResponse | dict[str, object]:
        """Readiness: the database and the broker answer, consumers are assigned, background loops run; the
        consumers' lag, lost records and loops as detail."""
        outcomes = {name: await _run_check(check) for name, check in checks.items()}
        results = {name: outcome for name, (outcome, _) in outcomes.items()}
        if all(r == "ok" for r in results.values()):
            details = {k: v for _, detail in outcomes.values() for k, v in (detail or {}).items()}
            return {"status": "ready", "service": service, "checks": results, **details}
        failing = [field_error(name, r) for name, r in results.items() if r != "ok"]
        message = f"Not ready ({', '.join(f['field'] + ': ' + f['reason'] for f in failing)})."
        return error_response(503, "unavailable", message, failing, headers={"Retry-After": "1"})

    @router.get("/metrics")
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run_check(check: Check) -> tuple[str, dict[str, Any] | None]:
    try:
        async with asyncio.timeout(2.0):
            return "ok", await check()
    except NotReady as exc:
        return str(exc), None
    except Exception as exc:
        return type(exc).__name__, None


class RequestMetrics:
    """Pure ASGI middleware: count and time requests by route template, log them without client addresses."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        REQUESTS.labels(self.service, method, route, str(status)).inc()
        LATENCY.labels(self.service, method, route).observe(elapsed)
        if route not in ("/health", "/ready", "/metrics"):
            log.debug("request", method=method, route=route, status=status, ms=round(elapsed * 1000, 1))


def install_request_metrics(app: FastAPI, service: str) -> None:
    """Count and time every request by route template."""
    app.add_middleware(RequestMetrics, service=service)
