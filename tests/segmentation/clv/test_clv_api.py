"""CLV fits over the REST API as jobs, on a replica fed through the real broker: the model and the customers left out
of Gamma-Gamma, fits that find no maximum (the previous model and scores stay), one fit at a time, schedules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from services.segmentation.clv import fits as clv_fits
from services.segmentation.clv import model as clv
from services.segmentation.clv.jobs import run_clv_fit_job
from services.segmentation.clv.models import ClvModel
from services.segmentation.clv.retention import cohort_matrix, repeat_purchase_rate
from services.segmentation.clv.service import ClvOptions, validate
from services.segmentation.jobs import run_due
from shared.db import utcnow
from tests.conftest import running_broker
from tests.helpers import wait_for
from tests.segmentation.builders import (
    ANALYST,
    MARKETER,
    clv_settled,
    count_matching,
    fit_clv,
    profile_message,
    publish_messages,
)
from tests.segmentation.clv_data import Orders, generate

# Three cohorts, each calibrated before the next begins, so a fit up to one's end sees it and the cohorts before:
# "zero" (1985): 15 customers repeat only with orders worth 0, 5 spend 25 on every order; "steady" (1990) buys as
# BG/NBD says, one order a day at most, 25 each time; "shop" (2010) is drawn from BG/NBD + Gamma-Gamma, 10% of its
# orders worth 0.
ZERO_END, STEADY_END = "1985-12-31", "1990-12-31"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own: the replica holds these cohorts and nothing else."""
    with running_broker(tmp_path_factory, "clv-broker") as bootstrap:
        yield bootstrap


def _orders(customers: list[int], days: list[str], amounts: list[float], end: str) -> Orders:
    return Orders(np.array(customers), np.array(days, dtype="datetime64[D]"), np.array(amounts),
                  np.datetime64(end, "D"))  # fmt: skip


def _zero() -> Orders:
    """15 customers whose repeat orders are all worth 0, and 5 who spend 25 on every order."""
    rows = [(c, f"1985-0{1 + k}-1{c % 9}", 25.0 if k == 0 or c >= 15 else 0.0) for c in range(20) for k in range(3)]
    return _orders(*map(list, zip(*rows, strict=True)), ZERO_END)  # type: ignore[arg-type]


def _steady() -> Orders:
    """300 customers buying as BG/NBD says, every order day worth exactly 25: no spread to fit Gamma-Gamma on."""
    drawn = generate(300, seed=4, start="1990-01-01", weeks=52)
    _, once = np.unique(np.stack([drawn.customer, drawn.day.astype(np.int64)]), axis=1, return_index=True)
    return Orders(drawn.customer[once], drawn.day[once], np.full(once.size, 25.0), np.datetime64(STEADY_END, "D"))


COHORTS = {"zero": _zero(), "steady": _steady(), "shop": generate(800, seed=5, zero_share=0.1, start="2010-01-01")}
SHOP_END = str(COHORTS["shop"].calibration_end)


def _messages(cohort: str, orders: Orders) -> list[dict[str, Any]]:
    return [profile_message(f"{cohort}-{c}", {"cohort": cohort},
                            {"orders": len(daily), "revenue": round(sum(daily.values()), 2), "daily_revenue": daily,
                             "last_order_at": f"{max(daily)}T00:00:00+00:00"})
            for c, daily in orders.daily_revenue().items()]  # fmt: skip


@pytest.fixture(scope="module")
async def cohorts(broker: str) -> dict[str, Orders]:
    """The three cohorts published once: each backend's app reads the module's broker from its start."""
    await publish_messages(broker, [m for name, orders in COHORTS.items() for m in _messages(name, orders)])
    return COHORTS


@pytest.fixture
async def replica(segmentation: httpx.AsyncClient, cohorts: dict[str, Orders]) -> dict[str, Orders]:
    """The cohorts once segmentation's replica holds every one of their profiles."""
    everyone = {"trait": "cohort", "op": "in", "value": list(cohorts)}
    count = sum(len(np.unique(orders.customer)) for orders in cohorts.values())
    await wait_for(lambda: count_matching(segmentation, everyone, count), timeout=60)
    return cohorts


