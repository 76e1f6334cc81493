"""The Segment-compatible ingest API against the real broker and database."""

from __future__ import annotations

import base64
import gzip
import uuid

import httpx
import orjson

from shared.events import EVENTS, EVENTS_REJECTED
from tests.builders import auth
from tests.conftest import ADMIN_KEY, ANALYST_KEY, WRITE_KEY
from tests.helpers import TopicReader

BASIC = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


def marker() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


def track(mark: str, **extra: object) -> dict[str, object]:
    return {"userId": f"u-{mark}", "event": "Product Viewed", "properties": {"mark": mark}, **extra}


def marked(mark: str):  # type: ignore[no-untyped-def]
    return lambda v: (
        (v.get("properties") or {}).get("mark") == mark
        or (v.get("payload") or {}).get("properties", {}).get("mark") == mark
    )


class TestIngest:
    async def test_track_is_published_enriched(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        response = await tracking.post(
            "/v1/track", json=track(mark, context={"page": {"url": "https://s.example/?utm_source=news"}}),
            headers={**BASIC, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"},
        )  # fmt: skip
        assert response.status_code == 200 and response.json() == {"success": True}
        async with TopicReader(broker, EVENTS) as reader:
            [event] = await reader.wait_until(marked(mark))
        assert event["type"] == "track" and event["sourceId"] and event["messageId"] and event["receivedAt"]
        assert event["context"]["campaign"] == {"source": "news"}
        assert event["context"]["userAgentData"]["browser"] == "Firefox"

    async def test_every_write_key_form_works(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        forms = [
            {"headers": BASIC, "content": orjson.dumps(track(mark))},
            {
                "content": orjson.dumps({**track(mark), "writeKey": WRITE_KEY}),
                "headers": {"Content-Type": "text/plain"},
            },
            {"headers": {"X-Write-Key": WRITE_KEY}, "content": orjson.dumps(track(mark))},
            {"params": {"writeKey": WRITE_KEY}, "content": orjson.dumps(track(mark))},
        ]
        for form in forms:
            assert (await tracking.post("/v1/t", **form)).status_code == 200  # type: ignore[arg-type]
        async with TopicReader(broker, EVENTS) as reader:
            assert len(await reader.wait_until(marked(mark), count=4)) == 4

    async def test_unknown_or_missing_key_is_401(self, tracking: httpx.AsyncClient) -> None:
        bad = await tracking.post("/v1/track", json=track(marker()), headers={"X-Write-Key": "twk_nope"})
        missing = await tracking.post("/v1/track", json=track(marker()))
        assert bad.status_code == missing.status_code == 401
        assert bad.json()["error"]["code"] == "unauthorized"

    async def test_gzip_body_is_accepted(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        body = gzip.compress(orjson.dumps({"batch": [{"type": "track", **track(mark)}]}))
        response = await tracking.post("/v1/batch", content=body, headers={**BASIC, "Content-Encoding": "gzip"})
        assert response.status_code == 200
        async with TopicReader(broker, EVENTS) as reader:
            await reader.wait_until(marked(mark))

    async def test_gzip_bomb_is_413(self, tracking: httpx.AsyncClient) -> None:
        bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}")
        response = await tracking.post("/v1/batch", content=bomb, headers={**BASIC, "Content-Encoding": "gzip"})
        assert response.status_code == 413 and "limit" in response.json()["error"]["message"]

    async def test_limits_are_413(self, tracking: httpx.AsyncClient) -> None:
        too_many = {"batch": [{"type": "track", **track("x")}] * 2501}
        big_event = track("x", properties={"blob": "x" * 33_000})
        assert (await tracking.post("/v1/batch", json=too_many, headers=BASIC)).status_code == 413
        response = await tracking.post("/v1/track", json=big_event, headers=BASIC)
        assert response.status_code == 400 and response.json()["error"]["fields"][0]["field"] == "event"
        huge = {"batch": [{"type": "track", **track("x", properties={"b": "y" * 30_000})}] * 20}
        assert (await tracking.post("/v1/batch", json=huge, headers=BASIC)).status_code == 413

    async def test_invalid_event_is_400_and_rejected_topic(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        response = await tracking.post("/v1/track", json={"userId": "u1", "properties": {"mark": mark}}, headers=BASIC)
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == [
            {"field": "event", "reason": "is required for track and must be a non-empty string"}
        ]
        async with TopicReader(broker, EVENTS_REJECTED) as reader:
            [rejected] = await reader.wait_until(marked(mark))
        assert rejected["reason"].startswith("event:")

    async def test_mixed_batch_accepts_the_good_ones(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        batch = [
            {"type": "track", **track(mark)},
            {"type": "identify", "userId": "null"},
            {"type": "page", "userId": "u"},
        ]
        response = await tracking.post("/v1/batch", json={"batch": batch}, headers=BASIC)
        assert response.status_code == 200
        assert response.json() == {
            "success": True,
            "rejected": [{"index": 1, "field": "userId", "reason": "'null' is not a valid identifier"}],
        }  # noqa: E501
        async with TopicReader(broker, EVENTS) as reader:
            await reader.wait_until(marked(mark))

    async def test_not_json_is_400(self, tracking: httpx.AsyncClient) -> None:
        response = await tracking.post("/v1/track", content=b"{nope", headers=BASIC)
        assert response.status_code == 400 and response.json()["error"]["fields"][0]["field"] == "body"

    async def test_repeated_message_id_is_published_once(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        event = track(mark, messageId=f"dup-{mark}")
        for _ in range(3):
            assert (await tracking.post("/v1/track", json=event, headers=BASIC)).status_code == 200
        follow = track(mark, messageId=f"after-{mark}")
        await tracking.post("/v1/track", json=follow, headers=BASIC)
        async with TopicReader(broker, EVENTS) as reader:
            found = await reader.wait_until(lambda v: marked(mark)(v) and v["messageId"] == f"after-{mark}")
            assert found
            assert [v["messageId"] for v in reader.values if marked(mark)(v)].count(f"dup-{mark}") == 1

    async def test_cors_preflight_is_allowed(self, tracking: httpx.AsyncClient) -> None:
        response = await tracking.options(
            "/v1/batch", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                                  "Access-Control-Request-Headers": "authorization,content-type,anonymousid"},
        )  # fmt: skip
        assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"

    async def test_settings_document_for_analytics_next(self, tracking: httpx.AsyncClient) -> None:
        response = await tracking.get(f"/v1/projects/{WRITE_KEY}/settings")
        assert response.status_code == 200
        assert response.json()["integrations"]["Segment.io"]["apiHost"] == "testserver/v1"


class TestSources:
    async def test_create_rotate_delete(self, tracking: httpx.AsyncClient) -> None:
        created = await tracking.post("/v1/sources", json={"name": "shop"}, headers=auth(ADMIN_KEY))
        assert created.status_code == 201
        key, source_id = created.json()["write_key"], created.json()["id"]
        assert (await tracking.post("/v1/t", json=track("s"), headers={"X-Write-Key": key})).status_code == 200
        rotated = await tracking.post(f"/v1/sources/{source_id}/rotate-key", headers=auth(ADMIN_KEY))
        assert (await tracking.post("/v1/t", json=track("s"), headers={"X-Write-Key": key})).status_code == 401
        new_key = rotated.json()["write_key"]
        assert (await tracking.post("/v1/t", json=track("s"), headers={"X-Write-Key": new_key})).status_code == 200
        listed = await tracking.get("/v1/sources", headers=auth(ADMIN_KEY))
        assert all("write_key" not in s for s in listed.json())
        assert (await tracking.delete(f"/v1/sources/{source_id}", headers=auth(ADMIN_KEY))).status_code == 204
        assert (await tracking.post("/v1/t", json=track("s"), headers={"X-Write-Key": new_key})).status_code == 401

    async def test_analyst_cannot_manage_sources(self, tracking: httpx.AsyncClient) -> None:
        response = await tracking.post("/v1/sources", json={"name": "x"}, headers=auth(ANALYST_KEY))
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"

    async def test_invalid_source_body_is_422_with_field(self, tracking: httpx.AsyncClient) -> None:
        response = await tracking.post("/v1/sources", json={"name": ""}, headers=auth(ADMIN_KEY))
        assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "body.name"
