"""Journeys: an ordered 4-step funnel over 1,000,000 timeline events on PostgreSQL, beside a same-run reference.

Run: .venv/bin/python -m bench.journeys [--events 1000000] [--profiles 100000] [--runs 3] [--quick].
Quick check (`--quick`): --events 50000 --profiles 5000 --runs 1.

The profiles schema from its migrations in a fresh PostgreSQL database; the timeline filled by COPY with visit-shaped
traffic over 90 days (landing pages with UTM campaigns, product views, carts, checkouts, orders, email opens and
clicks, social posts, ad clicks), a few segments' members and the profiles; then ANALYZE. Timed: `journeys.funnel`
for page "/" → Product Viewed → Product Added → Order Completed within 72 h, against (a) a hand-written SQL of the
same funnel that joins the timeline step by step (the counts must agree) and (b) a `count(*)` of the table. Also
timed once: `conversion_paths` for Order Completed and the social-engagement report. The database is dropped at
the end, also on Ctrl-C. Target: the funnel in <= 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.pg import pg_database, timed
from bench.results import add_quick, record
from services.profiles.journeys.service import Step, conversion_paths, funnel, social_engagement
from shared.db import make_engine, make_session_factory, migrate

DAYS = 90
WINDOW = timedelta(hours=72)
STEPS = [Step(page="/"), Step(event="Product Viewed"), Step(event="Product Added"), Step(event="Order Completed")]
# What a competent engineer would write by hand for the same funnel: each step joined to the timeline in turn.
HAND_SQL = """
WITH s1 AS (SELECT profile_id, min(occurred_at) AS t0, min(occurred_at) AS t FROM timeline_events
            WHERE type = 'page' AND (properties->>'path' = '/' OR context#>>'{page,path}' = '/')
              AND occurred_at >= $1 AND occurred_at < $2 GROUP BY profile_id),
s2 AS (SELECT s.profile_id, s.t0, min(e.occurred_at) AS t FROM s1 s JOIN timeline_events e ON e.profile_id = s.profile_id
       WHERE e.name = 'Product Viewed' AND e.occurred_at > s.t AND e.occurred_at <= s.t0 + interval '72 hours'
       GROUP BY s.profile_id, s.t0),
s3 AS (SELECT s.profile_id, s.t0, min(e.occurred_at) AS t FROM s2 s JOIN timeline_events e ON e.profile_id = s.profile_id
       WHERE e.name = 'Product Added' AND e.occurred_at > s.t AND e.occurred_at <= s.t0 + interval '72 hours'
       GROUP BY s.profile_id, s.t0),
s4 AS (SELECT s.profile_id, s.t0, min(e.occurred_at) AS t FROM s3 s JOIN timeline_events e ON e.profile_id = s.profile_id
       WHERE e.name = 'Order Completed' AND e.occurred_at > s.t AND e.occurred_at <= s.t0 + interval '72 hours'
       GROUP BY s.profile_id, s.t0)
SELECT (SELECT count(*) FROM s1), (SELECT count(*) FROM s2), (SELECT count(*) FROM s3), (SELECT count(*) FROM s4)
"""
CHANNELS = {  # landing channel → (weight, context.campaign)
    "direct": (30, None), "organic": (25, {"source": "google", "medium": "organic"}),
    "cpc": (15, {"source": "google", "medium": "cpc", "name": "brand"}),
    "social": (12, {"source": "instagram", "medium": "social", "name": "spring"}),
    "email": (10, {"source": "newsletter", "medium": "email", "name": "weekly"}),
    "influencer": (8, {"source": "influencer", "medium": "social", "name": "anna"}),
}  # fmt: skip
TIMELINE_COLUMNS = ["message_id", "profile_id", "home_profile_id", "type", "name", "occurred_at", "session_id",
                    "properties", "context"]  # fmt: skip

# ---------------------------------------------------------------- data


class Visit:
    """Builds one visit's timeline rows, a few seconds to minutes apart."""

    def __init__(self, profile: str, at: datetime, rng: random.Random) -> None:
        self.profile, self.at, self.rng, self.rows = profile, at, rng, list[tuple[Any, ...]]()
        self.session = uuid.UUID(int=rng.getrandbits(128)).hex

    def add(self, type_: str, name: str, properties: dict[str, Any], context: dict[str, Any] | None = None) -> None:
        self.at += timedelta(seconds=self.rng.randint(5, 300), microseconds=self.rng.randint(0, 999_999))
        self.rows.append((uuid.UUID(int=self.rng.getrandbits(128)).hex, self.profile, self.profile, type_, name,
                          self.at, self.session, orjson.dumps(properties).decode(),
                          orjson.dumps(context or {}).decode()))  # fmt: skip

    def page(self, path: str, campaign: dict[str, Any] | None = None) -> None:
        context: dict[str, Any] = {"page": {"path": path, "url": f"https://shop.example{path}"}}
        if campaign:
            context["campaign"] = campaign
        self.add("page", "page", {"path": path}, context)


def visit(profile: str, at: datetime, rng: random.Random) -> list[tuple[Any, ...]]:
    """A visit: maybe a touch before it (email, post, ad), a landing page, product views, cart, checkout, order."""
    v = Visit(profile, at, rng)
    channel = rng.choices(list(CHANNELS), [w for w, _ in CHANNELS.values()])[0]
    if channel == "email":
        v.add("track", "Email Opened", {"campaign_id": "c1"}, {"channel": "email"})
    elif channel == "social":
        v.add("track", rng.choice(("Post Viewed", "Post Liked", "Comment Posted", "Post Shared")), {"post_id": "p1"})
    elif channel == "cpc" and rng.random() < 0.5:
        v.add("track", "Ad Clicked", {"platform": "google", "ad_id": "a1"})
    v.page("/" if rng.random() < 0.6 else rng.choice(("/blog/spring", "/sale", "/about")), CHANNELS[channel][1])
    for _ in range(rng.choice((0, 1, 1, 2, 3, 4))):
        product = f"sku-{rng.randrange(500)}"
        v.page(f"/products/{product}")
        v.add("track", "Product Viewed", {"product_id": product, "price": rng.randint(5, 200)})
        if rng.random() < 0.3:
            v.add("track", "Product Added", {"product_id": product, "quantity": 1})
    if any(r[4] == "Product Added" for r in v.rows) and rng.random() < 0.6:
        v.page("/checkout")
        v.add("track", "Checkout Started", {"value": rng.randint(5, 400)})
        if rng.random() < 0.7:
            v.add("track", "Order Completed", {"order_id": uuid.uuid4().hex[:12], "revenue": rng.randint(5, 400)})
    return v.rows


def timeline_rows(events: int, profiles: list[str], now: datetime, rng: random.Random) -> list[tuple[Any, ...]]:
    """About `events` rows of visits by people chosen at random over the last 90 days."""
    rows: list[tuple[Any, ...]] = []
    while len(rows) < events:
        at = now - timedelta(seconds=rng.randint(3600, DAYS * 86400))
        rows += visit(rng.choice(profiles), at, rng)
    return rows[:events]


async def load(dsn: str, events: int, profile_count: int, now: datetime) -> None:
    """COPY profiles, segment members and the timeline in chunks, then VACUUM (ANALYZE)."""
    rng = random.Random(23)
    profiles = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(profile_count)]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("profiles", columns=["id", "traits", "trait_times", "computed", "consent",
                                         "first_seen_at", "last_seen_at", "created_at", "updated_at"],
                                         records=[(p, "{}", "{}", "{}", "{}", now, now, now, now) for p in profiles])  # fmt: skip
        members = [(s, p, now) for s, share in (("seg-a", 0.3), ("seg-b", 0.1), ("seg-c", 0.01))
                   for p in profiles if rng.random() < share]  # fmt: skip
        await conn.copy_records_to_table("segment_members", columns=["segment_id", "profile_id", "entered_at"],
                                         records=members)  # fmt: skip
        for start in range(0, events, 100_000):
            rows = timeline_rows(min(100_000, events - start), profiles, now, rng)
            await conn.copy_records_to_table("timeline_events", columns=TIMELINE_COLUMNS, records=rows)
        await conn.execute("VACUUM (ANALYZE) timeline_events, profiles, segment_members")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('timeline_events'))")
        print(f"  loaded {events:,} events for {profile_count:,} profiles ({size})", flush=True)
    finally:
        await conn.close()


