"""CLV: BG/NBD + Gamma-Gamma fitted on 23,570 customers drawn from the models themselves, against a plain scipy
maximum-likelihood fit of the same summary data written here, and the whole fit job through the service's API.

Run: .venv/bin/python -m bench.clv [--runs 3] [--customers 23570] [--parts fit,job] [--backends sqlite,postgresql]
[--quick]. Quick check (`--quick`): --customers 2357 --runs 1.

The customers: `tests.segmentation.clv_data.generate` (CDNOW's published parameters: r 0.243, alpha 4.414, a 0.793,
b 2.426, spend p 6.25, q 3.74, gamma 15.44; first orders over 12 weeks, calibration end at 39 weeks; 2% of orders
worth 0), summarised by `clv.summarise_transactions` in weeks.
(a) Reference: the two log-likelihoods written plainly (gammaln, betaln, numpy), each minimised by
    `scipy.optimize.minimize(method="L-BFGS-B")` with finite-difference gradients, from 1 for every parameter in log
    space, customers whose repeat orders are worth 0 left out of Gamma-Gamma. (Plain BFGS, scipy's default, fails
    on this Gamma-Gamma: it stops at p 5.3, q 0.74, far below the maximum.)
(b) `clv.fit_bgnbd` + `clv.fit_gamma_gamma` on the same summary arrays; the parameters must agree with (a).
(c) The job through the API: the broker and segmentation as real processes (`tessera.stack`), the replica filled
    with those customers' `profile_features` rows (as the consumer writes them) on a SQLite file or a fresh
    PostgreSQL database; timed from just before `POST /v1/clv/fit` (202) to the fit's `finished_at` (polled at
    `GET /v1/clv/fits/{id}`): reading the orders, fitting, scoring and writing every customer's scores, recomputing
    segments, committing.
Each part runs --runs times (after one warm-up run of (c)); medians, with (b) / (a) and (c) / (a). Target: (b) <= 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from bench import results as bench_results
from bench.pg import create_database, drop_database
from services.segmentation.clv import model as clv
from services.segmentation.replica.models import ProfileFeatures
from shared.db import insert_many, make_engine, make_session_factory, utcnow
from tessera.broker import free_port
from tessera.stack import Stack, StackConfig
from tests.segmentation.clv_data import Orders, generate

Results = dict[str, list[float]]
ZERO_SHARE = 0.02

# ---------------------------------------------------------------- (a) the plain reference


def plain_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """BG/NBD by maximum likelihood as one would write it by hand (Fader, Hardie & Lee 2005, eq. 6)."""

    def negative(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
        return -float(np.sum(a1 + np.logaddexp(a3, a4)))

    result = minimize(negative, np.zeros(4), method="L-BFGS-B")
    assert result.success, result.message
    return np.exp(result.x)


def plain_gamma_gamma(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Gamma-Gamma by maximum likelihood as one would write it by hand (Fader & Hardie 2013), positive spend only."""
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]

    def negative(log_params: np.ndarray) -> float:
        p, q, g = np.exp(log_params)
        return -float(np.sum(gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
                             + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + m * x)))  # fmt: skip

    result = minimize(negative, np.zeros(3), method="L-BFGS-B")
    assert result.success, result.message
    return np.exp(result.x)


# ---------------------------------------------------------------- (a) and (b)


