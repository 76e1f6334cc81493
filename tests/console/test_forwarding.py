"""The path between the console and the services over real HTTP: the console, profiles and campaigns served by
uvicorn on ports (tracking and segmentation are down), users' tokens checked and roles enforced by the services."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from services.campaigns.app import create_app as create_campaigns
from services.campaigns.config import Settings as CampaignsSettings
from services.campaigns.models import AudienceExport
from services.console.app import create_app as create_console
from services.profiles.app import create_app as create_profiles
from services.profiles.config import Settings as ProfilesSettings
from services.profiles.models import Profile
from shared.db import new_id, utcnow
from tessera.broker import free_port
from tests.builders import auth, service_settings
from tests.conftest import ADMIN_KEY, BACKENDS, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD
from tests.console.conftest import (
    INTERNAL_SECRET,
    PASSWORD,
    PUBLIC_KEY,
    Browser,
    console_settings,
    mark,
    serving,
    with_admin,
)  # fmt: skip
from tests.helpers import wait_for

MAX_BODY = 1_000_000


@dataclass
class Platform:
    """The console and two services on ports, and the apps (for their databases)."""

    console: str
    profiles: str
    campaigns: str
    apps: dict[str, Any]
    clients: list[httpx.AsyncClient]

    def browser(self) -> Browser:
        """A browser talking to the console over HTTP."""
        client = httpx.AsyncClient(base_url=self.console, timeout=30)
        self.clients.append(client)
        return Browser(client)

    async def admin(self) -> Browser:
        browser = self.browser()
        assert (await browser.login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)).status_code == 200
        return browser

    async def user(self, role: str) -> Browser:
        """A new user of a role, invited by the admin, logged in."""
        email = f"{role}-{mark()}@example.com"
        invited = await (await self.admin()).post("/api/invitations", json={"email": email, "role": role})
        token = invited.json()["link"].rsplit("/", 1)[1]
        browser = self.browser()
        accepted = await browser.post(f"/api/invitations/{token}/accept", json={"name": role, "password": PASSWORD})
        assert accepted.status_code == 200, accepted.text
        return browser

    async def add(self, service: str, *rows: Any) -> None:
        """Rows written straight into a service's database."""
        async with self.apps[service].state.runtime.sessions() as session:
            session.add_all(rows)
            await session.commit()


