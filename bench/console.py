"""The console in Chromium on PostgreSQL: navigation → data shown for the segments list, a segment page and a profile
page; the forwarder's overhead against calling the service directly; the first route's JavaScript.

Run: .venv/bin/python -m bench.console [--profiles 1000000] [--segments 1000] [--runs 5] [--calls 300] [--quick].
Quick check (`--quick`): --profiles 20000 --segments 100 --runs 2 --calls 100.

1. `tessera up` (tests/e2e/stack.py) with profiles and segmentation on fresh PostgreSQL databases, the console with
   an admin from the environment, `web/dist` as built (`make web`).
2. The data is seeded straight into the tables with `INSERT … SELECT generate_series` (not through tracking and the
   bus, which would take hours for a million profiles on two cores): N profiles with an e-mail identity and traits in
   profiles, the same N rows in segmentation's `profile_features`, S trait segments ("bucket = i", ready) with their
   memberships (every profile is in exactly one) and one size-history point each; then ANALYZE.
3. Debian's Chromium (Playwright), logged in once; each figure is the median of `--runs` navigations (`page.goto`,
   a full load with the browser's cache warm, as a person opening a link) until the data is on screen: the segments
   list until its first page (50 rows) is there, a segment page until a member's e-mail is, a profile page until its
   heading is.
4. The forwarder: GET a segment `--calls` times through the console (`/api/segmentation/v1/segments/{id}`, with the
   session cookie) and directly from segmentation (with the admin key), interleaved, in the same run; p50 of each.
5. Initial JavaScript: the entry chunk and the chunks the routes matching `/` import, gzipped (as `npm run size`).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Page, async_playwright

from bench import results as bench_results
from bench.pg import create_database, drop_database
from tests.conftest import ADMIN_KEY, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD
from tests.e2e.stack import tessera_up

WEB_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
FIRST_ROUTE = ("src/routes/__root.tsx", "src/routes/console-layout.tsx", "src/routes/overview/index.tsx")
SEED_PROFILES = """
INSERT INTO profiles (id, traits, trait_times, computed, consent, first_seen_at, last_seen_at, version, created_at,
                      updated_at)
SELECT md5('p' || n), jsonb_build_object('email', 'p' || n || '@example.com', 'bucket', n % $2,
                                         'plan', CASE WHEN n % 3 = 0 THEN 'pro' ELSE 'free' END),
       '{}', jsonb_build_object('orders', n % 7, 'revenue', (n % 7) * 25.0), '{}', now() - interval '90 days', now(),
       1, now(), now()
FROM generate_series(1, $1) AS n"""
SEED_IDENTITIES = """
INSERT INTO identities (kind, value, profile_id, created_at)
SELECT 'email', 'p' || n || '@example.com', md5('p' || n), now() FROM generate_series(1, $1) AS n"""
SEED_FEATURES = """
INSERT INTO profile_features (profile_id, traits, computed, consent, scores, version, updated_at)
SELECT md5('p' || n), jsonb_build_object('email', 'p' || n || '@example.com', 'bucket', n % $2),
       jsonb_build_object('orders', n % 7, 'revenue', (n % 7) * 25.0), '{}', '{}', 1, now()
FROM generate_series(1, $1) AS n"""
SEED_SEGMENTS = """
INSERT INTO segments (id, name, description, definition, kind, status, size, last_computed_at, created_at, updated_at)
SELECT md5('s' || i), 'Bucket ' || lpad(i::text, 4, '0'), 'Profiles whose bucket trait is ' || i,
       jsonb_build_object('trait', 'bucket', 'op', 'eq', 'value', i), 'rules', 'ready', 0, now(), now(), now()
FROM generate_series(0, $1 - 1) AS i"""
SEED_MEMBERS = """
INSERT INTO segment_memberships (segment_id, profile_id, entered_at)
SELECT md5('s' || (n % $2)), md5('p' || n), now() - (n % 30) * interval '1 day' FROM generate_series(1, $1) AS n"""
SEED_SIZES = """
UPDATE segments SET size = m.size FROM (SELECT segment_id, count(*) AS size FROM segment_memberships
                                        GROUP BY segment_id) AS m WHERE segments.id = m.segment_id;
