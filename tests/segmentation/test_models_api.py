"""ML segments, CLV, RFM scores and segment reports over the REST API, fed through the real broker."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from services.segmentation.clustering.models import Clustering
from services.segmentation.jobs import run_due
from shared.db import utcnow
from tests.conftest import running_broker
from tests.helpers import wait_for
from tests.segmentation import personas
from tests.segmentation import response_keys as keys
from tests.segmentation.builders import (
    ANALYST,
    MARKETER,
    count_matching,
    fit_clv,
    profile_message,
    publish_messages,
    ready,
    settled,
)

CDNOW = Path(__file__).parents[1] / "data" / "CDNOW_sample.txt"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own: the thousands of profiles it publishes stay out of other modules' replicas."""
    with running_broker(tmp_path_factory, "models-broker") as bootstrap:
        yield bootstrap


# Fader, Hardie & Lee (2005), CDNOW 1/10 sample, calibration to 1997-09-30 in weeks; Gamma-Gamma (Fader & Hardie).
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
FEATURES = [f"computed.{name}" for name in personas.FEATURES]


async def _segment(client: httpx.AsyncClient, name: str, definition: dict[str, Any]) -> dict[str, Any]:
    created = await client.post("/v1/segments", json={"name": name, "definition": definition}, headers=MARKETER)
    assert created.status_code == 201, created.text
    return await wait_for(lambda: ready(client, created.json()["id"]))


async def _members(client: httpx.AsyncClient, segment_id: str) -> set[str]:
    found, cursor = set(), None
    while True:
        params = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"/v1/segments/{segment_id}/members", params=params, headers=ANALYST)).json()
        found |= {m["profile_id"] for m in page["items"]}
        if not (cursor := page["next_cursor"]):
            return found


async def _persona_batch(client: httpx.AsyncClient, broker: str, n: int) -> tuple[str, dict[str, int]]:
    """n customers from planted personas in a segment of their own; returns (segment id, persona per profile)."""
    m = uuid.uuid4().hex[:8]
    matrix, names, labels = personas.generate(n, seed=11)
    messages = [profile_message(f"c{m}{i:04d}", {"batch": m}, dict(zip(names, map(float, row), strict=True)))
                for i, row in enumerate(matrix)]  # fmt: skip
    await publish_messages(broker, messages)
    await wait_for(lambda: count_matching(client, {"trait": "batch", "op": "eq", "value": m}, n), timeout=60)
    segment = await _segment(client, f"batch {m}", {"trait": "batch", "op": "eq", "value": m})
    assert segment["size"] == n
    return segment["id"], {f"c{m}{i:04d}": int(label) for i, label in enumerate(labels)}


async def _gone(client: httpx.AsyncClient, profile_id: str) -> bool:
    return (await client.get(f"/v1/profiles/{profile_id}/features", headers=ANALYST)).status_code == 404


