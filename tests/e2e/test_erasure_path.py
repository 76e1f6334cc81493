"""GDPR erasure end to end on `tessera up` (SQLite, and PostgreSQL when configured): a person who browsed, bought and
got a campaign mail is erased through profiles' API; afterwards no table of any service's database holds their
e-mail address, user id or anonymous id, the campaign's results are unchanged, and the same visitor coming back
creates no profile."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.builders import auth
from tests.campaigns.smtp_sink import smtp_sink
from tests.conftest import ADMIN_KEY, BACKENDS, WRITE_KEY
from tests.e2e.stack import SERVICES, tessera_up
from tests.helpers import audience_copied, wait_for

ADMIN = auth(ADMIN_KEY)


@pytest.fixture(scope="module", params=BACKENDS)
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[dict[str, Any]]:
    """The stack on SQLite files or on a PostgreSQL database per service, mailing an SMTP sink."""
    databases = {}
    if request.param == "postgres":
        databases = {name: await fresh_database("postgres", f"erase_{name}") for name in SERVICES}
    env = {f"TESSERA_{name.upper()}_DATABASE_URL": url for name, url in databases.items()}
    with smtp_sink() as (sink, port):
        env |= {"TESSERA_CAMPAIGNS_SMTP_PORT": str(port), "TESSERA_CAMPAIGNS_SCHEDULE_CHECK_SECONDS": "1"}
        with tessera_up(tmp_path_factory.mktemp("erasure"), **env) as running:
            yield running | {"sink": sink, "databases": databases}


async def every_row(stack: dict[str, Any]) -> str:
    """Every row of every table of every service's database (and of tracking's spool), as text."""
    dumps = [_sqlite_rows(path) for path in sorted(Path(stack["data_dir"]).glob("*.db"))]
    for url in stack["databases"].values():
        dumps.append(await _postgres_rows(url.replace("postgresql+asyncpg://", "postgresql://")))
    return "\n".join(dumps)


def _sqlite_rows(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(f"{table}: {db.execute(_select_all(table)).fetchall()}" for table in tables)


def _select_all(table: str) -> str:
    return 'SELECT * FROM "' + table + '"'


async def _postgres_rows(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        tables = [r[0] for r in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return "\n".join([f"{t}: {[tuple(r) for r in await connection.fetch(_select_all(t))]}" for t in tables])
    finally:
        await connection.close()


async def _send(client: httpx.AsyncClient, url: str, *events: dict[str, Any]) -> None:
    response = await client.post(f"{url}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": list(events)})
    assert response.status_code == 200, response.text


async def _suppressed(client: httpx.AsyncClient, url: str) -> float:
    for line in (await client.get(f"{url}/metrics")).text.splitlines():
        if line.startswith("tessera_profiles_suppressed_events_total "):
            return float(line.split()[1])
    return 0.0


async def test_an_erased_person_is_gone_from_every_service_and_stays_gone(stack: dict[str, Any]) -> None:
    urls, m = stack["urls"], uuid.uuid4().hex[:8]
    person = {"user": f"erase-user-{m}", "anonymous": f"erase-anon-{m}", "email": f"erase-{m}@example.com"}
    async with httpx.AsyncClient(timeout=30) as client:
        campaign_id, profile_id = await _a_mailed_customer(client, urls, person, m)
        results_url = f"{urls['campaigns']}/v1/campaigns/{campaign_id}/results"
        before = (await client.get(results_url, headers=ADMIN)).json()
        rows = await every_row(stack)
        assert all(value in rows for value in person.values())

        erased = await client.delete(f"{urls['profiles']}/v1/profiles/{profile_id}", headers=ADMIN)
        assert erased.status_code == 204

        async def gone_everywhere() -> bool:
            rows = await every_row(stack)
            return not any(value in rows for value in person.values())

        await wait_for(gone_everywhere, timeout=60)
        after = (await client.get(results_url, headers=ADMIN)).json()
        assert (after["variants"], after["holdout"]) == (before["variants"], before["holdout"])

        dropped_before = await _suppressed(client, urls["profiles"])
        await _send(client, urls["tracking"], {"type": "page", "anonymousId": person["anonymous"]})

        async def dropped() -> bool:
            return await _suppressed(client, urls["profiles"]) > dropped_before

        await wait_for(dropped, timeout=30)
        lookup = await client.get(f"{urls['profiles']}/v1/profiles/lookup", params={"anonymous_id": person["anonymous"]},
                                  headers=ADMIN)  # fmt: skip
        assert lookup.status_code == 404
        assert await gone_everywhere()


async def _a_mailed_customer(
    client: httpx.AsyncClient, urls: dict[str, str], person: dict[str, str], m: str
) -> tuple[str, str]:
    """The person (and a second customer) browse with a UTM campaign, identify, order and get a campaign's mail."""
    others = {"user": f"keep-user-{m}", "anonymous": f"keep-anon-{m}", "email": f"keep-{m}@example.com"}
    for who in (person, others):
        await _send(client, urls["tracking"],
            {"type": "page", "anonymousId": who["anonymous"], "context": {"campaign": {"name": f"spring-{m}"}}},
            {"type": "identify", "userId": who["user"], "anonymousId": who["anonymous"],
             "traits": {"email": who["email"], "first_name": "Ada", "tier": m, "consent": {"email": True}}},
            {"type": "track", "userId": who["user"], "event": "Order Completed",
             "properties": {"order_id": f"{who['user']}-1", "revenue": 20}})  # fmt: skip
    segment_id = await _segment(client, urls, m)
    created = await client.post(f"{urls['campaigns']}/v1/campaigns", headers=ADMIN, json={
        "name": f"erase-{m}", "target_segments": [segment_id],
        "variants": [{"name": "A", "subject": "Hi {{ first_name }}", "body": "<p>Hello</p>"}]})  # fmt: skip
    campaign_id = created.json()["id"]
    await client.post(f"{urls['campaigns']}/v1/campaigns/{campaign_id}/launch", headers=ADMIN)

    async def sent() -> list[dict[str, Any]] | None:
        body = (await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign_id}/exposures", headers=ADMIN)).json()
        items = [e for e in body["items"] if e["outcome"] == "sent"]
        return items if len(items) == 2 else None

    await wait_for(sent, timeout=60)
    found = await client.get(f"{urls['profiles']}/v1/profiles/lookup", params={"user_id": person["user"]},
                             headers=ADMIN)  # fmt: skip
    return campaign_id, found.json()["id"]


async def _segment(client: httpx.AsyncClient, urls: dict[str, str], m: str) -> str:
    definition = {"trait": "tier", "op": "eq", "value": m}

    async def replicated() -> bool:
        preview = await client.post(f"{urls['segmentation']}/v1/segments/preview", json={"definition": definition},
                                    headers=ADMIN)  # fmt: skip
        return preview.json().get("count") == 2

    await wait_for(replicated, timeout=60)
    created = await client.post(f"{urls['segmentation']}/v1/segments", headers=ADMIN,
                                json={"name": f"erase-{m}", "definition": definition})  # fmt: skip
    await audience_copied(client, urls["campaigns"], created.json()["id"], 2, ADMIN)
    return str(created.json()["id"])
