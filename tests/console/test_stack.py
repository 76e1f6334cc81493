"""The console in `tessera up`: a setup link printed while no admin exists, and the console reaching the services
with its signed user tokens and its API keys (the keys and secrets `tessera up` generated)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import auth
from tests.console.conftest import PASSWORD, Browser
from tests.e2e.stack import tessera_up


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`tessera up` with no admin for the console; what it printed before READY."""
    with tessera_up(tmp_path_factory.mktemp("console-stack"), console_admin=False) as running:
        assert running["process"].stderr is not None
        os.set_blocking(running["process"].stderr.fileno(), False)
        yield running | {"printed": (running["process"].stderr.read() or b"").decode()}


async def test_the_setup_link_makes_the_first_admin_once(stack: dict[str, Any]) -> None:
    token = json.loads((stack["data_dir"] / "keys.json").read_text())["console_setup_token"]
    link = f"{stack['console']}/setup?token={token}"
    assert link in stack["printed"] and f"Console:        {stack['console']}" in stack["printed"]
    async with httpx.AsyncClient(base_url=stack["console"]) as http:
        assert (await http.get("/api/auth/status")).json() == {"needs_setup": True}
        body = {"token": re.sub(r".*token=", "", link), "email": "owner@example.com", "name": "Owner",
                "password": PASSWORD}  # fmt: skip
        assert (await http.post("/api/auth/setup", json=body)).status_code == 200
        again = await http.post("/api/auth/setup", json=body | {"email": "other@example.com"})
        assert again.status_code == 403 and (await http.get("/api/auth/status")).json() == {"needs_setup": False}


async def test_the_console_reaches_the_services_as_its_users(stack: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=stack["console"], timeout=30) as http:
        admin = Browser(http)
        assert (await admin.login("owner@example.com", PASSWORD)).status_code == 200
        sources = await admin.get("/api/tracking/v1/sources")
        assert sources.status_code == 200 and [s["name"] for s in sources.json()] == ["default"]
        overview = (await admin.get("/api/overview")).json()
        assert overview["unavailable"] == {} and set(overview["pipeline"]) == {"tracking", "profiles", "segmentation",
                                                                                 "campaigns"}  # fmt: skip
        key = (await admin.post("/api/api-keys", json={"name": "ci", "role": "analyst"})).json()["key"]
    async with httpx.AsyncClient() as direct:
        for service in ("profiles", "segmentation"):
            url = f"{stack['urls'][service]}/v1/pipeline"
            assert (await direct.get(url, headers=auth(key))).status_code == 200, service
        refused = await direct.post(f"{stack['urls']['segmentation']}/v1/segments", headers=auth(key),
                                    json={"name": "x", "definition": {"trait": "a", "op": "eq", "value": 1}})  # fmt: skip
        assert refused.status_code == 403 and "analyst role" in refused.json()["error"]["message"]


async def test_the_console_answers_ready_and_serves_a_clear_page_without_a_build(stack: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=stack["console"]) as http:
        ready = (await http.get("/ready")).json()
        assert ready["checks"] == {"database": "ok", "tasks": "ok"}
        page = await http.get("/segments/some-client-side-route")
    if page.status_code == 503:  # no `web/dist` in this checkout
        assert "not built" in page.text and page.headers["content-type"].startswith("text/html")
    else:
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