class TestClusterings:
    async def test_clusters_recover_personas_and_published_segments_stay_stable(
        self, segmentation: httpx.AsyncClient, broker: str
    ) -> None:
        batch, planted = await _persona_batch(segmentation, broker, 1000)
        body = {"name": "Personas", "features": FEATURES, "k": "auto", "segment_id": batch}
        created = await segmentation.post("/v1/clusterings", json=body, headers=MARKETER)
        assert created.status_code == 201 and created.json()["status"] == "queued"
        done = await wait_for(lambda: settled(segmentation, created.json()["id"]), timeout=60)
        assert done["status"] == "ready" and done["progress"] == 1.0, done["last_error"]
        run = done["latest_run"]
        assert run["k"] == 5 and run["profiles"] == 1000 and run["silhouette"] > 0.2
        assert all(c["description"] and c["suggested_name"] and c["centroid"] for c in run["clusters"])

        published = (await segmentation.post(f"/v1/clusterings/{done['id']}/publish", headers=MARKETER)).json()
        segment_ids = [c["segment_id"] for c in published["latest_run"]["clusters"]]
        found = {pid: i for i, sid in enumerate(segment_ids) for pid in await _members(segmentation, sid)}
        ids = sorted(planted)
        assert adjusted_rand_score([planted[p] for p in ids], [found[p] for p in ids]) >= 0.9

        rerun = await segmentation.post(f"/v1/clusterings/{done['id']}/runs", headers=MARKETER)
        assert rerun.status_code == 202
        again = await wait_for(lambda: settled(segmentation, done["id"]), timeout=60)
        assert [c["segment_id"] for c in again["latest_run"]["clusters"]] == segment_ids
        history = (await segmentation.get(f"/v1/clusterings/{done['id']}/drift", headers=ANALYST)).json()
        [report] = history["reports"]
        assert set(history) == keys.DRIFT_HISTORY and set(report) == keys.DRIFT_REPORT
        assert set(report["transitions"]) == keys.TRANSITIONS
        assert report["adjusted_rand"] > 0.99 and report["psi"] < 0.01 and report["common_profiles"] == 1000
        assert sum(map(sum, report["transitions"]["counts"])) == 1000

    async def test_a_rule_can_name_a_cluster_and_cluster_segments_are_not_editable(
        self, segmentation: httpx.AsyncClient, broker: str
    ) -> None:
        batch, _ = await _persona_batch(segmentation, broker, 300)
        body = {"name": "Small", "features": FEATURES[:4], "k": 3, "method": "gmm", "segment_id": batch}
        clustering = (await segmentation.post("/v1/clusterings", json=body, headers=MARKETER)).json()
        await wait_for(lambda: settled(segmentation, clustering["id"]), timeout=60)
        published = (await segmentation.post(f"/v1/clusterings/{clustering['id']}/publish", headers=MARKETER)).json()
        first = published["latest_run"]["clusters"][0]
        cluster_segment = await wait_for(lambda: ready(segmentation, first["segment_id"]))
        assert cluster_segment["kind"] == "cluster" and cluster_segment["size"] == first["size"]
        rule = await _segment(
            segmentation, "big cluster", {"score": "cluster", "op": "eq", "value": first["segment_id"]}
        )
        assert rule["size"] == first["size"]
        edit = await segmentation.patch(f"/v1/segments/{first['segment_id']}", json={"definition": {"trait": "x", "op": "exists"}},
                                        headers=MARKETER)  # fmt: skip
        assert edit.status_code == 422 and edit.json()["error"]["fields"][0]["field"] == "definition"

    async def test_a_scheduled_clustering_runs_again_when_due(
        self, segmentation: httpx.AsyncClient, broker: str
    ) -> None:
        batch, planted = await _persona_batch(segmentation, broker, 200)
        body = {"name": "Weekly", "features": FEATURES[:3], "k": 2, "segment_id": batch, "rerun_every_hours": 168}
        clustering = (await segmentation.post("/v1/clusterings", json=body, headers=MARKETER)).json()
        first = await wait_for(lambda: settled(segmentation, clustering["id"]), timeout=60)
        assert first["next_run_at"] is not None
        erased = sorted(planted)[0]  # an erased profile leaves the clustering with its features
        await publish_messages(
            broker, [{"type": "profile.erased.v1", "profile_id": erased, "occurred_at": utcnow().isoformat()}]
        )
        await wait_for(lambda: _gone(segmentation, erased))
        runtime = segmentation._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.sessions() as session:
            (await session.get(Clustering, clustering["id"])).next_run_at = utcnow() - timedelta(minutes=1)
            await session.commit()
        await run_due(runtime)
        drift = (await segmentation.get(f"/v1/clusterings/{clustering['id']}/drift", headers=ANALYST)).json()
        assert drift["runs"] == 2 and drift["reports"][0]["adjusted_rand"] > 0.95
        assert drift["reports"][0]["common_profiles"] == 199 and drift["reports"][0]["profiles"] == 199

    async def test_bad_requests_get_422_with_the_field(self, segmentation: httpx.AsyncClient) -> None:
        cases = [({"name": "x", "features": ["nope.x.y"]}, "features[0]"), ({"name": "x", "features": ["orders"], "k": 1}, "body"),
                 ({"name": "x", "features": ["orders"], "method": "dbscan"}, "body.method")]  # fmt: skip
        for body, field in cases:
            response = await segmentation.post("/v1/clusterings", json=body, headers=MARKETER)
            assert response.status_code == 422, body
            assert any(f["field"].startswith(field) for f in response.json()["error"]["fields"]), response.json()
        assert (await segmentation.get("/v1/clusterings/nope", headers=ANALYST)).status_code == 404
        assert (await segmentation.post("/v1/clusterings", json=cases[0][0], headers=ANALYST)).status_code == 403


