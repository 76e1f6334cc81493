"""The platform at a glance for the console's home screen, gathered from the services' REST APIs as the user."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import quote

from services.console.config import FORWARDED
from services.console.proxy import Forwarder, ServiceProblem
from shared.db import utcnow
from shared.pipeline import PipelineRead


def _count(body: Any) -> int:
    return int(body["count"])


def _length(body: Any) -> int:
    return len(body)


async def overview(forwarder: Forwarder, token: str) -> dict[str, Any]:
    """Profiles, today's events (since midnight UTC), segments, campaigns and each service's pipeline; None where a
    service did not answer, with the reason under `unavailable`."""
    midnight = datetime.combine(utcnow().date(), time(0), tzinfo=UTC).isoformat()
    counts: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
        "profiles": ("profiles", "/v1/profiles/count", _count),
        "events_today": ("profiles", f"/v1/events/count?since={quote(midnight)}", _count),
        "segments": ("segmentation", "/v1/segments", _length),
        "campaigns": ("campaigns", "/v1/campaigns", _length),
    }
    asks = {name: (service, target, read) for name, (service, target, read) in counts.items()}
    asks |= {f"pipeline:{s}": (s, "/v1/pipeline", PipelineRead.model_validate) for s in FORWARDED}
    headers = {"Authorization": f"Bearer {token}"}
    answers = await asyncio.gather(*(_ask(forwarder, s, t, read, headers) for s, t, read in asks.values()))
    found = dict(zip(asks, answers, strict=True))
    unavailable = {asks[name][0]: why for name, (_, why) in found.items() if why}
    result: dict[str, Any] = {name: found[name][0] for name in counts}
    result["pipeline"] = {s: found[f"pipeline:{s}"][0] for s in FORWARDED}
    return result | {"unavailable": unavailable, "checked_at": utcnow()}


async def _ask(
    forwarder: Forwarder, service: str, target: str, read: Callable[[Any], Any], headers: dict[str, str]
) -> tuple[Any, str | None]:
    try:
        return read(await forwarder.get_json(service, target, headers)), None
    except ServiceProblem as exc:
        return None, str(exc)
    except (KeyError, TypeError, ValueError):
        return None, "answered in an unexpected shape"
