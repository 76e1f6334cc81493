"""Unmodified Segment client, per-key rate limit, and the signed email open/click/unsubscribe links."""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import pytest
import rudderstack.analytics.client as rudder_analytics
import segment.analytics as analytics_module
import uvicorn

from services.tracking.app import create_app
from services.tracking.config import Settings
from shared.events import EVENTS
from shared.tokens import sign_token
from tessera.broker import free_port
from tests.builders import service_settings
from tests.conftest import LINK_SECRET, WRITE_KEY
from tests.helpers import TopicReader, running, wait_for

SECRET = LINK_SECRET


@pytest.fixture(scope="module")
async def live_tracking(broker: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The tracking app served by a real uvicorn on a free port (for clients that need a socket)."""
    data_dir = tmp_path_factory.mktemp("live")
    settings = service_settings(Settings, broker=broker, database_url=f"sqlite+aiosqlite:///{data_dir / 't.db'}",
                                data_dir=data_dir, rate_limit_per_second=0)  # fmt: skip
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{url}/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(ready, timeout=20)
    yield url
    server.should_exit = True
    await asyncio.to_thread(thread.join, 10)


async def test_unmodified_segment_python_client_delivers(live_tracking: str, broker: str) -> None:
    mark = uuid.uuid4().hex[:10]
    client = analytics_module.Client(WRITE_KEY, host=live_tracking, sync_mode=True, gzip=True)
    client.identify(f"seg-{mark}", {"email": "jo@example.com", "mark": mark})
    client.track(f"seg-{mark}", "Order Completed", {"revenue": 10, "mark": mark})
    client.page(f"seg-{mark}", "Docs", "Home", {"url": "https://s.example/?utm_campaign=spring", "mark": mark})
    client.flush()
    async with TopicReader(broker, EVENTS) as reader:
        found = await reader.wait_until(lambda v: v.get("userId") == f"seg-{mark}", count=3)
    by_type = {v["type"]: v for v in found}
    assert set(by_type) == {"identify", "track", "page"}
    assert by_type["identify"]["context"]["library"]["name"] == "analytics-python"
    assert by_type["track"]["receivedAt"] and by_type["track"]["sourceId"]


async def test_unmodified_rudderstack_python_client_delivers(live_tracking: str, broker: str) -> None:
    mark = uuid.uuid4().hex[:10]
    client = rudder_analytics.Client(WRITE_KEY, host=live_tracking, sync_mode=True)  # gzip on by default
    client.identify(f"rs-{mark}", {"plan": "pro"})
    client.track(f"rs-{mark}", "Product Added", {"sku": "s-1"})
    client.flush()
    async with TopicReader(broker, EVENTS) as reader:
        found = await reader.wait_until(lambda v: v.get("userId") == f"rs-{mark}", count=2)
    assert {v["type"] for v in found} == {"identify", "track"}
    assert all(v["receivedAt"] and v["sourceId"] for v in found)


async def test_rate_limit_answers_429_with_retry_after(broker: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = service_settings(Settings, broker=broker, database_url=f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
                                data_dir=tmp_path, rate_limit_per_second=1, rate_limit_burst=3)  # fmt: skip
    async with running(create_app(settings)) as client:
        codes = [
            (await client.post("/v1/t", json={"userId": "r", "event": "E"}, headers={"X-Write-Key": WRITE_KEY}))
            for _ in range(5)
        ]
    assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
    assert int(codes[-1].headers["retry-after"]) >= 1 and codes[-1].json()["error"]["code"] == "rate_limited"


class TestEmailLinks:
    async def test_open_pixel_records_human_and_machine_opens(self, live_tracking: str, broker: str) -> None:
        profile = uuid.uuid4().hex
        token = sign_token({"k": "o", "c": "camp", "v": "A", "p": profile}, SECRET)
        async with httpx.AsyncClient() as client:
            human = await client.get(f"{live_tracking}/v1/o/{token}.gif", headers={"User-Agent": "Mozilla/5.0 Firefox"})
            proxy = await client.get(
                f"{live_tracking}/v1/o/{token}.gif",
                headers={"User-Agent": "Mozilla/5.0 (via ggpht.com GoogleImageProxy)"},
            )
        assert human.status_code == proxy.status_code == 200 and human.headers["content-type"] == "image/gif"
        async with TopicReader(broker, EVENTS) as reader:
            opens = await reader.wait_until(lambda v: (v.get("context") or {}).get("profileId") == profile, count=2)
        assert sorted(o["properties"]["machine_open"] for o in opens) == [False, True]
        assert all(o["sourceTrusted"] is True for o in opens)
        assert {o["event"] for o in opens} == {"Email Opened"} and opens[0]["properties"]["campaign_id"] == "camp"

    async def test_click_redirects_to_the_signed_link(self, live_tracking: str, broker: str) -> None:
        profile = uuid.uuid4().hex
        token = sign_token({"k": "c", "c": "camp", "v": "B", "p": profile, "l": "https://shop.example/sale"}, SECRET)
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{live_tracking}/v1/c/{token}")
        assert response.status_code == 302 and response.headers["location"] == "https://shop.example/sale"
        async with TopicReader(broker, EVENTS) as reader:
            [click] = await reader.wait_until(lambda v: (v.get("context") or {}).get("profileId") == profile)
        assert click["event"] == "Email Link Clicked" and click["properties"]["variant_id"] == "B"
        assert click["sourceTrusted"] is True

    async def test_unsubscribe_link_records_unsubscribed(self, live_tracking: str, broker: str) -> None:
        profile = uuid.uuid4().hex
        token = sign_token({"k": "u", "c": "camp", "p": profile}, SECRET)
        async with httpx.AsyncClient() as client:
            assert (await client.post(f"{live_tracking}/v1/u/{token}")).status_code == 200
        async with TopicReader(broker, EVENTS) as reader:
            [event] = await reader.wait_until(lambda v: (v.get("context") or {}).get("profileId") == profile)
        assert event["event"] == "Unsubscribed"

    @pytest.mark.parametrize("path", ["/v1/c/{t}", "/v1/o/{t}.gif", "/v1/u/{t}"])
    async def test_tampered_token_is_400_and_never_redirects(self, live_tracking: str, path: str) -> None:
        token = sign_token({"k": "c", "p": "p", "l": "https://shop.example/"}, SECRET)
        forged = sign_token({"k": "c", "p": "p", "l": "https://evil.example/"}, "guessed-secret")
        async with httpx.AsyncClient() as client:
            for bad in (forged, token[:-3] + "abc", "nonsense"):
                response = await client.get(live_tracking + path.format(t=bad))
                assert response.status_code == 400 and "location" not in response.headers
