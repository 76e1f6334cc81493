"""Unmodified Segment client, per-key rate limit, and the signed email open/click/unsubscribe links."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from html.parser import HTMLParser

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

    async def test_one_click_unsubscribe_post_records_unsubscribed(self, live_tracking: str, broker: str) -> None:
        profile = uuid.uuid4().hex
        token = sign_token({"k": "u", "c": "camp", "p": profile}, SECRET)
        async with httpx.AsyncClient() as client:
            # RFC 8058: what a mail client sends for the List-Unsubscribe-Post header.
            answer = await client.post(f"{live_tracking}/v1/u/{token}", data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200 and "not get these emails" in answer.text
        async with TopicReader(broker, EVENTS) as reader:
            [event] = await reader.wait_until(lambda v: (v.get("context") or {}).get("profileId") == profile)
        assert event["event"] == "Unsubscribed" and event["sourceTrusted"] is True

    async def test_get_unsubscribe_asks_first_and_records_nothing(self, live_tracking: str, broker: str) -> None:
        profile = uuid.uuid4().hex
        url = f"{live_tracking}/v1/u/{sign_token({'k': 'u', 'c': 'camp', 'p': profile}, SECRET)}"
        async with httpx.AsyncClient() as client:
            page = await client.get(url)  # what a mail scanner prefetching the link does
            form = Form.of(page.text)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert form.method == "post" and form.action in (None, "", url.removeprefix(live_tracking))
            assert form.button_type == "submit" and form.button_label.strip()
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
            confirmed = await client.post(url, data=form.fields)
        assert confirmed.status_code == 200 and "not get these emails" in confirmed.text
        async with TopicReader(broker, EVENTS) as reader:
            # One key, one partition: an event from the GET would come before the POST's and make two.
            [event] = await reader.wait_until(lambda v: (v.get("context") or {}).get("profileId") == profile)
        assert event["event"] == "Unsubscribed"

    @pytest.mark.parametrize("path", ["/v1/c/{t}", "/v1/o/{t}.gif", "/v1/u/{t}"])
    async def test_tampered_token_is_400_and_never_redirects(self, live_tracking: str, path: str) -> None:
        token = sign_token({"k": "c", "p": "p", "l": "https://shop.example/"}, SECRET)
        forged = sign_token({"k": "c", "p": "p", "l": "https://evil.example/"}, "guessed-secret")
        methods = ["GET", "POST"] if path.startswith("/v1/u/") else ["GET"]
        async with httpx.AsyncClient() as client:
            for bad in (forged, token[:-3] + "abc", "nonsense"):
                for method in methods:
                    response = await client.request(method, live_tracking + path.format(t=bad))
                    assert response.status_code == 400 and "location" not in response.headers


class Form(HTMLParser):
    """The one form of a page: method, action, hidden fields and its submit button."""

    def __init__(self) -> None:
        super().__init__()
        self.method = self.action = self.button_type = None
        self.button_label = ""
        self.fields: dict[str, str] = {}
        self._in_button = False

    @classmethod
    def of(cls, html: str) -> Form:
        form = cls()
        form.feed(html)
        return form

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.method, self.action = (found.get("method") or "get").lower(), found.get("action")
        elif tag == "input" and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""
        elif tag == "button":
            self.button_type, self._in_button = found.get("type") or "submit", True

    def handle_endtag(self, tag: str) -> None:
        self._in_button = self._in_button and tag != "button"

    def handle_data(self, data: str) -> None:
        if self._in_button:
            self.button_label += data


@pytest.fixture
async def limited(broker: str, tmp_path) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A tracking app whose email links allow each address a burst of 3 (and next to no refill)."""
    settings = service_settings(Settings, broker=broker, database_url=f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
                                data_dir=tmp_path, email_rate_limit_per_second=0.01, email_rate_limit_burst=3)  # fmt: skip
    async with running(create_app(settings)) as client:
        yield client


def address(ip: str) -> dict[str, str]:
    """The client address as a trusted proxy (the test client is 127.0.0.1) reports it."""
    return {"X-Forwarded-For": ip}


class TestEmailRateLimit:
    async def test_clicks_and_unsubscribes_past_the_limit_are_429(self, limited: httpx.AsyncClient) -> None:
        click = sign_token({"k": "c", "p": "p", "l": "https://shop.example/"}, SECRET)
        unsubscribe = sign_token({"k": "u", "p": "p"}, SECRET)
        codes = [(await limited.get(f"/v1/c/{click}", headers=address("198.51.100.1"))).status_code for _ in range(3)]
        over = [await limited.get(f"/v1/c/{click}", headers=address("198.51.100.1")),
                await limited.post(f"/v1/u/{unsubscribe}", headers=address("198.51.100.1")),
                await limited.get(f"/v1/u/{unsubscribe}", headers=address("198.51.100.1"))]  # fmt: skip
        elsewhere = await limited.get(f"/v1/c/{click}", headers=address("198.51.100.2"))
        assert codes == [302, 302, 302] and [r.status_code for r in over] == [429, 429, 429]
        assert all(int(r.headers["retry-after"]) >= 1 and r.json()["error"]["code"] == "rate_limited" for r in over)
        assert "location" not in over[0].headers and elsewhere.status_code == 302

    async def test_the_pixel_past_the_limit_answers_the_gif_and_records_nothing(
        self, limited: httpx.AsyncClient, broker: str
    ) -> None:
        profile = uuid.uuid4().hex
        pixels = [f"/v1/o/{sign_token({'k': 'o', 'c': f'c{n}', 'p': profile}, SECRET)}.gif" for n in range(5)]
        answers = [await limited.get(pixel, headers=address("198.51.100.3")) for pixel in pixels]
        last = f"/v1/o/{sign_token({'k': 'o', 'c': 'last', 'p': profile}, SECRET)}.gif"
        assert (await limited.get(last, headers=address("198.51.100.4"))).status_code == 200
        assert all(a.status_code == 200 and a.content.startswith(b"GIF") for a in answers)
        async with TopicReader(broker, EVENTS) as reader:
            await reader.wait_until(lambda v: v.get("anonymousId") == f"profile:{profile}" and
                                    v["properties"]["campaign_id"] == "last")  # fmt: skip
            # One key, one partition: every recorded open of this profile is read by now.
            opens = [v["properties"]["campaign_id"] for v in reader.values
                     if (v.get("context") or {}).get("profileId") == profile]  # fmt: skip
        assert opens == ["c0", "c1", "c2", "last"]


class TestBehindAProxy:
    async def test_apple_privacy_opens_are_told_by_the_forwarded_address(
        self, limited: httpx.AsyncClient, broker: str
    ) -> None:
        profile = uuid.uuid4().hex
        pixel = f"/v1/o/{sign_token({'k': 'o', 'c': 'camp', 'p': profile}, SECRET)}.gif"
        assert (
            await limited.get(pixel, headers={**address("17.58.1.2"), "User-Agent": "Mozilla/5.0"})
        ).status_code == 200
        async with TopicReader(broker, EVENTS) as reader:
            [opened] = await reader.wait_until(lambda v: (v.get("context") or {}).get("profileId") == profile)
        assert opened["properties"]["machine_open"] is True