def _pure_fit(end: str) -> tuple[clv.BgNbdFit, clv.GammaGammaFit]:
    """Both models fitted directly on every cohort's orders up to `end` (as the replica holds them, per day)."""
    rows = [(f"{name}-{c}", day, amount) for name, orders in COHORTS.items()
            for c, daily in orders.daily_revenue().items() for day, amount in daily.items()]  # fmt: skip
    ids, days, amounts = zip(*rows, strict=True)
    s = clv.summarise_transactions(
        np.array(ids), np.array(days, dtype="datetime64[D]"), np.array(amounts), end, "weeks"
    )
    return clv.fit_bgnbd(s.x, s.t_x, s.T), clv.fit_gamma_gamma(s.x, s.monetary)


async def _scores(client: httpx.AsyncClient, profile_id: str) -> dict[str, Any]:
    return (await client.get(f"/v1/profiles/{profile_id}/scores", headers=ANALYST)).json()["scores"]


class TestClvFitJobs:
    async def test_a_fit_is_a_job_and_its_model_says_who_gamma_gamma_left_out(
        self, segmentation: httpx.AsyncClient, replica: dict[str, Orders]
    ) -> None:
        job = await fit_clv(segmentation, {"calibration_end": SHOP_END, "horizon": 26, "discount_rate": 0.001})
        assert job["status"] == "ready" and job["progress"] == 1.0 and job["stage"] == "done", job["error"]
        assert job["started_at"] <= job["finished_at"] and job["error"] is None
        model = (await segmentation.get("/v1/clv", headers=ANALYST)).json()
        assert model == job["model"] and model["id"] == job["model_id"]
        bgnbd, gamma_gamma = _pure_fit(SHOP_END)
        for name in ("r", "alpha", "a", "b", "log_likelihood"):
            assert model["bgnbd"][name] == pytest.approx(getattr(bgnbd, name), rel=1e-9), name
        for name in ("p", "q", "gamma", "log_likelihood", "customers", "excluded"):
            assert model["gamma_gamma"][name] == pytest.approx(getattr(gamma_gamma, name), rel=1e-9), name
        assert model["gamma_gamma"]["excluded"] >= 15 and "worth 0" in model["gamma_gamma"]["excluded_reason"]
        assert model["bgnbd"]["boundary"] == model["gamma_gamma"]["boundary"] == []  # maxima inside, not at a limit
        left_out = await _scores(segmentation, "zero-3")  # repeat orders worth 0: scored, at a lower value
        assert left_out["p_alive"] > 0 and 0 <= left_out["clv"] < (await _scores(segmentation, "zero-17"))["clv"]
        listed = (await segmentation.get("/v1/clv/fits", params={"limit": 1}, headers=ANALYST)).json()
        assert [f["id"] for f in listed] == [job["id"]]
        await self._check_distribution_and_top_customers(segmentation)

    @staticmethod
    async def _check_distribution_and_top_customers(segmentation: httpx.AsyncClient) -> None:
        spread = (await segmentation.get("/v1/clv/distribution", headers=ANALYST)).json()
        assert sum(b["count"] for b in spread["clv"]) == spread["customers"] > 0
        assert sum(b["count"] for b in spread["p_alive"]) == spread["customers"]
        top = (await segmentation.get("/v1/clv/customers", params={"limit": 5}, headers=ANALYST)).json()
        values = [c["scores"]["clv"] for c in top]
        assert len(top) == 5 and values == sorted(values, reverse=True)
        assert values[0] >= max(b["high"] for b in spread["clv"]) > 0  # the top is beyond the 99th percentile cap

    async def test_a_fit_without_a_maximum_is_a_409_and_the_previous_model_and_scores_stay(
        self, segmentation: httpx.AsyncClient, replica: dict[str, Orders]
    ) -> None:
        before = await fit_clv(segmentation, {"calibration_end": SHOP_END})
        scores = {pid: await _scores(segmentation, pid) for pid in ("steady-1", "shop-1", "zero-17")}
        failed = await fit_clv(segmentation, {"calibration_end": STEADY_END, "horizon": 10})
        assert failed["status"] == "error" and failed["model_id"] is None and failed["model"] is None
        assert failed["error"]["status"] == 409 and failed["error"]["code"] == "conflict", failed["error"]
        assert "Gamma-Gamma log-likelihood is not finite: it grows without bound as p → ∞" in failed["error"]["message"]
        assert "previous model and scores stay" in failed["error"]["message"]
        assert (await segmentation.get("/v1/clv", headers=ANALYST)).json()["id"] == before["model_id"]
        assert {pid: await _scores(segmentation, pid) for pid in scores} == scores

    async def test_too_few_repeat_customers_with_spend_is_a_422_saying_how_many_were_worth_0(
        self, segmentation: httpx.AsyncClient, replica: dict[str, Orders]
    ) -> None:
        failed = await fit_clv(segmentation, {"calibration_end": ZERO_END})
        assert failed["status"] == "error" and failed["error"]["status"] == 422, failed["error"]
        assert "5 of 20 (at least 10 are needed; 15 have repeat orders worth 0)" in failed["error"]["message"]
        assert failed["error"]["fields"][0]["field"] == "calibration_end"

    async def test_one_fit_at_a_time(self, segmentation: httpx.AsyncClient, replica: dict[str, Orders]) -> None:
        runtime = segmentation._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.sessions() as session:  # queued, as a request on another replica would leave it
            queued = await clv_fits.start_fit(session, ClvOptions(np.datetime64(SHOP_END, "D").item()))
            await session.commit()
        second = await segmentation.post("/v1/clv/fit", json={"calibration_end": SHOP_END}, headers=MARKETER)
        assert second.status_code == 409 and queued.id in second.json()["error"]["message"]
        await run_clv_fit_job(runtime, queued.id)
        await run_clv_fit_job(runtime, queued.id)  # a second runner finds it claimed and does nothing
        done = await wait_for(lambda: clv_settled(segmentation, queued.id))
        assert done["status"] == "ready" and done["trigger"] == "api"
        assert (await segmentation.post("/v1/clv/fit", json={"calibration_end": SHOP_END}, headers=MARKETER)
                ).status_code == 202  # fmt: skip

    async def test_a_scheduled_refit_runs_as_a_job_and_carries_the_schedule_on(
        self, segmentation: httpx.AsyncClient, replica: dict[str, Orders]
    ) -> None:
        first = await fit_clv(segmentation, {"calibration_end": SHOP_END, "rerun_every_hours": 24})
        assert first["model"]["next_run_at"] is not None
        runtime = segmentation._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.sessions() as session:
            (await session.get(ClvModel, first["model_id"])).next_run_at = utcnow() - timedelta(minutes=1)
            await session.commit()
        await run_due(runtime)

        async def refitted() -> dict[str, Any] | None:
            [latest] = (await segmentation.get("/v1/clv/fits", params={"limit": 1}, headers=ANALYST)).json()
            return latest if latest["trigger"] == "schedule" and latest["status"] in ("ready", "error") else None

        refit = await wait_for(refitted)
        assert refit["status"] == "ready" and refit["calibration_end"] == str(utcnow().date()), refit["error"]
        assert refit["rerun_every_hours"] == 24 and refit["model"]["next_run_at"] > str(utcnow() + timedelta(hours=23))
        async with runtime.sessions() as session:
            assert (await session.get(ClvModel, first["model_id"])).next_run_at is None

    async def test_bad_requests(self, segmentation: httpx.AsyncClient) -> None:
        assert (await segmentation.get("/v1/clv/fits/nope", headers=ANALYST)).status_code == 404
        bad = await segmentation.post("/v1/clv/fit", json={"horizon": 0}, headers=MARKETER)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "body.horizon"
        assert (await segmentation.post("/v1/clv/fit", json={}, headers=ANALYST)).status_code == 403