INSERT INTO segment_sizes (segment_id, at, size) SELECT id, now(), size FROM segments"""


async def seed(profiles_url: str, segmentation_url: str, profiles: int, segments: int) -> dict[str, float]:
    """The tables filled in bulk; seconds per database."""
    timings = {}
    for name, url, statements in (
        ("profiles", profiles_url, [(SEED_PROFILES, profiles, segments), (SEED_IDENTITIES, profiles)]),
        ("segmentation", segmentation_url, [(SEED_FEATURES, profiles, segments), (SEED_SEGMENTS, segments),
                                            (SEED_MEMBERS, profiles, segments), (SEED_SIZES,)]),
    ):  # fmt: skip
        started = time.perf_counter()
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            for sql, *args in statements:
                await conn.execute(sql, *args)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        timings[name] = time.perf_counter() - started
        print(f"  seeded {name} in {timings[name]:.1f} s", flush=True)
    return timings


async def shown_after(page: Page, path: str, selector: str) -> float:
    """Milliseconds from `page.goto(path)` until `selector` is in the page."""
    started = time.perf_counter()
    await page.goto(path, wait_until="commit")
    await page.wait_for_selector(selector, state="attached", timeout=120_000)
    return (time.perf_counter() - started) * 1000


async def navigation_runs(console: str, profiles: int, segments: int, runs: int) -> dict[str, list[float]]:
    """The three screens in Chromium, each `runs` times after a warm-up."""
    screens = {
        "overview (a full load, for reference)": ("/", "h1:text-is('Overview')"),
        "segments list": ("/segments", f"table[aria-label=Segments] tbody tr:nth-child({min(segments, 50)}) a"),
        "segment page": (f"/segments/{md5('s1')}", "table[aria-label=Members] >> text=/^p[0-9]+@example\\.com$/"),
        "profile page": (f"/customers/{md5(f'p{profiles}')}", f"h1:text-is('p{profiles}@example.com')"),
    }
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = await (await browser.new_context(base_url=console, viewport={"width": 1280, "height": 800})).new_page()
        await log_in(page)
        times: dict[str, list[float]] = {name: [] for name in screens}
        for name, (path, selector) in screens.items():
            await shown_after(page, path, selector)  # warm-up: caches, connections, the route's chunk
            for _ in range(runs):
                times[name].append(await shown_after(page, path, selector))
            print(f"  {name}: {', '.join(f'{t:.0f}' for t in times[name])} ms", flush=True)
        await browser.close()
    return times


async def log_in(page: Page) -> None:
    """The login form, as a person fills it."""
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(CONSOLE_ADMIN_EMAIL)
    await page.locator("input[type=password]").fill(CONSOLE_ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("navigation", name="Main navigation").wait_for()


async def forwarder_runs(console: str, segmentation: str, calls: int) -> dict[str, list[float]]:
    """The same GET through the console and straight at segmentation, interleaved; milliseconds per call."""
    path = f"/v1/segments/{md5('s1')}"
    times: dict[str, list[float]] = {"console": [], "direct": []}
    async with httpx.AsyncClient(base_url=console) as via, httpx.AsyncClient(base_url=segmentation) as direct:
        login = {"email": CONSOLE_ADMIN_EMAIL, "password": CONSOLE_ADMIN_PASSWORD}
        (await via.post("/api/auth/login", json=login)).raise_for_status()
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        for i in range(calls + 20):  # the first 20 of each warm up
            for name, call in (("console", lambda: via.get(f"/api/segmentation{path}")),
                               ("direct", lambda: direct.get(path, headers=headers))):  # fmt: skip
                started = time.perf_counter()
                (await call()).raise_for_status()
                if i >= 20:
                    times[name].append((time.perf_counter() - started) * 1000)
    return times


def initial_js_kb() -> float:
    """Gzipped KB of the JavaScript the first route loads (entry chunk, its routes' chunks, their static imports)."""
    manifest = json.loads((WEB_DIST / ".vite" / "manifest.json").read_text())
    files: set[str] = set()

    def visit(key: str) -> None:
        chunk = manifest.get(key)
        if chunk and chunk["file"] not in files:
            files.add(chunk["file"])
            for imported in chunk.get("imports", []):
                visit(imported)

    for key, chunk in manifest.items():
        if chunk.get("isEntry") or key.split("?")[0] in FIRST_ROUTE:
            visit(key)
    js = [f for f in files if f.endswith(".js")]
    return sum(len(gzip.compress((WEB_DIST / f).read_bytes(), compresslevel=9)) for f in js) / 1024


def md5(text: str) -> str:
    """The id SQL's md5() gave a seeded row."""
    return hashlib.md5(text.encode()).hexdigest()


async def run(args: argparse.Namespace, stack: dict[str, Any], urls: dict[str, str]) -> dict[str, Any]:
    """Seed, then measure; everything the report needs."""
    seeded = await seed(urls["profiles"], urls["segmentation"], args.profiles, args.segments)
    navigation = await navigation_runs(stack["console"], args.profiles, args.segments, args.runs)
    forwarder = await forwarder_runs(stack["console"], stack["urls"]["segmentation"], args.calls)
    return {"seed": seeded, "navigation": navigation, "forwarder": forwarder, "js_kb": initial_js_kb()}


async def databases() -> dict[str, str]:
    """Fresh PostgreSQL databases for profiles and segmentation."""
    return {name: await create_database(f"console_{name}") for name in ("profiles", "segmentation")}


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    """The figures, printed and recorded."""
    print(f"\nprofiles={args.profiles:,} segments={args.segments:,} runs={args.runs} calls={args.calls}")
    common: dict[str, Any] = {"quick": args.quick, "params": {"profiles": args.profiles, "segments": args.segments,
                                                                "runs": args.runs}}  # fmt: skip
    for name, times in r["navigation"].items():
        median = statistics.median(times)
        print(f"{name}: navigation → data shown, median {median:.0f} ms (target < 1000 ms)")
        if name.startswith("overview"):
            continue
        bench_results.record("console", f"{name}, navigation -> data shown", times, "ms", target="< 1000 ms",
                             met=median < 1000, **common)  # fmt: skip
    via, direct = (statistics.median(r["forwarder"][k]) for k in ("console", "direct"))
    print(f"forwarder: p50 {via:.2f} ms through the console, {direct:.2f} ms direct: +{via - direct:.2f} ms "
          f"(target ≤ 5 ms)")  # fmt: skip
    bench_results.record("console", "GET a segment through the console, p50", [via], "ms",
                         reference=("the same GET at segmentation, p50", [direct]), target="<= +5 ms",
                         met=via - direct <= 5, **common)  # fmt: skip
    print(f"initial JS: {r['js_kb']:.1f} KB gzipped for the first route (target ≤ 300 KB)")
    bench_results.record("console", "initial JavaScript, first route, gzipped", [r["js_kb"]], "KB",
                         target="<= 300 KB", met=r["js_kb"] <= 300, **common)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5, help="navigations per screen (median)")
    parser.add_argument("--calls", type=int, default=300, help="GETs each way for the forwarder's overhead")
    bench_results.add_quick(parser, "--profiles 20000 --segments 100 --runs 2 --calls 100")
    args = parser.parse_args()
    if args.quick:
        args.profiles, args.segments, args.runs, args.calls = 20_000, 100, 2, 100
    if not (WEB_DIST / ".vite" / "manifest.json").exists():
        raise SystemExit("web/dist is not built: run `make web` first")
    urls = asyncio.run(databases())
    try:
        env = {f"TESSERA_{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
        with tempfile.TemporaryDirectory() as tmp, tessera_up(Path(tmp), TESSERA_LOG_LEVEL="WARNING", **env) as stack:
            print("stack up; seeding", flush=True)
            results = asyncio.run(run(args, stack, urls))
    finally:
        asyncio.run(_drop(urls))
    report(results, args)


async def _drop(urls: dict[str, str]) -> None:
    for url in urls.values():
        await drop_database(url)


if __name__ == "__main__":
    main()
