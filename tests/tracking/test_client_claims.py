"""What a client may not claim through public ingest: its own clock, its source's trust, a profile id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.tracking.app import create_app
from services.tracking.config import Settings
from shared.events import EVENTS, TrackedEvent
from tests.builders import auth, service_settings
from tests.conftest import ADMIN_KEY, MARKETER_KEY, WRITE_KEY
from tests.helpers import TopicReader, running

KEY = {"X-Write-Key": WRITE_KEY}


def marker() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def track(mark: str, **extra: Any) -> dict[str, Any]:
    return {"userId": f"u-{mark}", "event": "Claimed", "properties": {"mark": mark}, **extra}


def marked(mark: str) -> Callable[[Any], bool]:
    return lambda v: (v.get("properties") or {}).get("mark") == mark


async def published(broker: str, mark: str, count: int = 1) -> list[dict[str, Any]]:
    async with TopicReader(broker, EVENTS) as reader:
        return await reader.wait_until(marked(mark), count=count)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class TestClientClock:
    async def test_sent_at_in_1970_cannot_push_the_event_into_the_future(
        self, tracking: httpx.AsyncClient, broker: str
    ) -> None:
        mark = marker()
        body = track(mark, timestamp=iso(datetime.now(UTC)), sentAt="1970-01-01T00:00:00Z")
        assert (await tracking.post("/v1/track", json=body, headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert event["timestamp"] == event["receivedAt"]
        assert event["context"]["timestampClamped"] is True
        assert datetime.fromisoformat(event["context"]["timestampClampedFrom"]).year >= 2070
        assert event["originalTimestamp"] == body["timestamp"] and event["sentAt"] == "1970-01-01T00:00:00Z"

    async def test_a_batch_sent_at_in_the_past_is_clamped_too(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        batch = {"batch": [{"type": "track", **track(mark, timestamp=iso(datetime.now(UTC)))}],
                 "sentAt": "2001-01-01T00:00:00Z"}  # fmt: skip
        assert (await tracking.post("/v1/batch", json=batch, headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert event["timestamp"] == event["receivedAt"] and event["context"]["timestampClamped"] is True

    async def test_an_uncorrected_future_time_is_clamped(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        future = iso(datetime.now(UTC) + timedelta(days=3))
        assert (await tracking.post("/v1/track", json=track(mark, timestamp=future), headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert event["timestamp"] == event["receivedAt"] and event["context"]["timestampClamped"] is True
        assert datetime.fromisoformat(event["context"]["timestampClampedFrom"]) == datetime.fromisoformat(future)

    async def test_a_skew_past_the_end_of_the_calendar_is_clamped_not_a_500(
        self, tracking: httpx.AsyncClient, broker: str
    ) -> None:
        mark = marker()
        body = track(mark, timestamp="9999-12-31T00:00:00Z", sentAt="0001-01-01T00:00:00Z")
        assert (await tracking.post("/v1/track", json=body, headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert event["timestamp"] == event["receivedAt"] and event["context"]["timestampClamped"] is True

    @pytest.mark.parametrize("sent_at", [None, "9999-12-31T00:00:00Z"], ids=["historical", "past-the-calendar"])
    async def test_far_past_times_are_kept(self, tracking: httpx.AsyncClient, broker: str, sent_at: str | None) -> None:
        mark = marker()
        body = track(mark, timestamp="1997-06-01T10:00:00Z", **({"sentAt": sent_at} if sent_at else {}))
        assert (await tracking.post("/v1/track", json=body, headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert datetime.fromisoformat(event["timestamp"]).year <= 1997
        assert "timestampClamped" not in event["context"]

    async def test_a_client_cannot_flag_its_own_event_clamped(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        context = {"timestampClamped": True, "timestampClampedFrom": "2099-01-01T00:00:00Z"}
        assert (await tracking.post("/v1/track", json=track(mark, context=context), headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert "timestampClamped" not in event["context"] and "timestampClampedFrom" not in event["context"]

    async def test_the_tolerance_is_a_setting(self, broker: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
        settings = service_settings(Settings, broker=broker, database_url=f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
                                    data_dir=tmp_path, future_tolerance_seconds=60)  # fmt: skip
        mark, soon = marker(), iso(datetime.now(UTC) + timedelta(minutes=10))
        async with running(create_app(settings)) as client:
            assert (await client.post("/v1/track", json=track(mark, timestamp=soon), headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert event["timestamp"] == event["receivedAt"] and event["context"]["timestampClamped"] is True


class TestTrustedSources:
    async def test_sources_are_untrusted_unless_an_admin_says_so(self, tracking: httpx.AsyncClient) -> None:
        plain = (await tracking.post("/v1/sources", json={"name": "site"}, headers=auth(ADMIN_KEY))).json()
        trusted = await tracking.post("/v1/sources", json={"name": "crm", "trusted": True}, headers=auth(ADMIN_KEY))
        assert plain["trusted"] is False and trusted.status_code == 201 and trusted.json()["trusted"] is True
        listed = {s["id"]: s["trusted"] for s in (await tracking.get("/v1/sources", headers=auth(ADMIN_KEY))).json()}
        assert listed[plain["id"]] is False and listed[trusted.json()["id"]] is True

    async def test_the_client_cannot_claim_trust(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        assert (await tracking.post("/v1/t", json=track(mark, sourceTrusted=True), headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert event["sourceTrusted"] is False and TrackedEvent.model_validate(event).sourceTrusted is False

    async def test_a_trusted_source_stamps_its_events_until_patched(
        self, tracking: httpx.AsyncClient, broker: str
    ) -> None:
        created = await tracking.post("/v1/sources", json={"name": "crm", "trusted": True}, headers=auth(ADMIN_KEY))
        source, key = created.json()["id"], {"X-Write-Key": created.json()["write_key"]}
        mark = marker()
        assert (await tracking.post("/v1/t", json=track(mark, sourceTrusted=False), headers=key)).status_code == 200
        [event] = await published(broker, mark)
        assert event["sourceTrusted"] is True and TrackedEvent.model_validate(event).sourceTrusted is True
        patched = await tracking.patch(f"/v1/sources/{source}", json={"trusted": False}, headers=auth(ADMIN_KEY))
        assert patched.status_code == 200 and patched.json()["trusted"] is False and patched.json()["name"] == "crm"
        later = marker()
        assert (await tracking.post("/v1/t", json=track(later), headers=key)).status_code == 200
        assert (await published(broker, later))[0]["sourceTrusted"] is False

    async def test_only_admins_patch_sources(self, tracking: httpx.AsyncClient) -> None:
        created = (await tracking.post("/v1/sources", json={"name": "x"}, headers=auth(ADMIN_KEY))).json()
        forbidden = await tracking.patch(f"/v1/sources/{created['id']}", json={"trusted": True},
                                         headers=auth(MARKETER_KEY))  # fmt: skip
        missing = await tracking.patch("/v1/sources/nope", json={"trusted": True}, headers=auth(ADMIN_KEY))
        unknown_field = await tracking.patch(f"/v1/sources/{created['id']}", json={"write_key_hash": "x"},
                                             headers=auth(ADMIN_KEY))  # fmt: skip
        assert (forbidden.status_code, missing.status_code, unknown_field.status_code) == (403, 404, 422)

    async def test_a_disabled_source_stops_ingest(self, tracking: httpx.AsyncClient) -> None:
        created = (await tracking.post("/v1/sources", json={"name": "old"}, headers=auth(ADMIN_KEY))).json()
        key = {"X-Write-Key": created["write_key"]}
        patched = await tracking.patch(f"/v1/sources/{created['id']}", json={"enabled": False}, headers=auth(ADMIN_KEY))
        assert patched.json()["enabled"] is False
        assert (await tracking.post("/v1/t", json=track(marker()), headers=key)).status_code == 401


class TestProfileIdIsNotPublic:
    @pytest.mark.parametrize("path", ["/v1/track", "/v1/identify", "/v1/page"])
    async def test_context_profile_id_is_stripped(self, tracking: httpx.AsyncClient, broker: str, path: str) -> None:
        mark = marker()
        body = track(mark, context={"profileId": "victim", "locale": "fr"}, traits={"mark": mark})
        assert (await tracking.post(path, json=body, headers=KEY)).status_code == 200
        [event] = await published(broker, mark)
        assert "profileId" not in event["context"] and event["context"]["locale"] == "fr"

    async def test_stripped_in_a_batch_too(self, tracking: httpx.AsyncClient, broker: str) -> None:
        mark = marker()
        batch = {"batch": [{"type": "track", **track(mark, context={"profileId": "victim"})}] * 2}
        assert (await tracking.post("/v1/batch", json=batch, headers=KEY)).status_code == 200
        assert all("profileId" not in e["context"] for e in await published(broker, mark, count=2))

    async def test_the_profile_prefix_of_anonymous_ids_is_refused(self, tracking: httpx.AsyncClient) -> None:
        one = await tracking.post("/v1/track", json={"anonymousId": "profile:victim", "event": "E"}, headers=KEY)
        assert one.status_code == 400 and one.json()["error"]["fields"][0]["field"] == "anonymousId"
        batch = {"batch": [{"type": "track", "anonymousId": "profile:victim", "event": "E"},
                           {"type": "track", "userId": "fine", "event": "E"}]}  # fmt: skip
        mixed = await tracking.post("/v1/batch", json=batch, headers=KEY)
        assert mixed.status_code == 200 and mixed.json()["rejected"][0]["field"] == "anonymousId"
