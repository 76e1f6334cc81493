"""The campaigns API on a real app, broker and database: validation, life cycle, roles, and failures on record."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import text

from services.campaigns.app import create_app
from services.campaigns.config import Settings
from services.campaigns.models import Exposure
from shared.db import make_engine, utcnow
from shared.events import SEGMENTS
from tessera.broker import free_port
from tests.builders import auth, service_settings
from tests.conftest import ANALYST_KEY, BACKENDS, MARKETER_KEY
from tests.helpers import wait_for

ANALYST, MARKETER = auth(ANALYST_KEY), auth(MARKETER_KEY)
VARIANT = {"name": "A", "subject": "Hi {{ first_name | default('there') }}", "body": "<p>Hello</p>"}


def campaigns_app(broker: str, url: str, data_dir: Any, **overrides: Any) -> FastAPI:
    """A campaigns app whose peers (segmentation, profiles) are not running."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=data_dir,
                                consumer_group=f"camp-{uuid.uuid4().hex[:6]}", segmentation_url=nowhere,
                                profiles_url=nowhere, schedule_check_seconds=0, **overrides)  # fmt: skip
    return create_app(settings)


@pytest.fixture(scope="module", params=BACKENDS)
async def database(request: pytest.FixtureRequest, fresh_database: Any) -> str:
    """The URL of the module's campaigns database."""
    return str(await fresh_database(request.param, "campaigns"))


