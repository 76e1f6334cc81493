"""Imports: parsing rows into events or rejections, and CDNOW end to end through the broker into profiles."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.profiles.app import create_app
from services.profiles.config import Settings
from services.profiles.imports import api as imports_api
from services.profiles.imports.files import Row, open_file, read_rows
from services.profiles.imports.service import Progress
from services.profiles.models import Identity, Profile
from shared.db import make_engine
from shared.errors import Invalid
from tessera.broker import free_port, start_broker, stop_process
from tests.builders import auth, service_settings
from tests.conftest import ADMIN_KEY, ANALYST_KEY, BACKENDS, MARKETER_KEY
from tests.helpers import wait_for

CDNOW = Path(__file__).parent.parent / "data" / "CDNOW_sample.txt"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ADMIN, ANALYST, MARKETER = auth(ADMIN_KEY), auth(ANALYST_KEY), auth(MARKETER_KEY)
CSV = {"Content-Type": "text/csv"}


def rows(kind: str, text: str, file_format: str = "csv") -> list[Row]:
    return list(read_rows(open_file(kind, file_format, text.encode()), job_id="job-1", now=NOW))


def rejections(kind: str, text: str) -> dict[int, str]:
    return {r.line: r.reason or "" for r in rows(kind, text) if r.event is None}


class TestCustomers:
    def test_a_row_becomes_an_identify_with_email_and_traits(self) -> None:
        [row] = rows("customers", "id,email,plan,city\nc-1, Jo@Example.com ,pro,\n")
        assert row.event is not None and row.line == 2
        assert row.event["type"] == "identify" and row.event["userId"] == "c-1"
        assert row.event["traits"] == {"email": "Jo@Example.com", "plan": "pro"}  # a blank cell sets nothing
        assert row.event["sourceId"] == "import:job-1" and row.event["timestamp"] == NOW.isoformat()

    def test_header_aliases_bom_semicolons_and_crlf(self) -> None:
        [row] = rows("customers", "\ufeffCustomer ID;Email;Timestamp\r\nc-2;a@b.co;2024-03-01T10:00:00+02:00\r\n")
        assert row.event is not None and row.event["userId"] == "c-2"
        assert row.event["timestamp"] == "2024-03-01T08:00:00+00:00" and "Timestamp" not in row.event["traits"]

    def test_bad_rows_are_reported_with_their_line_numbers(self) -> None:
        text = 'id,email\nc-1,a@b.co\n,x@y.co\n\nnull,z@y.co\nc-4,not-an-email\n"c-5\nstill c-5",q@y.co\nc-6,a,extra\n'
        assert rejections("customers", text) == {
            3: "id is empty", 5: "id 'null' is a placeholder, not an id",
            6: "email 'not-an-email' is not an email address", 9: "3 cells but the header has 2 columns",
        }  # fmt: skip

    def test_message_ids_depend_only_on_the_file_and_line(self) -> None:
        first, again = rows("customers", "id\nc-1\n"), rows("customers", "id\nc-1\n")
        assert first[0].event and again[0].event and first[0].event["messageId"] == again[0].event["messageId"]
        other = rows("customers", "id\nc-2\n")[0].event
        assert other and other["messageId"] != first[0].event["messageId"]


class TestOrders:
    HEADER = "customer_id,order_id,timestamp,revenue,currency,channel\n"

    def test_a_row_becomes_an_order_completed_at_its_time(self) -> None:
        [row] = rows("orders", self.HEADER + "c-1,o-1,20240105,19.90,eur,web\n")
        assert row.event is not None and row.event["event"] == "Order Completed"
        assert row.event["timestamp"] == "2024-01-05T00:00:00+00:00"
        assert row.event["properties"] == {"order_id": "o-1", "revenue": 19.9, "currency": "EUR", "channel": "web"}

    def test_currency_defaults_to_usd(self) -> None:
        [row] = rows("orders", "customer_id,order_id,timestamp,revenue\nc-1,o-1,2024-01-05T10:00:00Z,5\n")
        assert row.event is not None and row.event["properties"]["currency"] == "USD"

    def test_bad_rows_are_reported_with_their_line_numbers(self) -> None:
        text = self.HEADER + (
            ",o-1,20240105,1,,\nundefined,o-2,20240105,1,,\nc-1,o-3,yesterday,1,,\nc-1,o-4,20241301,1,,\n"
            "c-1,o-5,20240105,12 EUR,,\nc-1,o-6,20240105,-3,,\nc-1,o-7,20240105,1,euro,\nc-1,,20240105,1,,\n"
            "c-1,o-9,2031-01-01,1,,\nc-1,o-10,20240105,1e3,,\nc-1,o-11,20240105,1,,\nc-2,o-11,20240106,2,,\n"
        )
        assert rejections("orders", text) == {
            2: "customer_id is empty", 3: "customer_id 'undefined' is a placeholder, not an id",
            4: "timestamp 'yesterday' is not ISO-8601 or YYYYMMDD", 5: "timestamp '20241301' is not ISO-8601 or YYYYMMDD",
            6: "revenue '12 EUR' is not a number", 7: "revenue '-3' is negative",
            8: "currency 'euro' is not a three-letter code", 9: "order_id is empty",
            10: "timestamp '2031-01-01' is in the future", 11: "revenue '1e3' is not a number",
            13: "order_id 'o-11' repeats line 12",
        }  # fmt: skip


class TestCdnow:
    def test_lines_become_orders_of_the_master_id(self) -> None:
        [row] = rows("orders", " 00004 0001 19970118  2   29.73\r\n", "cdnow")
        assert row.event is not None and row.event["userId"] == "00004"
        assert row.event["timestamp"] == "1997-01-18T00:00:00+00:00"
        assert row.event["properties"] == {"order_id": "cdnow-1", "revenue": 29.73, "currency": "USD", "quantity": 2}

    def test_bad_lines_are_rejected(self) -> None:
        text = " 00004 0001 19970118 2 29.73\n\n 00004 0001 19970118 2\n 0 0001 19970118 2 1.0\n 7 1 19970118 x 1\n"
        found = {r.line: r.reason for r in rows("orders", text, "cdnow") if r.event is None}
        assert found == {3: "4 fields; CDNOW lines have 5: customer id, sample id, date, CDs, dollars",
                         4: "customer id '0' is a placeholder, not an id", 5: "CD count 'x' is not a whole number"}  # fmt: skip

    def test_the_sample_has_2357_customers_and_6919_orders(self) -> None:
        parsed = list(read_rows(open_file("orders", "cdnow", CDNOW.read_bytes()), job_id="j", now=NOW))
        events = [r.event for r in parsed if r.event is not None]
        assert len(events) == 6919 and len({e["userId"] for e in events}) == 2357


class TestProgress:
    def test_only_the_first_thousand_rejections_are_kept(self) -> None:
        progress = Progress()
        progress.add([Row(n, reason="bad") for n in range(1, 1201)] + [Row(1201, event={"userId": "u"})])
        assert (progress.rows_read, progress.accepted, progress.rejected) == (1201, 1, 1200)
        assert len(progress.errors) == 1000 and progress.errors[-1] == {"line": 1000, "reason": "bad"}


class TestOpenFile:
    @pytest.mark.parametrize(
        ("kind", "text", "field"),
        [("customers", "email,plan\na@b.co,pro\n", "id"), ("orders", "customer_id,order_id,revenue\nc,o,1\n", "timestamp"),
         ("customers", "", "body"), ("customers", "id\n\n", "body"), ("customers", "id,user_id\nc,d\n", "user_id")],
    )  # fmt: skip
    def test_unusable_files_are_refused_naming_the_column(self, kind: str, text: str, field: str) -> None:
        with pytest.raises(Invalid) as raised:
            open_file(kind, "csv", text.encode())
        assert raised.value.fields[0]["field"] == field

    def test_text_that_is_not_utf8_is_refused(self) -> None:
        with pytest.raises(Invalid, match="UTF-8"):
            open_file("customers", "csv", "id,city\nc,Zürich\n".encode("latin-1"))


# --- end to end: a profiles app with a broker of its own, served on a socket (the CLI needs one) ---


@dataclass
class Live:
    url: str
    engine: AsyncEngine


def profiles_app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="module", params=BACKENDS)
async def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[Live]:
    """Own broker (other tests' events stay out), profiles app under uvicorn, an engine on its database."""
    tmp = tmp_path_factory.mktemp("imports")
    url = await fresh_database(request.param, "imports")
    port, broker_port = free_port(), free_port()
    log = open(tmp / "broker.log", "ab")  # noqa: SIM115 - closed after the broker stops
    broker = start_broker("127.0.0.1", broker_port, log)
    settings = service_settings(Settings, broker=f"127.0.0.1:{broker_port}", database_url=url, data_dir=tmp)
    app = profiles_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    live = Live(f"http://127.0.0.1:{port}", make_engine(url))
    await wait_for(lambda: _ready(live.url), timeout=30)
    await wait_for(lambda: _consuming(app), timeout=30)  # the group join takes seconds; measure imports only
    yield live
    server.should_exit = True
    await asyncio.to_thread(thread.join, 15)
    await live.engine.dispose()
    stop_process(broker)
    log.close()


async def _consuming(app: FastAPI) -> bool:
    return all(worker.consumer.assignment() for worker in app.state.runtime.workers)


async def _ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{url}/ready")).status_code == 200
    except httpx.HTTPError:
        return False


def client_of(live: Live) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=live.url, timeout=30)


