"""Segmentation: event → `segment.entered.v1` latency, a full recompute over 1,000,000 profiles on PostgreSQL, and
k-means on 1,000,000 customers, each beside a same-run reference.

Run: .venv/bin/python -m bench.segments [--runs 3] [--profiles 1000000] [--events 200] [--rate 20]
[--parts latency,recompute,kmeans] [--no-auto] [--quick]. Quick check (`--quick`): --profiles 20000 --events 50
--runs 1.

1. Latency: the broker, tracking, profiles and segmentation (`tessera.stack.Stack`, SQLite in a temp dir) on free
   ports; a segment "orders >= 1" created through the API; after a warm-up of 10 users, N new users each post one
   `Order Completed` to `/v1/track` at a fixed rate (open loop); latency runs from the send's due time to when a
   reader of `tessera.segments.v1` sees that user's profile enter. Profile ids come from `/v1/profiles/lookup`
   afterwards (`profile.upserted.v1` carries no user id). Reference: the POST's own round trip.
2. Recompute: the segmentation schema from its migrations in a fresh PostgreSQL database, `profile_features`
   filled by COPY and analysed; `segments.matching_ids` for a trait/computed tree and a behaviour condition vs a
   hand-written `count(*)` of the same condition on the same table (the results must agree); the same hand SQL
   returning the ids is shown too, since `matching_ids` returns ids.
3. Clustering: `clustering.fit(k=5)` on planted personas vs a plain `KMeans(5, n_init=1).fit` on the same
   standardised matrix; `k="auto"` once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import results as bench_results
from bench.loadgen import Pool
from bench.pg import pg_database, timed
from services.segmentation.clustering.model import fit, prepare
from services.segmentation.segments.rules import parse_definition, window
from services.segmentation.segments.service import matching_ids
from shared.bus import ensure_topics
from shared.db import make_engine, make_session_factory, migrate
from shared.events import ALL_TOPICS, SEGMENTS
from tessera.broker import free_port
from tessera.stack import Stack, StackConfig
from tests.segmentation.personas import generate

Results = dict[str, list[float]]

# ---------------------------------------------------------------- 1. event → segment entered

BUYERS = {"computed": "orders", "op": "gte", "value": 1}


class EnteredWatch:
    """Reads `tessera.segments.v1` from its current end; notes when each profile entered one segment."""

    def __init__(self, bootstrap: str, segment_id: str) -> None:
        # A short fetch wait so the reader itself adds no latency to what it measures.
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10)
        self.segment_id = segment_id
        self.entered: dict[str, float] = {}
        self.task: asyncio.Task[None] | None = None
        self.since = datetime.now(UTC)

    async def start(self) -> None:
        # tansu answers "latest" with the base offset of the last record batch, so seeking to the end may re-read
        # the tail of an earlier run: entries from before this reader started are ignored.
        self.since = datetime.now(UTC)
        await self.consumer.start()
        await self.consumer.topics()  # loads the cluster metadata
        partitions = [TopicPartition(SEGMENTS, p) for p in sorted(self.consumer.partitions_for_topic(SEGMENTS) or {0})]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for partition in partitions:
            await self.consumer.position(partition)  # resolved now, before the first send
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    value = orjson.loads(record.value)
                    if (value.get("type") == "segment.entered.v1" and value.get("segment_id") == self.segment_id
                            and datetime.fromisoformat(value["occurred_at"]) >= self.since):  # fmt: skip
                        self.entered.setdefault(value["profile_id"], now)

    async def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.entered) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()


def start_stack(data_dir: Path) -> Stack:
    """Broker, tracking, profiles and segmentation on free ports (called on the main thread: the children are
    tied to the thread that forks them)."""
    os.environ.setdefault("TESSERA_LOG_LEVEL", "WARNING")
    names = ["tracking", "profiles", "segmentation"]
    stack = Stack(StackConfig(data_dir=data_dir, broker_port=free_port(), ports={n: free_port() for n in names}))
    try:
        stack.start(names)
    except BaseException:
        stack.stop()
        raise
    return stack


async def create_segment(client: httpx.AsyncClient, url: str, definition: dict[str, Any]) -> str:
    """A segment created through the API, once its backfill made it `ready`."""
    created = await client.post(f"{url}/v1/segments", json={"name": "Buyers", "definition": definition})
    created.raise_for_status()
    segment_id: str = created.json()["id"]
    for _ in range(600):
        status = (await client.get(f"{url}/v1/segments/{segment_id}")).json()["status"]
        if status == "ready":
            return segment_id
        if status == "error":
            raise RuntimeError(f"segment {segment_id} failed to build")
        await asyncio.sleep(0.05)
    raise TimeoutError("the segment did not become ready")


async def send_orders(stack: Stack, users: list[str], rate: float) -> tuple[dict[str, float], list[float]]:
    """One `Order Completed` per user at `rate`/s; the due time of each send and each POST's round trip (ms)."""
    pool = Pool(stack.config.url("tracking"), 32)
    basic = base64.b64encode(f"{stack.keys['write_key']}:".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {basic}"}
    due: dict[str, float] = {}
    round_trips: list[float] = []

    async def one(user: str, raw: bytes) -> None:
        status, ms = await pool.send(raw)
        assert status == 200, status
        round_trips.append(ms)

    requests = [(u, pool.prepare("/v1/track", orjson.dumps(order(u)), headers)) for u in users]
    tasks, start = [], time.perf_counter()
    for i, (user, raw) in enumerate(requests):
        due[user] = start + i / rate
        await asyncio.sleep(max(0.0, due[user] - time.perf_counter()))
        tasks.append(asyncio.create_task(one(user, raw)))
    await asyncio.gather(*tasks)
    await pool.close()
    return due, round_trips


def order(user: str) -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": "Order Completed", "messageId": uuid.uuid4().hex,
            "properties": {"order_id": f"o-{user}", "revenue": 42.5, "currency": "EUR"},
            "context": {"page": {"url": "https://shop.example/checkout/done"}}}  # fmt: skip


