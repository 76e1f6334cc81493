"""Nothing silently wrong: a fit asked for while segmentation's replica is behind profiles is refused with the lag
(unless the caller allows it, and then the result says how stale it was); reports carry their freshness."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.segmentation import consumer
from services.segmentation.app import create_app
from services.segmentation.config import Settings
from tests.builders import service_settings
from tests.conftest import BACKENDS
from tests.helpers import wait_for
from tests.segmentation.builders import ANALYST, MARKETER, profile_message, publish_messages


@pytest.fixture(scope="module", params=BACKENDS)
async def held(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, asyncio.Event]]:
    """A segmentation app whose consumer applies nothing until the event is set."""
    release = asyncio.Event()
    original = consumer.lock_memberships  # the first thing a batch does

    async def held_back(session: Any, *, exclusive: bool) -> None:
        await release.wait()
        await original(session, exclusive=exclusive)

    patch = pytest.MonkeyPatch()
    patch.setattr(consumer, "lock_memberships", held_back)
    url = await fresh_database(request.param, "fresh")
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("f"),
                                consumer_group=f"fresh-{uuid.uuid4().hex[:6]}")  # fmt: skip
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                yield client, release
    finally:
        release.set()
        patch.undo()


async def _pipeline_lag(client: httpx.AsyncClient) -> int | None:
    body = (await client.get("/v1/pipeline", headers=ANALYST)).json()
    lag = sum(t["lag"] for c in body["consumers"] for t in c["topics"].values())
    return lag if body["consumers"][0]["joined"] and lag > 0 else None


async def test_a_fit_on_a_replica_behind_profiles_is_refused_with_the_lag(held: Any, broker: str) -> None:
    client, release = held
    m = uuid.uuid4().hex[:8]
    await publish_messages(broker, [profile_message(f"f{m}{i}", {"t": m}, {"orders": i}) for i in range(5)])
    lag = await wait_for(lambda: _pipeline_lag(client), timeout=30)
    refused = await client.post("/v1/clv/fit", json={}, headers=MARKETER)
    assert refused.status_code == 409 and refused.json()["error"]["fields"][0]["field"] == "allow_stale"
    assert "behind profiles" in refused.json()["error"]["message"]
    clustering = {"name": "c", "features": ["orders"], "k": 2}
    assert (await client.post("/v1/clusterings", json=clustering, headers=MARKETER)).status_code == 409
    assert (await client.post("/v1/rfm/score", headers=MARKETER)).status_code == 409
    stale = await client.post("/v1/rfm/score", params={"allow_stale": "true"}, headers=MARKETER)
    assert stale.status_code == 200 and stale.json()["freshness"]["lag"] >= 1 and lag >= 1

    release.set()

    async def caught_up() -> dict[str, Any] | None:
        body = (await client.post("/v1/rfm/score", headers=MARKETER)).json()
        return body if body.get("freshness", {}).get("lag") == 0 else None

    fresh = await wait_for(caught_up, timeout=60)
    assert fresh["freshness"]["as_of"] is not None and fresh["freshness"]["replica_lag"] == 0