class TestClvValidation:
    async def test_the_holdout_report_is_the_pure_one_on_the_replicas_orders(
        self, segmentation: httpx.AsyncClient, replica: dict[str, Orders]
    ) -> None:
        calibration_end = np.datetime64(SHOP_END, "D") - np.timedelta64(91, "D")
        params = {"calibration_end": str(calibration_end), "holdout_end": SHOP_END}
        answer = await segmentation.get("/v1/clv/validation", params=params, headers=ANALYST)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        rows = [(f"{name}-{c}", day, amount) for name, orders in COHORTS.items()
                for c, daily in orders.daily_revenue().items() for day, amount in daily.items()]  # fmt: skip
        fit, expected = validate(rows, calibration_end.item(), np.datetime64(SHOP_END).item(), "weeks")
        assert report["bgnbd"]["r"] == pytest.approx(fit.r, rel=1e-9) and report["holdout_length"] == 13.0
        assert (report["customers"], report["actual_total"]) == (expected.customers, expected.actual_total)
        assert report["expected_total"] == pytest.approx(expected.expected_total, rel=1e-9)
        assert [(b["purchases"], b["customers"]) for b in report["buckets"]] == [
            (b.purchases, b.customers) for b in expected.buckets
        ]
        assert report["freshness"]["as_of"] is not None

    async def test_a_holdout_that_does_not_follow_the_calibration_is_a_422(
        self, segmentation: httpx.AsyncClient
    ) -> None:
        params = {"calibration_end": "2020-01-01", "holdout_end": "2020-01-01"}
        answer = await segmentation.get("/v1/clv/validation", params=params, headers=ANALYST)
        assert answer.status_code == 422 and answer.json()["error"]["fields"][0]["field"] == "query.holdout_end"