async def profile_ids(client: httpx.AsyncClient, url: str, users: list[str]) -> dict[str, str]:
    """user id → profile id, looked up after the fact (the sender cannot know profile ids)."""
    found: dict[str, str] = {}
    for user in users:
        response = await client.get(f"{url}/v1/profiles/lookup", params={"user_id": user})
        if response.status_code == 200:
            found[user] = response.json()["id"]
    return found


async def latency_run(stack: Stack, client: httpx.AsyncClient, segment_id: str, users: list[str], rate: float
                      ) -> tuple[list[float], list[float]]:  # fmt: skip
    """Event → entered latencies (ms; a user who never entered counts as infinite) and POST round trips (ms)."""
    watch = EnteredWatch(f"{stack.config.host}:{stack.config.broker_port}", segment_id)
    await watch.start()
    try:
        due, round_trips = await send_orders(stack, users, rate)
        await watch.wait_for(len(users), timeout=60)
    finally:
        await watch.stop()
    profiles = await profile_ids(client, stack.config.url("profiles"), users)
    entered = {u: watch.entered.get(profiles.get(u, ""), math.inf) for u in users}
    return [(entered[u] - due[u]) * 1000 for u in users], round_trips


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (works with infinite values: a missing event)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def latency_bench(args: argparse.Namespace) -> Results:
    """The stack started here, on the main thread and outside any event loop (`Stack.start` may run one of its own),
    then the runs in an event loop of their own; the stack stopped whatever happens."""
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        stack = start_stack(Path(tmp))
        try:
            return asyncio.run(latency_runs(stack, args))
        finally:
            stack.stop()