def _cdnow_messages(prefix: str) -> list[dict[str, Any]]:
    daily: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    orders: dict[str, int] = defaultdict(int)
    for line in CDNOW.read_text().splitlines():
        _, customer, day, _, dollars = line.split()
        key = datetime.strptime(day, "%Y%m%d").date().isoformat()
        daily[customer][key] += float(dollars)
        orders[customer] += 1
    return [profile_message(f"{prefix}{c}", {"source": prefix},
                            {"orders": orders[c], "revenue": round(sum(d.values()), 2), "daily_revenue": dict(d),
                             "last_order_at": f"{max(d)}T00:00:00+00:00"},
                            {"email": int(c) % 2 == 0}) for c, d in daily.items()]  # fmt: skip


class TestLifetimeValue:
    async def test_fit_reproduces_the_published_cdnow_table_and_scores_feed_segments(
        self, segmentation: httpx.AsyncClient, broker: str
    ) -> None:
        prefix = f"cd{uuid.uuid4().hex[:6]}-"
        messages = _cdnow_messages(prefix)
        await publish_messages(broker, messages)
        last = messages[-1]
        await wait_for(
            lambda: count_matching(segmentation, {"trait": "source", "op": "eq", "value": prefix}, 2357), timeout=60
        )
        job = await fit_clv(segmentation, {"calibration_end": "1997-09-30", "time_unit": "weeks", "horizon": 39})
        assert job["status"] == "ready" and job["progress"] == 1.0 and job["stage"] == "done", job["error"]
        fit = (await segmentation.get("/v1/clv", headers=ANALYST)).json()
        assert fit["id"] == job["model_id"] == job["model"]["id"]
        # Each backend's app reads the session broker from its start, so another run's copy of CDNOW may be in the
        # replica too: identical copies leave the estimates unchanged and multiply the log-likelihood.
        copies, rest = divmod(fit["customers"], 2357)
        assert copies >= 1 and rest == 0
        for name, value in PUBLISHED.items():
            found = fit["bgnbd"][name] / (copies if name == "log_likelihood" else 1)
            assert abs(found / value - 1) < 0.01, (name, found)
        for name, value in PUBLISHED_GG.items():
            assert abs(fit["gamma_gamma"][name] / value - 1) < 0.01, (name, fit["gamma_gamma"][name])
        assert fit["gamma_gamma"]["customers"] == 946 * copies and fit["gamma_gamma"]["excluded"] == 0

        answer = (await segmentation.get(f"/v1/profiles/{last['profile_id']}/scores", headers=ANALYST)).json()
        assert set(answer) == keys.PROFILE_SCORES
        scores = answer["scores"]
        assert 0 <= scores["p_alive"] <= 1 and scores["clv"] >= 0 and 0 < scores["clv_percentile"] <= 100
        top = await _segment(segmentation, "Top 10% CLV", {"and": [{"trait": "source", "op": "eq", "value": prefix},
                                                                    {"score": "clv_percentile", "op": "gt", "value": 90}]})  # fmt: skip
        assert abs(top["size"] - 235) <= 1
        report = (await segmentation.get(f"/v1/segments/{top['id']}/report", headers=ANALYST)).json()
        everyone = await _segment(segmentation, "CDNOW", {"trait": "source", "op": "eq", "value": prefix})
        overall = (await segmentation.get(f"/v1/segments/{everyone['id']}/report", headers=ANALYST)).json()
        assert set(report) == set(overall) == keys.SEGMENT_REPORT and set(report["freshness"]) == keys.FRESHNESS
        assert report["average_clv"] > 3 * overall["average_clv"] and report["conversion_rate"] == 1.0
        assert overall["orders"] == 6919 and overall["customers_with_orders"] == 2357
        assert abs(overall["email_consent_share"] - 0.5) < 0.02 and overall["average_sentiment"] is None

    async def test_too_few_customers_is_a_422_on_calibration_end(self, segmentation: httpx.AsyncClient) -> None:
        job = await fit_clv(segmentation, {"calibration_end": "1990-01-01"})
        assert job["status"] == "error" and job["model"] is None
        assert job["error"]["status"] == 422 and job["error"]["code"] == "invalid"
        assert job["error"]["fields"][0]["field"] == "calibration_end"
        bad = await segmentation.post("/v1/clv/fit", json={"time_unit": "years"}, headers=MARKETER)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"].endswith("time_unit")


