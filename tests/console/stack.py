"""`tessera up` for the console's Chromium tests, once per session, and the customers they look at: four customers
sent through tracking, two of them matching NESTED."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import auth
from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.console.conftest import PASSWORD
from tests.e2e.stack import tessera_up
from tests.helpers import wait_for

OWNER = "owner@example.com"
# What the marketer builds in the browser: customers with an order who are on the pro plan or viewed products twice.
NESTED = {"and": [{"computed": "orders", "op": "gte", "value": 1},
                  {"or": [{"trait": "plan", "op": "eq", "value": "pro"},
                          {"event": "Product Viewed", "at_least": 2, "within_days": 30}]}]}  # fmt: skip
# Every browser logs in from 127.0.0.1: the per-address limits would count the whole session's logins together.
LIMITS = {"TESSERA_CONSOLE_LOGIN_ATTEMPTS_PER_MINUTE": "1000", "TESSERA_CONSOLE_LOCKOUT_FAILURES_PER_ADDRESS": "1000"}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`tessera up` with no admin for the console (the first test makes one); what it printed before READY."""
    with tessera_up(tmp_path_factory.mktemp("console-stack"), console_admin=False, **LIMITS) as running:
        assert running["process"].stderr is not None
        os.set_blocking(running["process"].stderr.fileno(), False)
        yield running | {"printed": (running["process"].stderr.read() or b"").decode()}


@pytest.fixture(scope="session")
async def customers(stack: dict[str, Any]) -> None:
    """Four customers through tracking; two match NESTED (pro with an order; two views with an order)."""
    events = [*customer_events(1, plan="pro", orders=1, views=0), *customer_events(2, plan="free", orders=1, views=2),
              *customer_events(3, plan="free", orders=1, views=1), *customer_events(4, plan="pro", orders=0, views=3)]  # fmt: skip
    async with httpx.AsyncClient(auth=(WRITE_KEY, "")) as http:
        response = await http.post(f"{stack['urls']['tracking']}/v1/batch", json={"batch": events})
        assert response.status_code == 200, response.text
    await wait_for(lambda: _true(preview_count(stack, NESTED), 2), timeout=60)


@pytest.fixture(scope="session")
async def owner(stack: dict[str, Any]) -> str:
    """The first admin's e-mail: made through the setup API unless the setup-link test made it already."""
    async with httpx.AsyncClient(base_url=stack["console"]) as http:
        if (await http.get("/api/auth/status")).json()["needs_setup"]:
            token = json.loads((stack["data_dir"] / "keys.json").read_text())["console_setup_token"]
            body = {"token": token, "email": OWNER, "name": "Owner", "password": PASSWORD}
            assert (await http.post("/api/auth/setup", json=body)).status_code == 200
    return OWNER


def customer_events(n: int, *, plan: str, orders: int, views: int) -> list[dict[str, Any]]:
    """One customer's identify, orders and product views, as the website tag would send them."""
    user = f"browser-user-{n}"
    events: list[dict[str, Any]] = [{"type": "identify", "userId": user,
                                     "traits": {"email": f"customer{n}@example.com", "plan": plan}}]  # fmt: skip
    events += [{"type": "track", "userId": user, "event": "Order Completed",
                "properties": {"order_id": f"b{n}-{o}", "revenue": 20.0}} for o in range(orders)]  # fmt: skip
    return events + [{"type": "track", "userId": user, "event": "Product Viewed"} for _ in range(views)]


async def preview_count(stack: dict[str, Any], definition: dict[str, Any]) -> int:
    """Segmentation's own preview count for a definition."""
    async with httpx.AsyncClient(headers=auth(ADMIN_KEY)) as http:
        url = f"{stack['urls']['segmentation']}/v1/segments/preview"
        response = await http.post(url, json={"definition": definition, "sample_size": 0})
        assert response.status_code == 200, response.text
        return int(response.json()["count"])


async def _true(count: Any, expected: int) -> bool | None:
    return True if await count == expected else None
