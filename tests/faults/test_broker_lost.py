"""A broker that comes back empty is never silent: the consumer notices that records it committed past are gone and
says so in `/v1/pipeline`, `/ready` and a metric (the embedded broker keeps records in memory only)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.segmentation.app import create_app
from services.segmentation.config import Settings
from shared.bus import ensure_topics
from shared.events import ALL_TOPICS
from tessera.broker import free_port, start_broker, stop_process
from tests.builders import service_settings
from tests.helpers import wait_for
from tests.segmentation.builders import ANALYST, count_matching, profile_message, publish_messages


@pytest.fixture
async def private_broker(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """A broker of this test's own, which the test may restart empty on the same port."""
    port = free_port()
    log = open(tmp_path / "broker.log", "ab")  # noqa: SIM115 - closed below
    state = {"address": f"127.0.0.1:{port}", "process": start_broker("127.0.0.1", port, log), "log": log, "port": port}
    yield state
    stop_process(state["process"])
    log.close()


async def _lost(client: httpx.AsyncClient) -> list[dict[str, Any]] | None:
    body = (await client.get("/v1/pipeline", headers=ANALYST)).json()
    return [lost for c in body["consumers"] for lost in c["lost_records"]] or None


async def test_a_broker_that_comes_back_empty_is_noticed_and_said(
    private_broker: dict[str, Any], fresh_database: Any, tmp_path: Path
) -> None:
    broker, m = private_broker["address"], uuid.uuid4().hex[:8]
    settings = service_settings(Settings, broker=broker, database_url=await fresh_database("sqlite", "lost"),
                                data_dir=tmp_path, consumer_group=f"lost-{m}")  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            await publish_messages(broker, [profile_message(f"l{m}{i}", {"t": m}, {}) for i in range(6)])
            await wait_for(lambda: count_matching(client, {"trait": "t", "op": "eq", "value": m}, 6), timeout=60)
            assert await _lost(client) is None

            stop_process(private_broker["process"])
            private_broker["process"] = start_broker("127.0.0.1", private_broker["port"], private_broker["log"])
            await ensure_topics(broker, ALL_TOPICS)  # as `tessera up` does: clients must not recreate them

            lost = await wait_for(lambda: _lost(client), timeout=60)
            assert {entry["topic"] for entry in lost} == {"tessera.profiles.v1"}
            ready = (await client.get("/ready")).json()
            assert any(c["lost_records"] for c in ready["consumers"])
            metrics = (await client.get("/metrics")).text
            assert "tessera_broker_lost_records_total{" in metrics