async def latency_runs(stack: Stack, args: argparse.Namespace) -> Results:
    results: Results = {}
    await ensure_topics(f"{stack.config.host}:{stack.config.broker_port}", ALL_TOPICS)
    headers = {"Authorization": f"Bearer {stack.keys['admin_api_key']}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        segment_id = await create_segment(client, stack.config.url("segmentation"), BUYERS)
        tag = uuid.uuid4().hex[:6]  # warm-up: connections, caches, the consumers' first fetches
        await latency_run(stack, client, segment_id, [f"warm-{tag}-{i}" for i in range(10)], args.rate)
        for run in range(args.runs):
            users = [f"buyer-{tag}-{run}-{i}" for i in range(args.events)]
            lat, rtt = await latency_run(stack, client, segment_id, users, args.rate)
            row = {"p50": percentile(lat, 50), "p95": percentile(lat, 95), "rtt50": percentile(rtt, 50),
                   "rtt95": percentile(rtt, 95), "missing": sum(1 for x in lat if math.isinf(x))}  # fmt: skip
            for key, value in row.items():
                results.setdefault(key, []).append(value)
            print(f"  latency run {run + 1}: event -> entered p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms;"
                  f" POST p50 {row['rtt50']:.1f} ms, p95 {row['rtt95']:.1f} ms; never entered {row['missing']}",
                  flush=True)  # fmt: skip
    return results


# ---------------------------------------------------------------- 2. full recompute on PostgreSQL

CITIES = ("Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Bordeaux", "Lille", "Rennes")
PLANS = ("free", "basic", "pro", "enterprise")
TREE = {"and": [{"trait": "plan", "op": "eq", "value": "pro"}, {"computed": "orders", "op": "gte", "value": 3},
                {"or": [{"trait": "city", "op": "in", "value": ["Paris", "Lyon"]},
                        {"trait": "age", "op": "lt", "value": 30}]}]}  # fmt: skip
# What a competent engineer would write by hand for the same conditions (the counts must agree).
TREE_WHERE = """traits->>'plan' = 'pro' AND (computed->>'orders')::float >= 3
  AND (traits->>'city' IN ('Paris', 'Lyon') OR (traits->>'age')::float < 30)"""
BEHAVIOUR = {"event": "Order Completed", "at_least": 2, "within_days": 30}
BEHAVIOUR_WHERE = """(SELECT sum(n::float) FROM jsonb_each_text(computed->'daily_counts'->'Order Completed') AS d(day, n)
       WHERE day > :low AND day <= :high) >= 2"""
CASES = {"tree": (TREE, TREE_WHERE, 0), "behaviour": (BEHAVIOUR, BEHAVIOUR_WHERE, 30)}


def feature_rows(count: int, today: date, rng: random.Random) -> list[tuple[str, str, str, datetime]]:
    """`profile_features` rows as profiles' `profile.upserted.v1` fills them (JSON text for COPY)."""
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        first_seen = rng.randint(0, 900)  # days ago
        last_seen = rng.randint(0, first_seen)
        traits: dict[str, Any] = {
            "email": f"c{i}-{rng.getrandbits(24):x}@example.com", "city": rng.choice(CITIES),
            "plan": rng.choices(PLANS, (55, 25, 15, 5))[0], "signup_source": rng.choice(("ads", "seo", "referral")),
        }  # fmt: skip
        if rng.random() < 0.9:
            traits["age"] = rng.randint(18, 75)
        computed = computed_traits(now, today, first_seen, last_seen, rng)
        rows.append((rng.getrandbits(128).to_bytes(16).hex(), orjson.dumps(traits).decode(),
                     orjson.dumps(computed).decode(), now - timedelta(days=last_seen)))  # fmt: skip
    return rows


def computed_traits(now: datetime, today: date, first_seen: int, last_seen: int, rng: random.Random) -> dict[str, Any]:
    """Counters, orders and revenue; for a profile active in the last 90 days (about one in five), `daily_counts`
    {event: {day: n}} as profiles publishes it."""
    orders = int(rng.expovariate(0.35)) if rng.random() < 0.45 else 0
    revenue = round(sum(rng.uniform(8, 150) for _ in range(orders)), 2)
    sessions = orders + rng.randint(1, 30)
    computed: dict[str, Any] = {
        "event_count": sessions * 6 + orders, "page_views": sessions * 4, "sessions": sessions,
        "session_seconds": sessions * 240.0, "bounces": sessions // 3, "orders": orders, "revenue": revenue,
        "distinct_order_days": orders, "avg_session_seconds": 240.0, "bounce_rate": 0.33,
        "average_order_value": round(revenue / orders, 6) if orders else 0.0, "average_rating": None,
        "social_interactions": 0, "first_seen_at": (now - timedelta(days=first_seen)).isoformat(),
        "last_seen_at": (now - timedelta(days=last_seen)).isoformat(),
    }  # fmt: skip
    if orders:
        days = sorted({(today - timedelta(days=rng.randint(last_seen, first_seen))).isoformat()
                       for _ in range(min(orders, 12))})  # fmt: skip
        computed |= {"first_order_at": f"{days[0]}T10:00:00+00:00", "last_order_at": f"{days[-1]}T10:00:00+00:00",
                     "daily_revenue": {d: round(revenue / len(days), 2) for d in days}}  # fmt: skip
    active = last_seen < 90 and rng.random() < 0.6
    computed["daily_counts"] = daily_counts(today, last_seen, orders, rng) if active else {}
    return computed


def daily_counts(today: date, last_seen: int, orders: int, rng: random.Random) -> dict[str, dict[str, int]]:
    """Events per day in the last 90 days of an active profile: visits of page and product views, some orders."""
    counts: dict[str, dict[str, int]] = {}
    for _ in range(rng.randint(1, 8)):
        day = (today - timedelta(days=rng.randint(last_seen, 89))).isoformat()
        for name, n in (("page", rng.randint(1, 12)), ("Product Viewed", rng.randint(0, 6)),
                        ("Product Added", rng.randint(0, 2) * (rng.random() < 0.4))):  # fmt: skip
            if n:
                counts.setdefault(name, {})[day] = counts.get(name, {}).get(day, 0) + n
        if orders and rng.random() < 0.35:
            counts.setdefault("Order Completed", {})[day] = counts.get("Order Completed", {}).get(day, 0) + 1
    return counts


async def load_features(dsn: str, n: int, today: date) -> None:
    """COPY n rows in chunks, then VACUUM (FREEZE, ANALYZE): a settled table, hint bits set, statistics fresh."""
    rng = random.Random(17)
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, n, 50_000):
            rows = feature_rows(min(50_000, n - start), today, rng)
            await conn.copy_records_to_table("profile_features", records=rows,
                                             columns=["profile_id", "traits", "computed", "updated_at"])  # fmt: skip
        await conn.execute("VACUUM (FREEZE, ANALYZE) profile_features")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('profile_features'))")
        print(f"  loaded {n:,} profiles ({size})", flush=True)
    finally:
        await conn.close()


