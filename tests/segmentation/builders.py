"""Builders for segmentation tests: profile messages on the real broker, and waits on the API."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from shared.db import utcnow
from shared.events import PROFILES
from tests.builders import auth
from tests.conftest import ANALYST_KEY, MARKETER_KEY
from tests.helpers import wait_for

ANALYST, MARKETER = auth(ANALYST_KEY), auth(MARKETER_KEY)


def profile_message(profile_id: str, traits: dict[str, Any], computed: dict[str, Any],
                    consent: dict[str, bool] | None = None) -> dict[str, Any]:  # fmt: skip
    """A `profile.upserted.v1` message as profiles publishes it."""
    return {"type": "profile.upserted.v1", "profile_id": profile_id, "traits": traits, "computed": computed,
            "consent": consent or {}, "occurred_at": utcnow().isoformat()}  # fmt: skip


async def publish_messages(broker: str, messages: list[dict[str, Any]]) -> None:
    """Send profile messages to `tessera.profiles.v1`, keyed by profile."""
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for message in messages:
            await producer.send(PROFILES, orjson.dumps(message), key=message["profile_id"].encode())
        await producer.flush()
    finally:
        await producer.stop()


async def publish_profiles(broker: str, *profiles: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    """Publish (profile id, traits, computed) as upserts."""
    await publish_messages(broker, [profile_message(*p) for p in profiles])


async def features_of(client: httpx.AsyncClient, profile_id: str, key: str, value: Any) -> bool:
    """Whether segmentation's replica holds `computed[key] == value` for the profile."""
    response = await client.get(f"/v1/profiles/{profile_id}/features", headers=ANALYST)
    return response.status_code == 200 and response.json()["computed"].get(key) == value


async def ready(client: httpx.AsyncClient, segment_id: str) -> dict[str, Any] | None:
    """The segment once its status is `ready`."""
    body = (await client.get(f"/v1/segments/{segment_id}", headers=ANALYST)).json()
    return body if body["status"] == "ready" else None


async def settled(client: httpx.AsyncClient, clustering_id: str) -> dict[str, Any] | None:
    """The clustering once its job has finished (ready or error)."""
    body = (await client.get(f"/v1/clusterings/{clustering_id}", headers=ANALYST)).json()
    return body if body["status"] in ("ready", "error") else None


async def clv_settled(client: httpx.AsyncClient, fit_id: str) -> dict[str, Any] | None:
    """The CLV fit once its job has finished (ready or error)."""
    body = (await client.get(f"/v1/clv/fits/{fit_id}", headers=ANALYST)).json()
    return body if body["status"] in ("ready", "error") else None


async def fit_clv(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """Start a CLV fit over the API and wait for its job to finish; the fit as `GET /v1/clv/fits/{id}` shows it."""
    started = await client.post("/v1/clv/fit", json=body, headers=MARKETER)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued" and started.json()["trigger"] == "api"
    return await wait_for(lambda: clv_settled(client, started.json()["id"]), timeout=120)


async def count_matching(client: httpx.AsyncClient, definition: dict[str, Any], count: int) -> bool:
    """Whether exactly `count` profiles in the replica match a definition (profiles arrive on many partitions)."""
    response = await client.post("/v1/segments/preview", json={"definition": definition}, headers=ANALYST)
    return response.status_code == 200 and response.json()["count"] == count
