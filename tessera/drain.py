"""A clean stop of the embedded stack loses nothing: the embedded broker keeps records in memory only, so before it
stops every consumer group must have applied (and committed) everything on it and every outbox must be empty."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

Report = Callable[[str], None]


def pending_work(client: httpx.Client, urls: dict[str, str]) -> dict[str, str]:
    """service → what it still has to pass on ("" when nothing), from each service's `GET /v1/pipeline`."""
    left: dict[str, str] = {}
    for name, url in urls.items():
        try:
            response = client.get(f"{url}/v1/pipeline")
            response.raise_for_status()
            left[name] = describe_pending(response.json())
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            left[name] = f"no answer ({type(exc).__name__})"
    return left


def describe_pending(pipeline: dict[str, Any]) -> str:
    """ "1,200 on tessera.events.v1, outbox 4" for a pipeline document; "" when nothing is pending."""
    parts = [f"{t['lag']:,} on {topic}" for c in pipeline["consumers"] for topic, t in c["topics"].items() if t["lag"]]
    parts += [f"not assigned in {c['group']}" for c in pipeline["consumers"] if not c["joined"]]
    if pipeline["outbox_pending"]:
        parts.append(f"outbox {pipeline['outbox_pending']:,}")
    parts += [f"{name} {count:,}" for name, count in pipeline["held"].items() if count]
    return ", ".join(parts)


def drain(urls: dict[str, str], api_key: str, *, timeout: float, report: Report) -> dict[str, str]:
    """Wait until nothing is pending anywhere twice in a row (a relay may be between two services in one look),
    reporting progress about once a second; return what was still pending when `timeout` ran out."""
    deadline, quiet, last_report = time.monotonic() + timeout, 0, 0.0
    with httpx.Client(timeout=5, headers={"Authorization": f"Bearer {api_key}"}) as client:
        while True:
            left = {name: what for name, what in pending_work(client, urls).items() if what}
            quiet = 0 if left else quiet + 1
            if quiet >= 2:
                return {}
            if time.monotonic() > deadline:
                return left
            if left and time.monotonic() - last_report >= 1.0:
                report("draining: " + " · ".join(f"{name} {what}" for name, what in sorted(left.items())))
                last_report = time.monotonic()
            time.sleep(0.2)