async def recompute_case(sessions: async_sessionmaker[AsyncSession], case: str, today: date) -> dict[str, float]:
    """Seconds of `matching_ids` and of the hand-written SQL, as a count and as the list of ids."""
    definition, where, days = CASES[case]
    low, high = window(today, days) if days else ("", "")
    params = {"low": low, "high": high}
    async with sessions() as session:
        service, ids = await timed(lambda: matching_ids(session, parse_definition(definition), today))
        count_sql, count = await timed(
            lambda: session.scalar(text(f"SELECT count(*) FROM profile_features WHERE {where}"), params)
        )
        ids_sql, rows = await timed(
            lambda: session.scalars(text(f"SELECT profile_id FROM profile_features WHERE {where}"), params)
        )
    assert len(ids) == count == len(rows.all()), f"{case}: matching_ids found {len(ids)}, the hand-written SQL {count}"
    return {"service": service, "sql": count_sql, "sql_ids": ids_sql, "matched": count}


async def recompute_bench(args: argparse.Namespace) -> Results:
    results: Results = {}
    async with pg_database("segments") as url:
        engine = make_engine(url)
        try:
            await migrate(engine, "segmentation")
            today = datetime.now(UTC).date()
            started = time.perf_counter()
            await load_features(url.replace("postgresql+asyncpg://", "postgresql://"), args.profiles, today)
            print(f"  load + VACUUM ANALYZE: {time.perf_counter() - started:.0f} s", flush=True)
            sessions = make_session_factory(engine)
            for case in CASES:  # warm-up: connections, the table in the OS cache, JIT
                await recompute_case(sessions, case, today)
            for run in range(args.runs):
                for case in CASES:
                    t = await recompute_case(sessions, case, today)
                    for key, value in t.items():
                        results.setdefault(f"{case}_{key}", []).append(value)
                    print(f"  recompute run {run + 1} {case:<9}: matching_ids {t['service']:.2f} s, hand SQL count "
                          f"{t['sql']:.2f} s = {t['service'] / t['sql']:.2f}x (hand SQL returning the ids "
                          f"{t['sql_ids']:.2f} s); {t['matched']:,.0f} match", flush=True)  # fmt: skip
        finally:
            await engine.dispose()
    return results


