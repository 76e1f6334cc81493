"""The campaigns API on a real app, broker and database: validation, life cycle, roles, and failures on record."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.campaigns.app import create_app
from services.campaigns.config import Settings
from tessera.broker import free_port
from tests.builders import auth, service_settings
from tests.conftest import ANALYST_KEY, BACKENDS, MARKETER_KEY
from tests.helpers import wait_for

ANALYST, MARKETER = auth(ANALYST_KEY), auth(MARKETER_KEY)
VARIANT = {"name": "A", "subject": "Hi {{ first_name | default('there') }}", "body": "<p>Hello</p>"}


@pytest.fixture(scope="module", params=BACKENDS)
async def campaigns(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A campaigns app whose peers (segmentation, profiles) are not running."""
    url = await fresh_database(request.param, "campaigns")
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("cd"),
                                consumer_group=f"camp-{uuid.uuid4().hex[:6]}", segmentation_url=nowhere,
                                profiles_url=nowhere, schedule_check_seconds=0)  # fmt: skip
    app = create_app(settings)
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
    async def test_a_run_that_cannot_reach_segmentation_pauses_with_the_error(
        self, campaigns: httpx.AsyncClient
    ) -> None:
        campaign = await create(campaigns)
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