async def finished(client: httpx.AsyncClient, job: dict[str, Any]) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        current = (await client.get(f"/v1/imports/{job['id']}", headers=ANALYST)).json()
        return current if current["status"] in ("done", "failed") else None

    return await wait_for(done, timeout=60)


async def orders_by_user(engine: AsyncEngine, user_ids: set[str]) -> dict[str, int]:
    query = (select(Identity.value, Profile.computed).join(Profile, Profile.id == Identity.profile_id)
             .where(Identity.kind == "user_id", Identity.value.in_(user_ids), Profile.merged_into.is_(None)))  # fmt: skip
    async with engine.connect() as connection:
        return {user: computed.get("orders", 0) for user, computed in await connection.execute(query)}


class TestImportEndToEnd:
    async def test_cdnow_orders_reach_profiles_like_live_orders(self, live: Live) -> None:
        content = CDNOW.read_bytes()
        masters = {line.split()[0] for line in content.decode().splitlines() if line.strip()}
        async with client_of(live) as client:
            started = time.perf_counter()
            response = await client.post("/v1/imports/orders", params={"format": "cdnow"}, content=content,
                                         headers=MARKETER | CSV)  # fmt: skip
            assert response.status_code == 202, response.text
            assert response.headers["location"] == f"/v1/imports/{response.json()['id']}"
            job = await finished(client, response.json())
            total = time.perf_counter() - started
        assert (job["status"], job["rows_read"], job["accepted"], job["rejected"]) == ("done", 6919, 6919, 0)
        assert (job["published"], job["applied"]) == (6919, 6919)
        counts = await orders_by_user(live.engine, masters)  # done means applied: no waiting for profiles
        assert len(counts) == 2357 and sum(counts.values()) == 6919 and counts["00004"] == 4
        print(f"\nCDNOW: job done (every row applied) in {total:.2f} s ({6919 / total:.0f} rows/s)")

    async def test_the_same_file_again_is_done_once_its_rows_are_found_applied(self, live: Live) -> None:
        async with client_of(live) as client:
            for _ in range(2):  # the second job's rows are duplicates of the first's: they count as applied
                response = await client.post("/v1/imports/orders", params={"format": "cdnow"},
                                             content=CDNOW.read_bytes()[:2000], headers=MARKETER | CSV)  # fmt: skip
                job = await finished(client, response.json())
                assert job["status"] == "done" and job["applied"] == job["accepted"] > 0

    async def test_customers_join_their_orders_and_bad_rows_are_listed(self, live: Live) -> None:
        text = "id,email,plan\n00004,jo@example.com,gold\nnull,x@example.com,free\n,y@example.com,free\n"
        async with client_of(live) as client:
            response = await client.post("/v1/imports/customers", content=text, headers=ADMIN | CSV)
            job = await finished(client, response.json())
            assert (job["accepted"], job["rejected"]) == (1, 2)
            assert [e["line"] for e in job["errors"]] == [3, 4]

            async def gold() -> dict[str, Any] | None:
                found = await client.get("/v1/profiles/lookup", params={"email": "jo@example.com"}, headers=ANALYST)
                return found.json() if found.status_code == 200 else None

            profile = await wait_for(gold, timeout=20)
        assert profile["traits"] == {"email": "jo@example.com", "plan": "gold"}
        computed = profile["computed"]
        assert computed["orders"] == 4  # the CDNOW orders of 00004: one profile, not two
        assert computed["first_order_at"].startswith("1997-01-01") and computed.get("sessions", 0) == 0

    async def test_unusable_requests_are_refused(self, live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
        async with client_of(live) as client:
            missing = await client.post(
                "/v1/imports/orders", content="customer_id,order_id\nc,o\n", headers=ADMIN | CSV
            )
            assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "timestamp"
            assert (await client.post("/v1/imports/customers", content="", headers=ADMIN | CSV)).status_code == 422
            cdnow = await client.post("/v1/imports/customers?format=cdnow", content="1 1 19970101 1 1", headers=ADMIN)
            assert cdnow.status_code == 422
            assert (await client.post("/v1/imports/customers", content="id\nc\n", headers=ANALYST)).status_code == 403
            json_body = await client.post("/v1/imports/customers", json={"id": "c"}, headers=ADMIN)
            assert json_body.status_code == 415
            assert (await client.get("/v1/imports/nope", headers=ANALYST)).status_code == 404
            monkeypatch.setattr(imports_api, "MAX_BYTES", 64)
            large = await client.post("/v1/imports/customers", content="id\n" + "c\n" * 40, headers=ADMIN | CSV)
            assert large.status_code == 413

    async def test_cli_imports_a_file_with_a_progress_bar(self, live: Live, tmp_path: Path) -> None:
        path = tmp_path / "orders.csv"
        path.write_text("customer_id,order_id,timestamp,revenue\ncli-1,o-1,2024-02-01,10\ncli-1,o-2,someday,5\n")
        env = os.environ | {"TESSERA_PROFILES_PORT": live.url.rsplit(":", 1)[1], "TESSERA_ADMIN_API_KEY": ADMIN_KEY,
                            "TESSERA_DATA_DIR": str(tmp_path), "COLUMNS": "200"}  # fmt: skip
        command = [sys.executable, "-m", "tessera.cli", "import", "orders", str(path)]
        result = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "1 accepted, 1 applied, 1 rejected" in result.stderr
        assert "line 3: timestamp 'someday' is not ISO-8601 or YYYYMMDD" in result.stderr
        assert await wait_for(lambda: _orders_of(live, "cli-1"), timeout=20) == 1


async def _orders_of(live: Live, user_id: str) -> int | None:
    return (await orders_by_user(live.engine, {user_id})).get(user_id)
