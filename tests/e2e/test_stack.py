"""`tessera up` as a subprocess: four services ready, an event crosses the bus, SIGTERM stops everything."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from shared.events import SEGMENTS
from shared.tokens import sign_token
from tests.builders import auth
from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.e2e.stack import tessera_up
from tests.helpers import TopicReader, wait_for


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The embedded stack on free ports; yields its URLs and process."""
    with tessera_up(tmp_path_factory.mktemp("stack")) as running:
        yield running


async def test_all_four_services_are_ready(stack: dict) -> None:  # type: ignore[type-arg]
    async with httpx.AsyncClient() as client:
        for url in stack["urls"].values():
            response = await client.get(f"{url}/ready")
            body = response.json()
            assert response.status_code == 200 and set(body["checks"].values()) == {"ok"}
            assert set(body["checks"]) == {"database", "broker", "consumers", "tasks"}
            assert all(c["joined"] for c in body["consumers"]) and "outbox-relay" in body["tasks"]


async def test_non_health_endpoints_need_a_key_and_unknown_routes_are_404(stack: dict) -> None:  # type: ignore[type-arg]
    urls = stack["urls"]
    async with httpx.AsyncClient() as client:
        for path in (f"{urls['tracking']}/v1/sources", f"{urls['profiles']}/v1/profiles/x",
                     f"{urls['segmentation']}/v1/profiles/x/features", f"{urls['campaigns']}/v1/audiences/s/size"):  # fmt: skip
            response = await client.get(path)
            assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized", path
        for url in urls.values():
            response = await client.get(f"{url}/v1/nope", headers=auth(ADMIN_KEY))
            assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_an_event_crosses_tracking_profiles_and_segmentation(stack: dict) -> None:  # type: ignore[type-arg]
    urls = stack["urls"]
    async with httpx.AsyncClient() as client:
        sent = await client.post(
            f"{urls['tracking']}/v1/identify", auth=(WRITE_KEY, ""),
            json={"userId": "e2e-user", "anonymousId": "e2e-anon", "traits": {"city": "Lyon"}},
        )  # fmt: skip
        assert sent.status_code == 200

        async def profile() -> dict | None:  # type: ignore[type-arg]
            r = await client.get(f"{urls['profiles']}/v1/profiles/lookup?user_id=e2e-user", headers=auth(ADMIN_KEY))
            return r.json() if r.status_code == 200 else None

        found = await wait_for(profile, timeout=30)
        assert found["traits"] == {"city": "Lyon"}
        assert {(i["kind"], i["value"]) for i in found["identities"]} == {
            ("user_id", "e2e-user"),
            ("anonymous_id", "e2e-anon"),
        }

        async def features() -> dict | None:  # type: ignore[type-arg]
            r = await client.get(f"{urls['segmentation']}/v1/profiles/{found['id']}/features", headers=auth(ADMIN_KEY))
            return r.json() if r.status_code == 200 else None

        assert (await wait_for(features, timeout=30))["traits"] == {"city": "Lyon"}


async def test_an_order_posted_to_tracking_moves_the_profile_into_a_segment(stack: dict) -> None:  # type: ignore[type-arg]
    urls, user = stack["urls"], f"seg-{uuid.uuid4().hex[:8]}"
    definition = {"and": [{"trait": "plan", "op": "eq", "value": user},
                          {"event": "Order Completed", "at_least": 1, "within_days": 30}]}  # fmt: skip
    async with httpx.AsyncClient() as client:
        created = await client.post(f"{urls['segmentation']}/v1/segments", headers=auth(ADMIN_KEY),
                                    json={"name": "Recent buyers", "definition": definition})  # fmt: skip
        segment_id = created.json()["id"]

        async def ready() -> bool:
            body = (
                await client.get(f"{urls['segmentation']}/v1/segments/{segment_id}", headers=auth(ADMIN_KEY))
            ).json()
            return body["status"] == "ready"

        await wait_for(ready, timeout=20)
        async with TopicReader(stack["broker"], SEGMENTS) as reader:
            started = time.perf_counter()
            for body in ({"type": "identify", "userId": user, "traits": {"plan": user}},
                         {"type": "track", "userId": user, "event": "Order Completed", "properties": {"revenue": 9}}):  # fmt: skip
                assert (
                    await client.post(f"{urls['tracking']}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": [body]})
                ).status_code == 200
            [entered] = await reader.wait_until(lambda v: v.get("segment_id") == segment_id, timeout=30)
            elapsed = time.perf_counter() - started
    profile = await _lookup(urls["profiles"], user)
    assert entered["type"] == "segment.entered.v1" and entered["profile_id"] == profile["id"]
    print(f"event -> segment entered: {elapsed * 1000:.0f} ms")