# ---------------------------------------------------------------- timing


async def funnel_run(sessions: async_sessionmaker[AsyncSession], dsn: str, start: datetime, end: datetime
                     ) -> dict[str, Any]:  # fmt: skip
    """Seconds of `funnel`, of the hand-written SQL and of a `count(*)`; the counts of both funnels must agree."""
    async with sessions() as session:
        service, result = await timed(lambda: funnel(session, STEPS, window=WINDOW, start=start, end=end))
    conn = await asyncpg.connect(dsn)
    try:
        hand, row = await timed(lambda: conn.fetchrow(HAND_SQL, start, end))
        scan, _ = await timed(lambda: conn.fetchval("SELECT count(*) FROM timeline_events"))
    finally:
        await conn.close()
    people = [s["people"] for s in result["steps"]]
    assert people == list(row), f"funnel found {people}, the hand-written SQL {list(row)}"
    return {"service": service, "hand": hand, "scan": scan, "people": people}


async def once(sessions: async_sessionmaker[AsyncSession], start: datetime, end: datetime) -> dict[str, float]:
    """Seconds of the paths report and of the social report (one run each)."""
    async with sessions() as session:
        paths, result = await timed(lambda: conversion_paths(session, "Order Completed", start=start, end=end))
        social, _ = await timed(lambda: social_engagement(session, start=start, end=end))
    top = ", ".join(f"{'>'.join(p['path'])} {p['share']:.1%}" for p in result["paths"][:3])
    print(f"  paths: {result['converting_people']:,} converting people in {paths:.2f} s (top: {top});"
          f" social report {social:.2f} s", flush=True)  # fmt: skip
    return {"paths": paths, "social": social}


