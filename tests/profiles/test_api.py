"""The profiles REST API on a running app: events arrive over the real broker and consumer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.profiles import service
from services.profiles.app import create_app
from services.profiles.config import Settings
from services.profiles.engagement import EngagementRule
from services.profiles.models import Identity, Profile
from shared.db import utcnow
from shared.events import EVENTS, PROFILES, SEGMENTS
from tests.builders import auth, service_settings
from tests.conftest import ADMIN_KEY, ANALYST_KEY, BACKENDS, MARKETER_KEY
from tests.helpers import TopicReader, running, wait_for
from tests.profiles.builders import event, identify, order, page

ADMIN, ANALYST, MARKETER = auth(ADMIN_KEY), auth(ANALYST_KEY), auth(MARKETER_KEY)


@pytest.fixture(scope="module", params=BACKENDS)
async def profiles(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A profiles app with its consumer running against the session broker."""
    url = await fresh_database(request.param, "profiles")
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("pd"),
                                consumer_group=f"profiles-{uuid.uuid4().hex[:6]}")  # fmt: skip
    async with running(create_app(settings)) as client:
        yield client


async def send(broker: str, *values: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    for value in values:
        await producer.send_and_wait(
            EVENTS, orjson.dumps(value), key=(value.get("userId") or value.get("anonymousId") or "k").encode()
        )
    await producer.stop()


async def suppressed_count(client: httpx.AsyncClient) -> float:
    """Events dropped so far because they named an erased person (this process's counter)."""
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith("tessera_profiles_suppressed_events_total "):
            return float(line.split()[1])
    return 0.0


async def profile_of(client: httpx.AsyncClient, **identity: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        response = await client.get("/v1/profiles/lookup", params=identity, headers=ANALYST)
        return response.json() if response.status_code == 200 else None

    return await wait_for(found, timeout=20)


def mark() -> str:
    return uuid.uuid4().hex[:8]


class TestConsumer:
    async def test_events_make_a_profile_and_it_is_published(self, profiles: httpx.AsyncClient, broker: str) -> None:
        m = mark()
        await send(broker, page(f"a-{m}"), identify(f"u-{m}", f"a-{m}", at=timedelta(minutes=1), city="Lyon"),
                   order(f"u-{m}", 25.0, at=timedelta(minutes=2)))  # fmt: skip
        profile = await wait_for(lambda: _with_orders(profiles, f"u-{m}"), timeout=20)
        assert profile["traits"] == {"city": "Lyon"} and profile["computed"]["revenue"] == 25.0
        assert {(i["kind"], i["value"]) for i in profile["identities"]} == {
            ("user_id", f"u-{m}"),
            ("anonymous_id", f"a-{m}"),
        }
        async with TopicReader(broker, PROFILES) as reader:
            await reader.wait_until(lambda v: v.get("profile_id") == profile["id"] and v["computed"].get("orders") == 1)

    async def test_a_poison_event_goes_to_rejected_and_the_rest_goes_on(
        self, profiles: httpx.AsyncClient, broker: str
    ) -> None:
        m = mark()
        await send(broker, {"type": "track", "userId": f"p-{m}"}, order(f"ok-{m}", 5.0))
        await profile_of(profiles, user_id=f"ok-{m}")
        async with TopicReader(broker, "tessera.events.rejected.v1") as reader:
            await reader.wait_until(lambda v: (v.get("payload") or {}).get("userId") == f"p-{m}")


async def _with_orders(client: httpx.AsyncClient, user_id: str) -> dict[str, Any] | None:
    response = await client.get("/v1/profiles/lookup", params={"user_id": user_id}, headers=ANALYST)
    return response.json() if response.status_code == 200 and response.json()["computed"].get("orders") else None


class TestRest:
    async def test_patch_traits_consent_timeline_and_roles(self, profiles: httpx.AsyncClient, broker: str) -> None:
        m = mark()
        await send(broker, *[page(f"t-{m}", at=timedelta(minutes=i)) for i in range(5)])
        pid = (await profile_of(profiles, anonymous_id=f"t-{m}"))["id"]
        await wait_for(lambda: _count_timeline(profiles, pid, 5))
        assert (
            await profiles.patch(f"/v1/profiles/{pid}/traits", json={"traits": {"vip": True}}, headers=ANALYST)
        ).status_code == 403
        patched = await profiles.patch(f"/v1/profiles/{pid}/traits", json={"traits": {"vip": True}}, headers=MARKETER)
        assert patched.status_code == 200 and patched.json()["traits"]["vip"] is True
        consent = await profiles.put(f"/v1/profiles/{pid}/consent", json={"email": True}, headers=MARKETER)
        assert (
            consent.json()["consent"]["email"]["granted"] is True
            and consent.json()["consent"]["email"]["source"] == "api"
        )
        first = (await profiles.get(f"/v1/profiles/{pid}/timeline", params={"limit": 3}, headers=ANALYST)).json()
        second = (
            await profiles.get(
                f"/v1/profiles/{pid}/timeline", params={"limit": 3, "cursor": first["next_cursor"]}, headers=ANALYST
            )
        ).json()
        times = [i["occurred_at"] for i in first["items"] + second["items"]]
        assert len(times) == 5 and times == sorted(times, reverse=True) and second["next_cursor"] is None

    async def test_list_filters_by_trait_with_cursor(self, profiles: httpx.AsyncClient, broker: str) -> None:
        m = mark()
        await send(broker, *[identify(f"l-{m}-{i}", city=f"City-{m}") for i in range(3)])
        for i in range(3):
            await profile_of(profiles, user_id=f"l-{m}-{i}")
        page1 = (
            await profiles.get("/v1/profiles", params={"traits.city": f"City-{m}", "limit": 2}, headers=ANALYST)
        ).json()
        page2 = (
            await profiles.get(
                "/v1/profiles",
                params={"traits.city": f"City-{m}", "limit": 2, "cursor": page1["next_cursor"]},
                headers=ANALYST,
            )
        ).json()
        assert len(page1["items"]) == 2 and len(page2["items"]) == 1

    async def test_merge_undo_over_rest(self, profiles: httpx.AsyncClient, broker: str) -> None:
        m = mark()
        await send(broker, page(f"ma-{m}"), identify(f"mu-{m}", email=f"{m}@example.com"))
        await profile_of(profiles, anonymous_id=f"ma-{m}")
        await profile_of(profiles, user_id=f"mu-{m}")
        await send(broker, identify(f"mu-{m}", f"ma-{m}", at=timedelta(minutes=3)))

        async def merged() -> list[dict[str, Any]] | None:
            pid = (await profiles.get("/v1/profiles/lookup", params={"user_id": f"mu-{m}"}, headers=ANALYST)).json()[
                "id"
            ]
            merges = (await profiles.get(f"/v1/profiles/{pid}/merges", headers=ANALYST)).json()
            return merges or None

        [merge] = await wait_for(merged)
        refused = await profiles.post(f"/v1/merges/{merge['id']}/undo", headers=MARKETER)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        undone = await profiles.post(f"/v1/merges/{merge['id']}/undo", headers=ADMIN)
        assert undone.status_code == 200 and undone.json()["undone_at"]
        again = await profiles.post(f"/v1/merges/{merge['id']}/undo", headers=ADMIN)
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        split = (await profiles.get("/v1/profiles/lookup", params={"anonymous_id": f"ma-{m}"}, headers=ANALYST)).json()
        assert split["id"] == merge["merged_id"]

    async def test_erase_over_rest(self, profiles: httpx.AsyncClient, broker: str) -> None:
        m = mark()
        await send(broker, identify(f"e-{m}", f"ea-{m}", email=f"e{m}@example.com"))
        pid = (await profile_of(profiles, user_id=f"e-{m}"))["id"]
        assert (await profiles.delete(f"/v1/profiles/{pid}", headers=MARKETER)).status_code == 403
        assert (await profiles.delete(f"/v1/profiles/{pid}", headers=ADMIN)).status_code == 204
        for params in ({"user_id": f"e-{m}"}, {"anonymous_id": f"ea-{m}"}, {"email": f"e{m}@example.com"}):
            assert (await profiles.get("/v1/profiles/lookup", params=params, headers=ANALYST)).status_code == 404
        async with TopicReader(broker, PROFILES) as reader:
            [erased] = await reader.wait_until(
                lambda v: v.get("type") == "profile.erased.v1" and v["profile_id"] == pid
            )
        assert sorted(map(tuple, erased["identities"])) == [
            ("anonymous_id", f"ea-{m}"),
            ("email", f"e{m}@example.com"),
            ("user_id", f"e-{m}"),
        ]
        # The same visitor comes back: the event is dropped (and counted), no profile is re-created.
        before = await suppressed_count(profiles)
        await send(broker, page(f"ea-{m}", at=timedelta(minutes=5)))

        async def dropped() -> bool:
            return await suppressed_count(profiles) > before

        await wait_for(dropped)
        lookup = await profiles.get("/v1/profiles/lookup", params={"anonymous_id": f"ea-{m}"}, headers=ANALYST)
        assert lookup.status_code == 404

    async def test_bad_input_is_4xx_in_the_shared_shape(self, profiles: httpx.AsyncClient) -> None:
        checks = [
            await profiles.get("/v1/profiles/lookup", headers=ANALYST),
            await profiles.get("/v1/profiles/nope", headers=ANALYST),
            await profiles.patch("/v1/profiles/x/traits", json={"traits": {}}, headers=MARKETER),
            await profiles.put("/v1/profiles/x/consent", json={"sms": True}, headers=MARKETER),
            await profiles.get("/v1/profiles/x/timeline", params={"cursor": "%%%"}, headers=ANALYST),
            await profiles.get("/v1/reports/web", params={"from": "2026-01-02", "to": "2026-01-01"}, headers=ANALYST),
            await profiles.get("/v1/profiles", params={"limit": 0}, headers=ANALYST),
        ]
        assert [r.status_code for r in checks] == [400, 404, 422, 422, 404, 422, 422]
        assert all(set(r.json()["error"]) == {"code", "message", "fields"} for r in checks)


class TestBatchRead:
    async def test_found_missing_and_merged_ids_in_the_order_asked(
        self, profiles: httpx.AsyncClient, broker: str
    ) -> None:
        m = mark()
        await send(broker, *[identify(f"b{i}-{m}", city=f"C{i}") for i in range(3)], page(f"ba-{m}"),
                   identify(f"bu-{m}", email=f"b{m}@example.com"))  # fmt: skip
        first, second, third = [(await profile_of(profiles, user_id=f"b{i}-{m}"))["id"] for i in range(3)]
        await profile_of(profiles, anonymous_id=f"ba-{m}")
        await send(broker, identify(f"bu-{m}", f"ba-{m}", at=timedelta(minutes=3)))
        merge = await wait_for(lambda: _merge_of(profiles, f"bu-{m}"))
        asked = [third, "missing", merge["merged_id"], first, merge["kept_id"], second, third]
        response = await profiles.post("/v1/profiles/batch", json={"ids": asked}, headers=ANALYST)
        assert response.status_code == 200
        items = response.json()["items"]
        assert [p["id"] for p in items] == [third, merge["kept_id"], first, second]
        assert items[0]["traits"] == {"city": "C2"}
        assert {(i["kind"], i["value"]) for i in items[1]["identities"]} >= {
            ("user_id", f"bu-{m}"),
            ("anonymous_id", f"ba-{m}"),
        }

    async def test_only_unknown_ids_give_no_items(self, profiles: httpx.AsyncClient) -> None:
        response = await profiles.post("/v1/profiles/batch", json={"ids": ["nope", "x" * 64]}, headers=ANALYST)
        assert response.status_code == 200 and response.json() == {"items": []}

    async def test_needs_a_key_but_analysts_may_call_it(self, profiles: httpx.AsyncClient) -> None:
        body = {"ids": ["nope"]}
        assert (await profiles.post("/v1/profiles/batch", json=body)).status_code == 401
        assert (await profiles.post("/v1/profiles/batch", json=body, headers=ANALYST)).status_code == 200
        assert (await profiles.post("/v1/profiles/batch", json=body, headers=MARKETER)).status_code == 200

    @pytest.mark.parametrize(
        ("ids", "field"),
        [([], "body.ids"), ([f"p{i}" for i in range(1001)], "body.ids"), (["ok", ""], "body.ids.1"),
         (["x" * 65], "body.ids.0"), ("p1", "body.ids")],
    )  # fmt: skip
    async def test_bad_ids_are_422_naming_the_field(self, profiles: httpx.AsyncClient, ids: Any, field: str) -> None:
        response = await profiles.post("/v1/profiles/batch", json={"ids": ids}, headers=ANALYST)
        assert response.status_code == 422
        assert [f["field"] for f in response.json()["error"]["fields"]] == [field]

    async def test_a_thousand_ids_are_accepted(self, profiles: httpx.AsyncClient, broker: str) -> None:
        m = mark()
        await send(broker, identify(f"k-{m}"))
        pid = (await profile_of(profiles, user_id=f"k-{m}"))["id"]
        ids = [f"none-{i}" for i in range(999)] + [pid]
        response = await profiles.post("/v1/profiles/batch", json={"ids": ids}, headers=ANALYST)
        assert response.status_code == 200 and [p["id"] for p in response.json()["items"]] == [pid]


class TestGetProfiles:
    async def test_follows_merge_chains_in_a_query_per_level(
        self, session: AsyncSession, profiles_engine: AsyncEngine
    ) -> None:
        now = utcnow()
        rows = {key: Profile(id=f"{key}-{mark()}", first_seen_at=now, last_seen_at=now) for key in "abcd"}
        rows["c"].merged_into, rows["b"].merged_into = rows["b"].id, rows["a"].id  # c → b → a
        session.add_all(rows.values())
        await session.flush()  # no relationship orders the inserts: profiles first
        session.add(Identity(kind="user_id", value=f"u-{mark()}", profile_id=rows["a"].id))
        await session.flush()
        statements: list[str] = []
        listen = ("before_cursor_execute", lambda *args: statements.append(args[2]))
        sa_event.listen(profiles_engine.sync_engine, *listen)
        try:
            found = await service.get_profiles(session, [rows["c"].id, rows["d"].id, "missing"])
            identities = await service.identities_by_profile(session, [p.id for p in found])
        finally:
            sa_event.remove(profiles_engine.sync_engine, *listen)
        assert [p.id for p in found] == [rows["a"].id, rows["d"].id]
        assert [len(identities[p.id]) for p in found] == [1, 0]
        assert len(statements) == 4  # the ids asked, then b, then a, then every identity at once


async def _merge_of(client: httpx.AsyncClient, user_id: str) -> dict[str, Any] | None:
    pid = (await client.get("/v1/profiles/lookup", params={"user_id": user_id}, headers=ANALYST)).json()["id"]
    merges = (await client.get(f"/v1/profiles/{pid}/merges", headers=ANALYST)).json()
    return merges[0] if merges else None


async def _count_timeline(client: httpx.AsyncClient, pid: str, n: int) -> bool:
    items = (await client.get(f"/v1/profiles/{pid}/timeline", params={"limit": 50}, headers=ANALYST)).json()["items"]
    return len(items) >= n


class TestWebReport:
    async def test_sessions_bounces_conversion_by_utm_source(self, profiles: httpx.AsyncClient, broker: str) -> None:
        m = mark()
        day = f"2026-11-{10 + (int(m, 16) % 10):02d}"  # a day of its own (other tests use 2026-11-01)

        t0 = datetime.fromisoformat(f"{day}T08:00:00+00:00")
        camp = {"campaign": {"source": f"news-{m}"}}
        await send(broker,
            page(f"w1-{m}", at=t0, context=camp), page(f"w1-{m}", at=t0 + timedelta(minutes=4)),
            event(anonymousId=f"w1-{m}", event="Order Completed", properties={"revenue": 40}, at=t0 + timedelta(minutes=5)),
            page(f"w2-{m}", at=t0, context=camp),  # a bounce
            page(f"w3-{m}", at=t0),  # no campaign, a bounce
        )  # fmt: skip
        params = {"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:59Z", "by": "utm_source"}

        async def report() -> dict[str, Any] | None:
            body = (await profiles.get("/v1/reports/web", params=params, headers=ANALYST)).json()
            ours = [g for g in body["groups"] if g["key"] == f"news-{m}"]
            return ours[0] if ours and ours[0]["sessions"] >= 2 and ours[0]["revenue"] >= 40 else None

        news = await wait_for(report)
        assert news["sessions"] == 2 and news["bounce_rate"] == 0.5 and news["conversion_rate"] == 0.5
        assert news["revenue"] == 40 and news["avg_session_seconds"] == 150.0 and news["pages_per_session"] == 1.5
        body = (await profiles.get("/v1/reports/web", params=params, headers=ANALYST)).json()
        assert [d["day"] for d in body["daily"]] == [day] and body["daily"][0]["sessions"] == body["total"]["sessions"]


async def test_web_report_filters_by_segment_membership(profiles: httpx.AsyncClient, broker: str) -> None:
    m = mark()
    day = "2026-11-28"
    t0 = datetime.fromisoformat(f"{day}T10:00:00+00:00")
    await send(broker, page(f"in-{m}", at=t0, context={"campaign": {"source": f"seg-{m}"}}),
               page(f"out-{m}", at=t0, context={"campaign": {"source": f"seg-{m}"}}))  # fmt: skip
    member = (await profile_of(profiles, anonymous_id=f"in-{m}"))["id"]
    await profile_of(profiles, anonymous_id=f"out-{m}")
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    entered = {
        "type": "segment.entered.v1",
        "segment_id": f"s-{m}",
        "profile_id": member,
        "occurred_at": t0.isoformat(),
    }
    await producer.send_and_wait(SEGMENTS, orjson.dumps(entered), key=member.encode())
    await producer.stop()
    params = {"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:59Z", "by": "utm_source", "segment_id": f"s-{m}"}

    async def report() -> dict[str, Any] | None:
        groups = (await profiles.get("/v1/reports/web", params=params, headers=ANALYST)).json()["groups"]
        return groups[0] if groups else None

    group = await wait_for(report)
    assert group["key"] == f"seg-{m}" and group["sessions"] == 1  # only the member's visit


async def test_the_engagement_score_read_is_the_sum_over_the_persons_events(
    profiles: httpx.AsyncClient, broker: str
) -> None:
    m, now = mark(), utcnow()
    sent = [(identify(f"e-{m}", at=now - timedelta(days=40)), "identify"),
            (order(f"e-{m}", 25, at=now - timedelta(days=10)), "Order Completed"),
            (event(userId=f"e-{m}", event="Wishlist Viewed", at=now - timedelta(days=1)), "Wishlist Viewed"),
            (event(userId=f"e-{m}", event="Email Clicked", at=now - timedelta(days=60)), "Email Clicked")]  # fmt: skip
    await send(broker, *(value for value, _ in sent))

    async def scored() -> dict[str, Any] | None:
        found = await profile_of(profiles, user_id=f"e-{m}")
        return found if found["computed"]["event_count"] == len(sent) else None

    profile = await wait_for(scored)
    rule = EngagementRule()
    at = utcnow()
    expected = sum(rule.weight(name) * 2 ** (-(at - datetime.fromisoformat(value["timestamp"])).total_seconds()
                                             / (rule.half_life_days * 86_400)) for value, name in sent)  # fmt: skip
    assert profile["computed"]["engagement_score"] == pytest.approx(expected, rel=1e-5)
    assert "engagement" not in profile["computed"]  # the stored state is internal