class TestRfmScores:
    async def test_scores_follow_an_edited_segment_map_and_feed_rules(
        self, segmentation: httpx.AsyncClient, broker: str
    ) -> None:
        m = uuid.uuid4().hex[:6]
        now = utcnow()
        await publish_messages(broker, [profile_message(f"rf{m}{i}", {"rfm": m}, {
            "orders": 1 + i, "revenue": 10.0 * (1 + i), "last_order_at": (now - timedelta(days=100 - i)).isoformat()})
            for i in range(50)])  # fmt: skip
        await wait_for(lambda: count_matching(segmentation, {"trait": "rfm", "op": "eq", "value": m}, 50), timeout=60)
        cells = [
            {"r": r, "fm": fm, "name": "Top" if r + fm >= 9 else "Rest"} for r in range(1, 6) for fm in range(1, 6)
        ]
        assert (
            await segmentation.put("/v1/rfm/segment-map", json={"cells": cells}, headers=MARKETER)
        ).status_code == 200
        summary = (await segmentation.post("/v1/rfm/score", headers=MARKETER)).json()
        assert {s["segment"] for s in summary["segments"]} == {"Top", "Rest"}
        assert set(summary) == keys.RFM_SUMMARY | {"freshness"} and set(summary["freshness"]) == keys.FRESHNESS
        assert all(set(s) == keys.RFM_SEGMENT for s in summary["segments"])
        assert all(set(c) == keys.RFM_CELL_COUNT for c in summary["cells"])
        best = (await segmentation.get(f"/v1/profiles/rf{m}49/scores", headers=ANALYST)).json()["scores"]
        assert best["rfm_segment"] == "Top" and best["rfm_r"] == 5
        top = await _segment(segmentation, "RFM top", {"and": [{"trait": "rfm", "op": "eq", "value": m},
                                                                {"score": "rfm_segment", "op": "eq", "value": "Top"}]})  # fmt: skip
        assert 0 < top["size"] < 50
        bad = await segmentation.put(
            "/v1/rfm/segment-map", json={"cells": [{"r": 6, "fm": 1, "name": "x"}]}, headers=MARKETER
        )
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "body.cells.0.r"
        segment_map = (await segmentation.get("/v1/rfm/segment-map", headers=ANALYST)).json()
        assert set(segment_map) == {"cells"} and len(segment_map["cells"]) == 25
        assert all(set(c) == keys.RFM_MAP_CELL for c in segment_map["cells"])


def test_persona_features_are_named_as_the_generator_names_them() -> None:
    assert np.array(personas.generate(5)[0]).shape == (5, len(FEATURES))