@pytest.fixture(scope="module", params=BACKENDS)
async def platform(
    request: pytest.FixtureRequest, broker: str, fresh_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    """Console, profiles and campaigns on free ports; tracking and segmentation at ports where nothing listens."""
    ports = {name: free_port() for name in ("console", "profiles", "campaigns", "tracking", "segmentation")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    link = {"console_url": urls["console"], "console_public_key": PUBLIC_KEY, "console_key_cache_seconds": 1.0,
            "console_internal_secret": SecretStr(INTERNAL_SECRET)}  # fmt: skip
    apps: dict[str, Any] = {}
    for name, settings_cls, factory in (("profiles", ProfilesSettings, create_profiles),
                                        ("campaigns", CampaignsSettings, create_campaigns)):  # fmt: skip
        database = await fresh_database(request.param, f"fwd_{name}")
        settings = service_settings(settings_cls, broker=broker, database_url=database, consumer_group=uuid.uuid4().hex,
                                    data_dir=tmp_path_factory.mktemp(name), **link)  # fmt: skip
        apps[name] = factory(settings)
    peers = {f"{name}_url": urls[name] for name in ("profiles", "campaigns", "tracking", "segmentation")}
    settings = console_settings(database_url=await fresh_database(request.param, "fwd_console"),
                                data_dir=tmp_path_factory.mktemp("fwd"),
                                **with_admin(forward_max_body_bytes=MAX_BODY, **peers))  # fmt: skip
    apps["console"] = create_console(settings)
    async with (serving(apps["profiles"], ports["profiles"]), serving(apps["campaigns"], ports["campaigns"]),
                serving(apps["console"], ports["console"])):  # fmt: skip
        running = Platform(urls["console"], urls["profiles"], urls["campaigns"], apps, [])
        yield running
        for client in running.clients:
            await client.aclose()


def profile(**traits: Any) -> Profile:
    now = utcnow()
    return Profile(id=new_id(), traits=traits, first_seen_at=now, last_seen_at=now)


class TestForwarding:
    async def test_the_query_string_reaches_the_service(self, platform: Platform) -> None:
        city = f"City-{mark()}"
        wanted = [profile(city=city), profile(city=city)]
        await platform.add("profiles", *wanted, profile(city="Elsewhere"))
        analyst = await platform.user("analyst")
        found = await analyst.get(f"/api/profiles/v1/profiles?traits.city={city}&limit=10")
        assert found.status_code == 200 and {p["id"] for p in found.json()["items"]} == {p.id for p in wanted}
        refused = await analyst.get("/api/profiles/v1/profiles?limit=0")
        assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "query.limit"

    async def test_a_csv_download_streams_through(self, platform: Platform) -> None:
        rows = [[f"{i:064x}", f"{i + 1:064x}"] for i in range(20_000)]
        export = AudienceExport(id=new_id(), campaign_id="c" * 32, platform="google_ads", rows=rows, added=len(rows),
                                removed=[], pushed="ok", created_at=utcnow())  # fmt: skip
        await platform.add("campaigns", export)
        path = f"/v1/campaigns/{'c' * 32}/exports/{export.id}.csv"
        async with httpx.AsyncClient() as direct:
            expected = (await direct.get(f"{platform.campaigns}{path}", headers=auth(ADMIN_KEY))).content
        marketer, chunks = await platform.user("marketer"), []
        async with marketer.http.stream("GET", f"/api/campaigns{path}?platform=google_ads") as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
        assert b"".join(chunks) == expected and len(expected) > 1_000_000

    async def test_a_body_over_the_limit_is_413_in_the_shared_shape(self, platform: Platform) -> None:
        marketer = await platform.user("marketer")
        big = b"email\n" + b"someone@example.com\n" * (MAX_BODY // 20 + 10)
        sized = await marketer.post("/api/profiles/v1/imports/customers", content=big,
                                    headers={"Content-Type": "text/csv"})  # fmt: skip

        async def chunked() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 65536):
                yield big[start : start + 65536]

        streamed = await marketer.post("/api/profiles/v1/imports/customers", content=chunked(),
                                       headers={"Content-Type": "text/csv"})  # fmt: skip
        for response in (sized, streamed):
            assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

    async def test_a_malformed_body_gets_the_services_own_answer(self, platform: Platform) -> None:
        marketer = await platform.user("marketer")
        body, headers = b'{"ids": [', {"Content-Type": "application/json"}
        through = await marketer.post("/api/profiles/v1/profiles/batch", content=body, headers=headers)
        async with httpx.AsyncClient() as direct:
            own = await direct.post(f"{platform.profiles}/v1/profiles/batch", content=body,
                                    headers=headers | auth(ADMIN_KEY))  # fmt: skip
        assert 400 <= through.status_code < 500 and (through.status_code, through.json()) == (
            own.status_code,
            own.json(),
        )

    async def test_a_service_that_is_down_is_502(self, platform: Platform) -> None:
        down = await (await platform.user("analyst")).get("/api/tracking/v1/sources")
        assert down.status_code == 502 and down.json()["error"] == {
            "code": "bad_gateway", "message": "The tracking service is not answering.", "fields": []}  # fmt: skip

    async def test_the_services_openapi_document_is_forwarded(self, platform: Platform) -> None:
        document = await (await platform.user("analyst")).get("/api/profiles/openapi.json")
        assert document.status_code == 200 and "/v1/profiles/{profile_id}" in document.json()["paths"]

    async def test_forwarding_needs_a_session(self, platform: Platform) -> None:
        assert (await platform.browser().get("/api/profiles/v1/profiles/count")).status_code == 401


class TestRolesAtTheService:
    async def test_an_analyst_cannot_write_the_service_itself_says_403(self, platform: Platform) -> None:
        target = profile(city="Nantes")
        await platform.add("profiles", target)
        analyst = await platform.user("analyst")
        refused = await analyst.patch(f"/api/profiles/v1/profiles/{target.id}/traits", json={"traits": {"vip": True}})
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == "This needs the marketer role; your account has the analyst role."
        entries = (await (await platform.admin()).get("/api/audit", params={"actor": analyst.me["id"]})).json()
        [entry] = [e for e in entries["items"] if e["action"].startswith("profiles.")]
        assert entry["action"] == "profiles.patch /v1/profiles/{id}/traits" and entry["detail"] == {"status": 403}

    async def test_a_marketers_write_is_done_and_audited_with_its_status(self, platform: Platform) -> None:
        target = profile(city="Lille")
        await platform.add("profiles", target)
        marketer = await platform.user("marketer")
        done = await marketer.patch(f"/api/profiles/v1/profiles/{target.id}/traits", json={"traits": {"vip": True}})
        assert done.status_code == 200 and done.json()["traits"] == {"city": "Lille", "vip": True}
        entries = (await (await platform.admin()).get("/api/audit", params={"object_id": target.id})).json()["items"]
        assert [(e["action"], e["object_type"], e["detail"], e["actor_email"]) for e in entries] == [
            ("profiles.patch /v1/profiles/{id}/traits", "profiles", {"status": 200}, marketer.me["email"])]  # fmt: skip

    async def test_admin_only_routes_of_a_service_refuse_a_marketer(self, platform: Platform) -> None:
        target = profile(city="Brest")
        await platform.add("profiles", target)
        refused = await (await platform.user("marketer")).delete(f"/api/profiles/v1/profiles/{target.id}")
        assert refused.status_code == 403 and "admin role" in refused.json()["error"]["message"]


class TestOverview:
    async def test_counts_and_pipelines_with_the_missing_services_named(self, platform: Platform) -> None:
        await platform.add("profiles", profile(city="Metz"))
        async with platform.apps["profiles"].state.runtime.sessions() as session:
            profiles = await session.scalar(select(func.count()).select_from(Profile))
        seen = (await (await platform.user("analyst")).get("/api/overview")).json()
        assert (seen["profiles"], seen["events_today"], seen["campaigns"], seen["segments"]) == (profiles, 0, 0, None)
        assert seen["pipeline"]["profiles"]["service"] == "profiles" and seen["pipeline"]["campaigns"] is not None
        assert seen["pipeline"]["tracking"] is None and set(seen["unavailable"]) == {"tracking", "segmentation"}


class TestApiKeysFromTheConsole:
    async def test_a_console_key_works_at_a_service_until_it_is_revoked(self, platform: Platform) -> None:
        admin = await platform.admin()
        made = (await admin.post("/api/api-keys", json={"name": "bi export", "role": "marketer"})).json()
        async with httpx.AsyncClient(base_url=platform.profiles) as service:
            counted = await service.get("/v1/profiles/count", headers=auth(made["key"]))
            assert counted.status_code == 200
            assert (await admin.delete(f"/api/api-keys/{made['id']}")).status_code == 204

            async def refused() -> bool:
                return (await service.get("/v1/profiles/count", headers=auth(made["key"]))).status_code == 401

            await wait_for(refused, timeout=30)  # the services cache answers for at most 30 s (1 s here)
        keys = {k["id"]: k for k in (await admin.get("/api/api-keys")).json()}
        assert keys[made["id"]]["last_used_at"] is not None

    async def test_a_console_keys_role_is_enforced_and_unknown_keys_refused(self, platform: Platform) -> None:
        admin = await platform.admin()
        key = (await admin.post("/api/api-keys", json={"name": "reader", "role": "analyst"})).json()["key"]
        async with httpx.AsyncClient(base_url=platform.profiles) as service:
            write = await service.post("/v1/imports/customers", content=b"email\n", headers=auth(key))
            assert write.status_code == 403 and "the key has the analyst role" in write.json()["error"]["message"]
            unknown = await service.get("/v1/profiles/count", headers=auth("tsk_" + "x" * 32))
            assert unknown.status_code == 401 and unknown.json()["error"]["message"] == "The API key is not valid."