def fit_bench(summary: clv.CustomerSummary, args: argparse.Namespace) -> Results:
    """(a) and (b) alternately on the same summary; their parameters compared."""
    s, results = summary, {"plain": [], "ours": []}
    for run in range(args.runs):
        started = time.perf_counter()
        reference = np.concatenate([plain_bgnbd(s.x, s.t_x, s.T), plain_gamma_gamma(s.x, s.monetary)])
        results["plain"].append(time.perf_counter() - started)
        started = time.perf_counter()
        bgnbd, gamma_gamma = clv.fit_bgnbd(s.x, s.t_x, s.T), clv.fit_gamma_gamma(s.x, s.monetary)
        results["ours"].append(time.perf_counter() - started)
        ours = np.array([bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b, gamma_gamma.p, gamma_gamma.q, gamma_gamma.gamma])
        gap = float(np.max(np.abs(ours / reference - 1)))
        assert gap < 1e-3, f"the fits disagree: ours {ours}, plain {reference}"
        results.setdefault("gap", []).append(gap)
        print(f"  fit run {run + 1}: plain scipy {results['plain'][-1]:.3f} s, clv.py {results['ours'][-1]:.3f} s "
              f"(largest parameter difference {gap:.1e})", flush=True)  # fmt: skip
    print(f"  clv.py: r {bgnbd.r:.4f}, alpha {bgnbd.alpha:.3f}, a {bgnbd.a:.4f}, b {bgnbd.b:.3f}; p {gamma_gamma.p:.3f}, "
          f"q {gamma_gamma.q:.3f}, gamma {gamma_gamma.gamma:.3f}; Gamma-Gamma on {gamma_gamma.customers} repeat "
          f"customers, {gamma_gamma.excluded} left out (repeat orders worth 0)", flush=True)  # fmt: skip
    return results


# ---------------------------------------------------------------- (c) the job through the API


def feature_rows(orders: Orders) -> list[dict[str, Any]]:
    """`profile_features` rows as the consumer writes them from profiles' messages."""
    now = utcnow()
    return [{"profile_id": f"c{customer:06d}", "traits": {}, "consent": {}, "scores": {}, "updated_at": now,
             "computed": {"orders": len(daily), "revenue": round(sum(daily.values()), 2), "daily_revenue": daily,
                          "last_order_at": f"{max(daily)}T00:00:00+00:00"}}
            for customer, daily in orders.daily_revenue().items()]  # fmt: skip


async def fill_replica(url: str, rows: list[dict[str, Any]]) -> None:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            for start in range(0, len(rows), 5000):
                await insert_many(session, ProfileFeatures.__table__, rows[start : start + 5000])
            await session.commit()
    finally:
        await engine.dispose()


