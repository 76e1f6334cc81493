"""How fresh what segmentation computes is: the newest profile change its replica holds (`as_of`), and how many
changes are still on their way (its consumer's lag on `tessera.profiles.v1` and what profiles has not passed on)."""

from __future__ import annotations

from typing import Any

import httpx
import structlog
from sqlalchemy import func, select

from services.segmentation.exceptions import ReplicaBehind
from services.segmentation.replica.models import ProfileFeatures
from shared.db import utcnow
from shared.errors import field_error
from shared.events import PROFILES
from shared.runtime import Runtime

log = structlog.get_logger(__name__)


async def measure(runtime: Runtime) -> dict[str, Any]:
    """`as_of`, `lag` (None when it cannot be known: the consumer has not joined, profiles did not answer) and its
    parts, as JSON-ready values."""
    upstream = await _profiles_pending(runtime)
    replica = await _replica_lag(runtime)  # before reading the replica: what was applied is then in it
    async with runtime.sessions() as session:
        as_of = await session.scalar(select(func.max(ProfileFeatures.updated_at)))
    known = replica is not None and (upstream is not None or "profiles_http" not in runtime.extras)
    return {"as_of": as_of.isoformat() if as_of else None, "lag": (replica or 0) + (upstream or 0) if known else None,
            "replica_lag": replica, "upstream_pending": upstream, "checked_at": utcnow().isoformat()}  # fmt: skip


def require_fresh(freshness: dict[str, Any], *, allow_stale: bool) -> None:
    """409 with the lag when the replica is behind profiles (or nobody can tell), unless the caller allows it."""
    if allow_stale or freshness["lag"] == 0:
        return
    behind = "an unknown number of" if freshness["lag"] is None else f"{freshness['lag']:,}"
    raise ReplicaBehind(
        f"Segmentation's replica is behind profiles ({behind} profile changes still on their way, newest applied "
        f"{freshness['as_of'] or 'none'}): a fit now would leave them out. Try again shortly, or pass "
        "allow_stale=true.",
        fields=[field_error("allow_stale", f"lag {behind}")],
    )


async def _replica_lag(runtime: Runtime) -> int | None:
    lags = []
    for worker in runtime.workers:
        status = await worker.status()
        if not status["joined"]:
            return None
        lags.append(status["topics"].get(PROFILES, {}).get("lag", 0))
    return sum(lags) if lags else None


async def _profiles_pending(runtime: Runtime) -> int | None:
    """What profiles has not passed on yet (its consumers' lag and its outbox), from its `GET /v1/pipeline`."""
    client: httpx.AsyncClient | None = runtime.extras.get("profiles_http")
    if client is None:
        return None
    try:
        response = await client.get("/v1/pipeline")
        response.raise_for_status()
        return int(response.json()["pending"])
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("profiles_pipeline_unknown", error=type(exc).__name__)
        return None