@pytest.fixture(scope="module")
async def campaigns(
    database: str, broker: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the campaigns app (default settings: no private webhook address allowed)."""
    app = campaigns_app(broker, database, tmp_path_factory.mktemp("cd"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client


def body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Spring", "target_segments": ["s1"], "variants": [VARIANT]} | overrides


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/campaigns", json=body(**overrides), headers=MARKETER)
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestValidation:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"variants": [{"name": "A", "body": "{% for x in %}"}]}, "variants[0].body"),
            ({"variants": [{"name": "A", "subject": "{{ ''.__class__.__mro__ }}"}]}, "variants[0].subject"),
            ({"target_segments": []}, "body.target_segments"),
            ({"holdout_percent": 95}, "body.holdout_percent"),
            ({"schedule": {"type": "at"}}, "body.schedule"),
            ({"ab_test": {"test_percent": 20, "wait_hours": 1}}, "body"),
            ({"channel": "webhook"}, "body"),
            ({"attribution": {"model": "magic"}}, "body.attribution.model"),
            ({"frequency_cap": {"max": 0, "days": 7}}, "body.frequency_cap.max"),
        ],
    )
    async def test_bad_campaigns_get_422_naming_the_field(
        self, campaigns: httpx.AsyncClient, overrides: dict[str, Any], field: str
    ) -> None:
        response = await campaigns.post("/v1/campaigns", json=body(**overrides), headers=MARKETER)
        assert response.status_code == 422, response.text
        assert any(f["field"].startswith(field) for f in response.json()["error"]["fields"]), response.json()

    async def test_roles_and_unknown_campaigns(self, campaigns: httpx.AsyncClient) -> None:
        assert (await campaigns.post("/v1/campaigns", json=body(), headers=ANALYST)).status_code == 403
        assert (await campaigns.get("/v1/campaigns/nope", headers=ANALYST)).status_code == 404
        assert (await campaigns.get("/v1/campaigns/nope/results", headers=ANALYST)).status_code == 404


class TestLifeCycle:
    async def test_a_run_that_cannot_reach_profiles_pauses_with_the_error(
        self, campaigns: httpx.AsyncClient, broker: str
    ) -> None:
        segment_id = f"s-{uuid.uuid4().hex[:8]}"
        entered = {
            "type": "segment.entered.v1",
            "segment_id": segment_id,
            "profile_id": "p-1",
            "occurred_at": utcnow().isoformat(),
        }
        producer = AIOKafkaProducer(bootstrap_servers=broker)
        await producer.start()
        await producer.send_and_wait(SEGMENTS, orjson.dumps(entered), key=b"p-1")
        await producer.stop()

        async def copied() -> bool:  # campaigns' membership copy, the audience of a run
            query = {"target_segments": [segment_id], "exclude_segments": []}
            size = await campaigns.post("/v1/campaigns/audience-size", json=query, headers=ANALYST)
            return size.json()["size"] == 1

        await wait_for(copied)
        campaign = await create(campaigns, target_segments=[segment_id])
        launched = await campaigns.post(f"/v1/campaigns/{campaign['id']}/launch", headers=MARKETER)
        assert launched.status_code == 200 and launched.json()["status"] == "running"

        async def paused() -> dict[str, Any] | None:
            current = (await campaigns.get(f"/v1/campaigns/{campaign['id']}", headers=ANALYST)).json()
            return current if current["status"] == "paused" else None

        assert "ConnectError" in (await wait_for(paused))["last_error"]
        edited = await campaigns.patch(f"/v1/campaigns/{campaign['id']}", json={"holdout_percent": 5}, headers=MARKETER)
        assert edited.status_code == 200 and edited.json()["holdout_percent"] == 5

    async def test_scheduled_and_triggered_campaigns_wait(self, campaigns: httpx.AsyncClient) -> None:
        later = await create(campaigns, schedule={"type": "at", "at": "2099-01-01T09:00:00+00:00"})
        assert (await campaigns.post(f"/v1/campaigns/{later['id']}/launch", headers=MARKETER)).json()[
            "status"
        ] == "scheduled"
        triggered = await create(campaigns, schedule={"type": "on_entry"})
        active = await campaigns.post(f"/v1/campaigns/{triggered['id']}/launch", headers=MARKETER)
        assert active.json()["status"] == "active"
        assert (await campaigns.post(f"/v1/campaigns/{triggered['id']}/launch", headers=MARKETER)).status_code == 409
        assert (
            await campaigns.patch(f"/v1/campaigns/{triggered['id']}", json={"name": "x"}, headers=MARKETER)
        ).status_code == 409
        paused = await campaigns.post(f"/v1/campaigns/{triggered['id']}/pause", headers=MARKETER)
        assert paused.json()["status"] == "paused"
        assert (await campaigns.post(f"/v1/campaigns/{triggered['id']}/winner", headers=MARKETER)).status_code == 409

    async def test_variants_keep_their_ids_when_kept_by_name(self, campaigns: httpx.AsyncClient) -> None:
        campaign = await create(campaigns)
        variants = [VARIANT | {"subject": "New"}, {"name": "B", "body": "<p>b</p>"}]
        edited = (
            await campaigns.patch(f"/v1/campaigns/{campaign['id']}", json={"variants": variants}, headers=MARKETER)
        ).json()
        assert (
            edited["variants"][0]["id"] == campaign["variants"][0]["id"] and edited["variants"][0]["subject"] == "New"
        )

    async def test_results_of_a_campaign_that_sent_nothing(self, campaigns: httpx.AsyncClient) -> None:
        campaign = await create(campaigns, holdout_percent=10)
        results = (await campaigns.get(f"/v1/campaigns/{campaign['id']}/results", headers=ANALYST)).json()
        assert results["versus_holdout"]["computable"] is False and results["sample_ratio"]["computable"] is False
        by_segment = await campaigns.get(f"/v1/campaigns/{campaign['id']}/results?by=segment", headers=ANALYST)
        assert by_segment.status_code == 200 and by_segment.json()["segments"] == []
        assert (
            await campaigns.get(f"/v1/campaigns/{campaign['id']}/results?by=day", headers=ANALYST)
        ).status_code == 422
        retention = (await campaigns.get(f"/v1/campaigns/{campaign['id']}/retention", headers=ANALYST)).json()
        windows = [(w["days"], w["elapsed"], w["difference"]) for w in retention["windows"]]
        assert windows == [(30, False, None), (60, False, None), (90, False, None)]
        assert (await campaigns.get("/v1/campaigns/nope/retention", headers=ANALYST)).status_code == 404

    async def test_null_for_a_required_field_is_a_422_not_a_500(self, campaigns: httpx.AsyncClient) -> None:
        campaign = await create(campaigns)
        response = await campaigns.patch(f"/v1/campaigns/{campaign['id']}", json={"name": None, "attribution": None},
                                         headers=MARKETER)  # fmt: skip
        assert response.status_code == 422
        assert {f["field"] for f in response.json()["error"]["fields"]} == {"name", "attribution"}
        cleared = await campaigns.patch(
            f"/v1/campaigns/{campaign['id']}", json={"frequency_cap": None}, headers=MARKETER
        )
        assert cleared.status_code == 200 and cleared.json()["frequency_cap"] is None


WEBHOOK = {"channel": "webhook", "webhook_url": "http://93.184.215.14/hooks/tessera"}


class TestWebhookAddresses:
    """A webhook may not point into our own network: the refusal names `webhook_url` and no connection is tried."""

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8002/v1/profiles",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:127.0.0.1]:8002/",
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://0.0.0.0:8004/",
            "http://224.0.0.1/",
            "http://[fe80::1]/",
            "http://localhost:8003/",
            "http://0x7f000001/",
            "http://nothing-here.invalid/hook",
        ],
    )
    async def test_private_and_unresolvable_addresses_are_refused_on_create_and_edit(
        self, campaigns: httpx.AsyncClient, url: str
    ) -> None:
        created = await campaigns.post("/v1/campaigns", json=body(**WEBHOOK | {"webhook_url": url}), headers=MARKETER)
        assert created.status_code == 422, created.text
        assert [f["field"] for f in created.json()["error"]["fields"]] == ["webhook_url"]
        campaign = await create(campaigns, **WEBHOOK)
        edited = await campaigns.patch(f"/v1/campaigns/{campaign['id']}", json={"webhook_url": url}, headers=MARKETER)
        assert edited.status_code == 422 and [f["field"] for f in edited.json()["error"]["fields"]] == ["webhook_url"]

    async def test_a_public_address_is_accepted(self, campaigns: httpx.AsyncClient) -> None:
        assert (await create(campaigns, **WEBHOOK))["webhook_url"] == WEBHOOK["webhook_url"]

    async def test_networks_allowed_by_the_setting_are_accepted(
        self, database: str, broker: str, tmp_path: Any
    ) -> None:
        app = campaigns_app(broker, database, tmp_path, allowed_webhook_networks=["127.0.0.0/8", "::1/128"])
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook"):
                    assert (await create(client, **WEBHOOK | {"webhook_url": url}))["webhook_url"] == url
                refused = await client.post("/v1/campaigns", headers=MARKETER,
                                            json=body(**WEBHOOK | {"webhook_url": "http://10.0.0.1/"}))  # fmt: skip
                assert refused.status_code == 422


# 10^8 loop turns: seconds of CPU, far over the budget of operations.
SLOW = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"


class TestSlowTemplates:
    """A template over its budget is refused quickly, and the service keeps answering while it is checked."""

    @pytest.mark.parametrize("field", ["subject", "body"])
    async def test_a_slow_template_gets_422_while_health_answers(
        self, campaigns: httpx.AsyncClient, field: str
    ) -> None:
        slow_variant = [VARIANT | {field: SLOW}]
        started = time.monotonic()
        created = asyncio.create_task(
            campaigns.post("/v1/campaigns", json=body(variants=slow_variant), headers=MARKETER)
        )
        health = await campaigns.get("/health")
        assert health.status_code == 200 and not created.done() and time.monotonic() - started < 1
        response = await created
        assert response.status_code == 422 and time.monotonic() - started < 3
        [error] = response.json()["error"]["fields"]
        assert error["field"] == f"variants[0].{field}" and "template too slow" in error["reason"]

    async def test_an_edit_with_a_slow_template_gets_422_while_health_answers(
        self, campaigns: httpx.AsyncClient
    ) -> None:
        campaign = await create(campaigns)
        started = time.monotonic()
        edit = {"variants": [VARIANT | {"body": SLOW}]}
        edited = asyncio.create_task(campaigns.patch(f"/v1/campaigns/{campaign['id']}", json=edit, headers=MARKETER))
        health = await campaigns.get("/health")
        assert health.status_code == 200 and not edited.done() and time.monotonic() - started < 1
        response = await edited
        assert response.status_code == 422 and time.monotonic() - started < 3
        assert response.json()["error"]["fields"][0]["field"] == "variants[0].body"


# A database that refuses to touch one exposure, quoting personal data the way a constraint's message or detail does.
REFUSE = {
    "sqlite": ["CREATE TRIGGER refuse_probe BEFORE UPDATE ON exposures WHEN OLD.profile_id LIKE 'probe-%' "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse_probe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF OLD.profile_id LIKE 'probe-%' THEN RAISE EXCEPTION 'refused %', OLD.profile_id "
                   "USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_exposures_guard'; END IF; RETURN NEW; END $$",
                   "CREATE TRIGGER refuse_probe BEFORE UPDATE ON exposures FOR EACH ROW EXECUTE FUNCTION refuse_probe()"],
}  # fmt: skip
UNREFUSE = {"sqlite": ["DROP TRIGGER refuse_probe"],
            "postgresql": ["DROP TRIGGER refuse_probe ON exposures", "DROP FUNCTION refuse_probe()"]}  # fmt: skip


class TestErrorsOnRecord:
    async def test_a_failed_run_keeps_no_personal_data_or_sql_in_last_error(
        self, campaigns: httpx.AsyncClient, database: str
    ) -> None:
        campaign = await create(campaigns)
        engine = make_engine(database)
        dialect = engine.dialect.name
        async with engine.begin() as connection:
            await connection.execute(Exposure.__table__.insert().values(
                campaign_id=campaign["id"], profile_id="probe-ada@example.com", outcome="pending", channel="email",
                at=utcnow()))  # fmt: skip
            for statement in REFUSE[dialect]:
                await connection.execute(text(statement))
        try:
            await campaigns.post(f"/v1/campaigns/{campaign['id']}/launch", headers=MARKETER)

            async def paused() -> dict[str, Any] | None:
                current = (await campaigns.get(f"/v1/campaigns/{campaign['id']}", headers=ANALYST)).json()
                return current if current["status"] == "paused" else None

            error = (await wait_for(paused))["last_error"]
        finally:
            async with engine.begin() as connection:
                for statement in UNREFUSE[dialect]:
                    await connection.execute(text(statement))
            await engine.dispose()
        leaks = ("ada@", "probe-", "refused", "UPDATE", "[SQL", "interrupted while sending", campaign["id"])
        assert "IntegrityError" in error and not any(leak in error for leak in leaks), error
        if dialect == "postgresql":
            assert "23514" in error and "ck_exposures_guard" in error