async def _lookup(url: str, user: str) -> dict:  # type: ignore[type-arg]
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{url}/v1/profiles/lookup", params={"user_id": user}, headers=auth(ADMIN_KEY))).json()


CDNOW = Path(__file__).parents[1] / "data" / "CDNOW_sample.txt"
# Fader, Hardie & Lee (2005): BG/NBD on CDNOW's 1/10 sample, calibration to 1997-09-30, weeks; Gamma-Gamma.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4, "p": 6.25, "q": 3.74,
             "gamma": 15.44}  # fmt: skip
CDNOW_CUSTOMERS = {"computed": "first_order_at", "op": "lt", "value": "1998"}


async def test_cdnow_imported_through_profiles_reproduces_the_published_clv_fit(stack: dict) -> None:  # type: ignore[type-arg]
    urls, admin = stack["urls"], auth(ADMIN_KEY)
    async with httpx.AsyncClient(timeout=60) as client:
        job = await client.post(f"{urls['profiles']}/v1/imports/orders", params={"format": "cdnow"},
                                content=CDNOW.read_bytes(), headers=admin | {"Content-Type": "text/csv"})  # fmt: skip
        assert job.status_code == 202, job.text
        created = await client.post(f"{urls['segmentation']}/v1/segments", headers=admin,
                                    json={"name": "CDNOW", "definition": CDNOW_CUSTOMERS})  # fmt: skip
        segment_url = f"{urls['segmentation']}/v1/segments/{created.json()['id']}"
        report_url = f"{segment_url}/report"

        async def all_orders_arrived() -> dict | None:  # type: ignore[type-arg]
            report = (await client.get(report_url, headers=admin)).json()
            return report if report["orders"] == 6919 and report["size"] == 2357 else None

        await wait_for(all_orders_arrived, timeout=120)
        started = await client.post(f"{urls['segmentation']}/v1/clv/fit", headers=admin,
                                    json={"calibration_end": "1997-09-30", "time_unit": "weeks"})  # fmt: skip
        assert started.status_code == 202, started.text

        async def fitted() -> dict | None:  # type: ignore[type-arg]
            job = (await client.get(f"{urls['segmentation']}/v1/clv/fits/{started.json()['id']}", headers=admin)).json()
            return job if job["status"] in ("ready", "error") else None

        job = await wait_for(fitted, timeout=60)
        assert job["status"] == "ready", job["error"]
        model = (await client.get(f"{urls['segmentation']}/v1/clv", headers=admin)).json()
        assert model["id"] == job["model_id"] and model["customers"] == 2357
        assert model["gamma_gamma"]["customers"] == 946 and model["gamma_gamma"]["excluded"] == 0
        found = model["gamma_gamma"] | model["bgnbd"]  # the log-likelihood published is BG/NBD's
        for name, value in PUBLISHED.items():
            assert abs(found[name] / value - 1) < 0.01, (name, found[name], value)

        # Editing the segment backfills it: the same customers, narrowed to the top CLV decile.
        top = {"and": [CDNOW_CUSTOMERS, {"score": "clv_percentile", "op": "gt", "value": 90}]}
        edited = await client.patch(segment_url, headers=admin, json={"definition": top})
        assert edited.status_code == 200 and edited.json()["status"] == "building"

        async def rebuilt() -> dict | None:  # type: ignore[type-arg]
            body = (await client.get(segment_url, headers=admin)).json()
            return body if body["status"] == "ready" and body["size"] < 2357 else None

        assert abs((await wait_for(rebuilt, timeout=30))["size"] - 235) <= 1


async def test_email_links_are_signed_with_the_secret_tessera_up_generated(stack: dict) -> None:  # type: ignore[type-arg]
    secret = json.loads((stack["data_dir"] / "keys.json").read_text())["link_secret"]
    pixel = f"{stack['urls']['tracking']}/v1/o/{{}}.gif"
    async with httpx.AsyncClient() as client:
        ours = await client.get(pixel.format(sign_token({"k": "o", "p": "p-e2e"}, secret)))
        published = await client.get(pixel.format(sign_token({"k": "o", "p": "p-e2e"}, "tessera-dev-link-secret")))
    assert secret != "tessera-dev-link-secret" and ours.status_code == 200 and published.status_code == 400


def test_sigterm_stops_every_child(stack: dict) -> None:  # type: ignore[type-arg]
    process: subprocess.Popen[bytes] = stack["process"]  # type: ignore[assignment]
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 5  # the broker and four services
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0
    gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, f"orphans left: {[p.pid for p in alive]}"