# ---------------------------------------------------------------- 3. k-means


def kmeans_bench(args: argparse.Namespace) -> Results:
    matrix, names, personas = generate(args.profiles, seed=11)
    standardised = prepare(matrix, names).data
    results: Results = {"fit": [], "plain": [], "ari": []}
    for run in range(args.runs):
        started = time.perf_counter()
        result = fit(matrix, names, method="kmeans", k=5)
        results["fit"].append(time.perf_counter() - started)
        started = time.perf_counter()
        KMeans(5, n_init=1, random_state=run).fit(standardised)
        results["plain"].append(time.perf_counter() - started)
        results["ari"].append(adjusted_rand_score(personas, result.labels))
        print(f"  k-means run {run + 1}: fit(k=5) {results['fit'][-1]:.1f} s (ARI vs personas "
              f"{results['ari'][-1]:.3f}), plain KMeans {results['plain'][-1]:.1f} s", flush=True)  # fmt: skip
    if args.auto:
        started = time.perf_counter()
        result = fit(matrix, names, method="kmeans", k="auto")
        results["auto"] = [time.perf_counter() - started]
        results["auto_k"] = [result.k]
        print(f"  k-means auto: k={result.k} in {results['auto'][-1]:.1f} s", flush=True)
    return results


# ---------------------------------------------------------------- report


def _runs(values: list[float], digits: int = 0) -> str:
    return "/".join(f"{x:.{digits}f}" if math.isfinite(x) else "never" for x in values)


def report_latency(r: Results) -> None:
    m = {k: statistics.median(v) for k, v in r.items()}
    print(f"(1) event -> segment.entered.v1: p50 {m['p50']:.0f} ms, p95 {m['p95']:.0f} ms (target p95 <= 1000 ms)"
          f"   runs p50 {_runs(r['p50'])}, p95 {_runs(r['p95'])}; never entered {_runs(r['missing'])}")  # fmt: skip
    print(f"    reference, POST /v1/track round trip: p50 {m['rtt50']:.1f} ms, p95 {m['rtt95']:.1f} ms"
          f"   runs p50 {_runs(r['rtt50'], 1)}, p95 {_runs(r['rtt95'], 1)}")  # fmt: skip


def report_recompute(r: Results, profiles: int) -> None:
    for case in CASES:
        service, sql, ids = (statistics.median(r[f"{case}_{k}"]) for k in ("service", "sql", "sql_ids"))
        print(f"(2) recompute {case:<9} over {profiles:,} on PostgreSQL: matching_ids {service:.2f} s vs hand SQL "
              f"count {sql:.2f} s = {service / sql:.2f}x (targets <= 10 s, <= 2x); hand SQL returning the ids "
              f"{ids:.2f} s   runs {_runs(r[f'{case}_service'], 2)} vs {_runs(r[f'{case}_sql'], 2)}")  # fmt: skip


def report_kmeans(r: Results, profiles: int) -> None:
    m = {k: statistics.median(v) for k, v in r.items()}
    print(f"(3) k-means k=5 on {profiles:,} x 10: fit {m['fit']:.1f} s (target <= 30 s) vs plain KMeans(5, n_init=1) "
          f"{m['plain']:.1f} s = {m['fit'] / m['plain']:.1f}x; ARI vs personas {m['ari']:.3f}   runs "
          f"{_runs(r['fit'], 1)} vs {_runs(r['plain'], 1)}")  # fmt: skip
    if "auto" in m:
        print(f"    k='auto' (once): k={m['auto_k']:.0f} in {m['auto']:.1f} s")