async def bench(args: argparse.Namespace) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    async with pg_database("journeys") as url:
        engine = make_engine(url)
        try:
            await migrate(engine, "profiles")
            now = datetime.now(UTC)
            dsn = url.replace("postgresql+asyncpg://", "postgresql://")
            started = time.perf_counter()
            await load(dsn, args.events, args.profiles, now)
            print(f"  load + VACUUM ANALYZE: {time.perf_counter() - started:.0f} s", flush=True)
            sessions, start = make_session_factory(engine), now - timedelta(days=DAYS)
            await funnel_run(sessions, dsn, start, now)  # warm-up: connections, the table in the OS cache
            for run in range(args.runs):
                t = await funnel_run(sessions, dsn, start, now)
                for key in ("service", "hand", "scan"):
                    results.setdefault(key, []).append(t[key])
                print(f"  run {run + 1}: funnel {t['service']:.2f} s, hand SQL {t['hand']:.2f} s, count(*) "
                      f"{t['scan']:.2f} s; people per step {t['people']}", flush=True)  # fmt: skip
            for key, value in (await once(sessions, start, now)).items():
                results[key] = [value]
        finally:
            await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    add_quick(parser, "--events 50000 --profiles 5000 --runs 1")
    args = parser.parse_args()
    if args.quick:
        args.events, args.profiles, args.runs = 50_000, 5_000, 1
    r = asyncio.run(bench(args))
    m = {k: statistics.median(v) for k, v in r.items()}
    runs = "/".join(f"{x:.2f}" for x in r["service"])
    print(f"\nevents={args.events:,} profiles={args.profiles:,} runs={args.runs} cpus={os.cpu_count()}")
    print(f"funnel (4 steps, 72 h) over {args.events:,} events: {m['service']:.2f} s (target <= 5 s)   runs {runs}")
    print(f"    reference: hand-written SQL {m['hand']:.2f} s ({m['service'] / m['hand']:.2f}x), count(*) of the "
          f"table {m['scan']:.2f} s; once: paths {m['paths']:.2f} s, social report {m['social']:.2f} s")  # fmt: skip
    common: dict[str, Any] = {"quick": args.quick, "params": {"events": args.events, "profiles": args.profiles,
                                                              "runs": args.runs}}  # fmt: skip
    record("journeys", f"funnel, 4 steps, 72 h, over {args.events:,} events", r["service"], "s",
           reference=("hand-written SQL of the same funnel", r["hand"]), target="<= 5 s", met=m["service"] <= 5,
           **common)  # fmt: skip
    record("journeys", "count(*) of the timeline", r["scan"], "s", target="reference", **common)
    record("journeys", "conversion paths to Order Completed (once)", r["paths"], "s", **common)
    record("journeys", "social engagement report (once)", r["social"], "s", **common)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the database has been dropped on the way out
        raise SystemExit(130) from None