async def one_job(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Seconds from the POST to the fit's `finished_at` (same machine, same clock), and the fit. Polled every 100 ms:
    answering polls takes the service's CPU, so the finish time comes from the fit, not from when a poll saw it."""
    started = datetime.now(UTC)
    response = await client.post(f"{url}/v1/clv/fit", json=body)
    assert response.status_code == 202, response.text
    while True:
        fit = (await client.get(f"{url}/v1/clv/fits/{response.json()['id']}")).json()
        if fit["status"] in ("ready", "error"):
            assert fit["status"] == "ready", fit["error"]
            return (datetime.fromisoformat(fit["finished_at"]) - started).total_seconds(), fit
        await asyncio.sleep(0.1)


async def job_runs(stack: Stack, database: str, orders: Orders, args: argparse.Namespace) -> list[float]:
    await fill_replica(database, feature_rows(orders))
    url, body = stack.config.url("segmentation"), {"calibration_end": str(orders.calibration_end)}
    runs: list[float] = []
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {stack.keys['admin_api_key']}"}, timeout=120) as c:
        await one_job(c, url, body)  # warm-up: imports, connections, the first scores written
        for run in range(args.runs):
            elapsed, fit = await one_job(c, url, body)
            runs.append(elapsed)
            print(f"  job run {run + 1}: {elapsed:.2f} s for {fit['model']['customers']:,} customers "
                  f"(started to finished inside the service {_seconds(fit):.2f} s)", flush=True)  # fmt: skip
    return runs


def _seconds(fit: dict[str, Any]) -> float:
    return (datetime.fromisoformat(fit["finished_at"]) - datetime.fromisoformat(fit["started_at"])).total_seconds()


def job_bench(backend: str, orders: Orders, args: argparse.Namespace) -> list[float]:
    """The broker and segmentation started here, on the main thread outside any event loop (as `bench.segments`),
    on a fresh database; everything stopped and dropped whatever happens."""
    os.environ.setdefault("TESSERA_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        database = asyncio.run(create_database("clv")) if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp}/s.db"
        os.environ["TESSERA_SEGMENTATION_DATABASE_URL"] = database
        stack = Stack(StackConfig(data_dir=Path(tmp), broker_port=free_port(), ports={"segmentation": free_port()}))
        try:
            stack.start(["segmentation"])
            return asyncio.run(job_runs(stack, database, orders, args))
        finally:
            stack.stop()
            del os.environ["TESSERA_SEGMENTATION_DATABASE_URL"]
            if backend == "postgresql":
                asyncio.run(drop_database(database))


# ---------------------------------------------------------------- report


def _runs(values: list[float]) -> str:
    return "/".join(f"{x:.3f}" for x in values)


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    plain = statistics.median(results["fit"]["plain"])
    ours = statistics.median(results["fit"]["ours"])
    print(f"(a) plain scipy L-BFGS-B MLE, BG/NBD + Gamma-Gamma, {args.customers:,} customers: {plain:.3f} s"
          f"   runs {_runs(results['fit']['plain'])}")  # fmt: skip
    print(f"(b) clv.py fit on the same summary: {ours:.3f} s = {ours / plain:.2f}x (a) (target <= 2x)"
          f"   runs {_runs(results['fit']['ours'])}")  # fmt: skip
    for backend in args.backends:
        if backend in results:
            job = statistics.median(results[backend])
            print(f"(c) fit job through the API on {backend}: {job:.2f} s = {job / plain:.2f}x (a)"
                  f"   runs {_runs(results[backend])}")  # fmt: skip


def record_all(results: dict[str, Any], args: argparse.Namespace) -> None:
    """The figures as JSON lines for `bench/report.py` (when `TESSERA_BENCH_RESULTS` is set)."""
    fit, params = results["fit"], {"runs": args.runs, "customers": args.customers, "orders worth 0": ZERO_SHARE}
    reference = ("plain scipy L-BFGS-B MLE of the same summary", fit["plain"])
    ratio = statistics.median(fit["ours"]) / statistics.median(fit["plain"])
    bench_results.record("clv", f"(b) clv.py BG/NBD + Gamma-Gamma fit, {args.customers:,} customers", fit["ours"],
                         "s", reference=reference, target="<= 2x reference", met=ratio <= 2, quick=args.quick,
                         params=params | {"largest parameter difference": max(fit["gap"])})  # fmt: skip
    for backend in args.backends:
        if backend in results:
            bench_results.record("clv", f"(c) fit job through the API on {backend}, {args.customers:,} customers",
                                 results[backend], "s", reference=reference, quick=args.quick, params=params)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=23_570, help="customers drawn from the models")
    parser.add_argument("--parts", default="fit,job")
    parser.add_argument("--backends", default="sqlite,postgresql")
    bench_results.add_quick(parser, "--customers 2357 --runs 1")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.runs = 2357, 1
    args.backends = args.backends.split(",")
    orders = generate(args.customers, seed=1, zero_share=ZERO_SHARE)
    started = time.perf_counter()
    summary = clv.summarise_transactions(orders.customer, orders.day, orders.amount, orders.calibration_end, "weeks")
    print(f"{args.customers:,} customers, {orders.customer.size:,} orders, {int((summary.x > 0).sum()):,} repeat "
          f"customers; summarised in {time.perf_counter() - started:.3f} s", flush=True)  # fmt: skip
    results: dict[str, Any] = {"fit": fit_bench(summary, args)}  # (a) and (b) always: every ratio needs (a)
    if "job" in args.parts.split(","):
        for backend in args.backends:
            print(f"(c) the fit job through the API on {backend}", flush=True)
            results[backend] = job_bench(backend, orders, args)
    print(f"\nruns={args.runs} customers={args.customers:,} cpus={os.cpu_count()}")
    report(results, args)
    record_all(results, args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything started has been stopped and dropped on the way out
        raise SystemExit(130) from None