def record_all(results: dict[str, Results], args: argparse.Namespace) -> None:
    """The figures as JSON lines for `bench/report.py` (when `TESSERA_BENCH_RESULTS` is set)."""
    record, params = bench_results.record, {"runs": args.runs}
    if "latency" in results:
        r = results["latency"]
        common: dict[str, Any] = {"quick": args.quick, "params": params | {
            "new users per run": args.events, "rate/s": args.rate, "never entered": r["missing"]}}  # fmt: skip
        record("segments", "(1) event -> segment.entered.v1, p50", r["p50"], "ms",
               reference=("POST /v1/track round trip, p50", r["rtt50"]), **common)  # fmt: skip
        p95 = statistics.median(r["p95"])
        record("segments", "(1) event -> segment.entered.v1, p95", r["p95"], "ms",
               reference=("POST /v1/track round trip, p95", r["rtt95"]), target="p95 <= 1000 ms",
               met=p95 <= 1000 and not any(r["missing"]), **common)  # fmt: skip
    if "recompute" in results:
        r = results["recompute"]
        for case in CASES:
            service, sql = statistics.median(r[f"{case}_service"]), statistics.median(r[f"{case}_sql"])
            record("segments", f"(2) recompute, {case}, {args.profiles:,} profiles on PostgreSQL",
                   r[f"{case}_service"], "s", reference=("hand-written SQL count", r[f"{case}_sql"]),
                   target="<= 10 s and <= 2x", met=service <= 10 and service / sql <= 2, quick=args.quick,
                   params=params | {"profiles": args.profiles, f"matched ({case})": r[f"{case}_matched"][0]})  # fmt: skip
    if "kmeans" in results:
        r = results["kmeans"]
        kparams = params | {"profiles": args.profiles, "features": 10, "ARI vs personas": r["ari"]}
        record("segments", f"(3) clustering.fit k-means k=5, {args.profiles:,} x 10", r["fit"], "s",
               reference=("plain KMeans(5, n_init=1)", r["plain"]), target="<= 30 s",
               met=statistics.median(r["fit"]) <= 30, quick=args.quick, params=kparams)  # fmt: skip
        if "auto" in r:
            record("segments", f"(3) clustering.fit k='auto', {args.profiles:,} x 10 (once)", r["auto"], "s",
                   quick=args.quick, params=kparams | {"k found": r["auto_k"][0]})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profiles", type=int, default=1_000_000, help="rows for the recompute and k-means")
    parser.add_argument("--events", type=int, default=200, help="new users, one order each, per latency run")
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second (open loop)")
    parser.add_argument("--parts", default="latency,recompute,kmeans")
    parser.add_argument("--auto", action=argparse.BooleanOptionalAction, default=True, help="also k='auto' once")
    bench_results.add_quick(parser, "--profiles 20000 --events 50 --runs 1")
    args = parser.parse_args()
    if args.quick:
        args.profiles, args.events, args.runs = 20_000, 50, 1
    parts = args.parts.split(",")
    results: dict[str, Results] = {}
    if "latency" in parts:
        print("(1) event -> segment entered", flush=True)
        results["latency"] = latency_bench(args)
    if "recompute" in parts:
        print("(2) full recompute on PostgreSQL", flush=True)
        results["recompute"] = asyncio.run(recompute_bench(args))
    if "kmeans" in parts:  # CPU-bound, outside the event loop: Ctrl-C stops it at once
        print("(3) k-means", flush=True)
        results["kmeans"] = kmeans_bench(args)
    print(f"\nruns={args.runs} profiles={args.profiles:,} events={args.events} rate={args.rate:g}/s "
          f"cpus={os.cpu_count()}")  # fmt: skip
    if "latency" in results:
        report_latency(results["latency"])
    if "recompute" in results:
        report_recompute(results["recompute"], args.profiles)
    if "kmeans" in results:
        report_kmeans(results["kmeans"], args.profiles)
    record_all(results, args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything started has been stopped and dropped on the way out
        raise SystemExit(130) from None