class TestRetention:
    async def test_cohorts_over_the_replicas_orders_and_a_segments_members(
        self, segmentation: httpx.AsyncClient, replica: dict[str, Orders]
    ) -> None:
        rows = [(f"{name}-{c}", date.fromisoformat(day)) for name, orders in COHORTS.items()
                for c, daily in orders.daily_revenue().items() for day in daily]  # fmt: skip
        as_of = date.fromisoformat(SHOP_END)
        answer = await segmentation.get("/v1/retention", params={"as_of": SHOP_END}, headers=ANALYST)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        expected = cohort_matrix(rows, as_of)
        assert [(c["month"], c["customers"]) for c in report["cohorts"]] == [(c.month, c.customers) for c in expected]
        assert report["repeat_purchase_rate"] == pytest.approx(repeat_purchase_rate(rows))
        assert report["freshness"]["as_of"] is not None and report["churn"]["threshold"] == 0.3
        await self._check_one_segment(segmentation, rows, as_of)
        missing = await segmentation.get("/v1/retention", params={"segment_id": "nope"}, headers=ANALYST)
        assert missing.status_code == 404
        bad = await segmentation.get("/v1/retention", params={"churn_threshold": 2}, headers=ANALYST)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "query.churn_threshold"

    @staticmethod
    async def _check_one_segment(segmentation: httpx.AsyncClient, rows: list[tuple[str, date]], as_of: date) -> None:
        definition = {"trait": "cohort", "op": "eq", "value": "shop"}
        created = await segmentation.post("/v1/segments", json={"name": f"shop-{utcnow().timestamp()}",
                                                                "definition": definition}, headers=MARKETER)  # fmt: skip
        shop = [row for row in rows if row[0].startswith("shop-")]
        customers = len({customer for customer, _ in shop})

        async def filled() -> dict[str, Any] | None:
            found = await segmentation.get(f"/v1/segments/{created.json()['id']}", headers=ANALYST)
            return found.json() if found.json().get("size") == customers else None

        await wait_for(filled, timeout=60)
        params = {"segment_id": created.json()["id"], "as_of": as_of.isoformat()}
        report = (await segmentation.get("/v1/retention", params=params, headers=ANALYST)).json()
        assert report["customers"] == customers and report["segment_id"] == created.json()["id"]
        assert [c["retained"] for c in report["cohorts"]] == [c.retained for c in cohort_matrix(shop, as_of)]
