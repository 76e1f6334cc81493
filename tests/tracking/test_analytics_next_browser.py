"""Segment's own browser library, analytics-next (unmodified, from npm), with Tessera tracking as its CDN and API host.

The page lives on one localhost origin, the real tracking service on another. analytics-next fetches its settings
document from tracking (`<cdn>/v1/projects/<writeKey>/settings`), takes `integrations["Segment.io"].apiHost` from it
and sends `page`, `track` and `identify` to tracking's `/v1/p`, `/v1/t` and `/v1/i` (or `/v1/b` with its batching
delivery strategy); the events arrive enriched on `tessera.events.v1`. Two documented ways of loading it are covered:
Segment's snippet with `analytics._cdn` in front of the standalone bundle (what
`cdn.segment.com/analytics.js/v1/<key>/analytics.min.js` serves), and the UMD bundle's
`AnalyticsBrowser.load({writeKey, cdnURL})`. A retried event (sent with `X-Retry-Count`) is an expected failure until
tracking's CORS allows that header.

The library comes from `tests/tracking/js`: `npm ci --prefix tests/tracking/js --no-audit --no-fund`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium import webdriver

from tessera.broker import free_port
from tests.conftest import WRITE_KEY
from tests.helpers import TopicReader, wait_for
from tests.tracking import test_tag_browser as tag

JS_DIR = Path(__file__).with_name("js")
PACKAGE_DIR = JS_DIR / "node_modules" / "@segment" / "analytics-next"
BUNDLES = {
    "standalone.js": PACKAGE_DIR / "dist" / "umd" / "standalone.js",
    "index.js": PACKAGE_DIR / "dist" / "umd" / "index.js",
}
INSTALL_COMMAND = "npm ci --prefix tests/tracking/js --no-audit --no-fund"

pytestmark = tag.pytestmark  # skipped with TESSERA_SKIP_BROWSER=1, like the tag test

# The tag test's fixtures, reused: the tracking service (uvicorn subprocess on the session broker), headless Chromium,
# the topic reader, and `browser`, which clears the storage of *this* module's `page_origin` before each test.
tracking_url = tag.tracking_url
driver = tag.driver
events = tag.events
browser = tag.browser

# Segment's snippet, written out readably: a call queue under `window.analytics`, `analytics._cdn` (Segment's
# documented setting for a custom CDN proxy) and `load()` adding the library's script. The library picks up
# `_writeKey`, `_cdn` and `_loadOptions` and replays the queue.
SNIPPET_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>analytics-next snippet page</title><link rel="icon" href="data:,">
<script>
(function () {
  var analytics = (window.analytics = window.analytics || []);
  if (analytics.initialize || analytics.invoked) return;
  analytics.invoked = true;
  analytics.methods = ["trackSubmit", "trackClick", "trackLink", "trackForm", "pageview", "identify", "reset",
    "group", "track", "ready", "alias", "debug", "page", "screen", "once", "off", "on", "addSourceMiddleware",
    "addIntegrationMiddleware", "setAnonymousId", "addDestinationMiddleware", "register"];
  analytics.factory = function (method) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      args.unshift(method);
      analytics.push(args);
      return analytics;
    };
  };
  for (var i = 0; i < analytics.methods.length; i++) {
    var key = analytics.methods[i];
    analytics[key] = analytics.factory(key);
  }
  analytics.load = function (writeKey, options) {
    var script = document.createElement("script");
    script.async = true;
    script.src = "/vendor/analytics-next/standalone.js";
    document.head.appendChild(script);
    analytics._loadOptions = options;
  };
  analytics._writeKey = {{WRITE_KEY}};
  analytics._cdn = {{CDN}};
  analytics.SNIPPET_VERSION = "5.2.1";
  analytics.load({{WRITE_KEY}});
  analytics.page();
})();
</script>
</head><body><h1>analytics-next snippet page</h1></body></html>
"""

# The npm-style API from the UMD bundle (global `AnalyticsNext`); `?batching=1` switches the Segment.io destination
# to its batching delivery strategy (`/v1/b`).
UMD_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>analytics-next UMD page</title><link rel="icon" href="data:,">
<script src="/vendor/analytics-next/index.js"></script>
<script>
  window.analytics = AnalyticsNext.AnalyticsBrowser.load({writeKey: {{WRITE_KEY}}, cdnURL: {{CDN}}}, {{OPTIONS}});
  analytics.page();
</script>
</head><body><h1>analytics-next UMD page</h1></body></html>
"""

PAGES = {"/snippet.html": SNIPPET_PAGE, "/umd.html": UMD_PAGE}
BATCHING = {"integrations": {"Segment.io": {"deliveryStrategy": {"strategy": "batching", "config": {"size": 3}}}}}
# `a` = the loaded `Analytics`: the snippet page's `window.analytics` is replaced by it, `AnalyticsBrowser` holds it
INSTANCE = "const a = analytics.instance || analytics"


def _js(value: str) -> str:
    """A JavaScript string literal that is safe inside a <script> element."""
    return json.dumps(value).replace("</", "<\\/")


class _PageHandler(BaseHTTPRequestHandler):
    """The two test pages, the library's bundles (self-hosted, as a site may do) and a blank page."""

    tracking_url = ""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        content_type = "text/html; charset=utf-8"
        if parts.path in PAGES:
            body = PAGES[parts.path].replace("{{WRITE_KEY}}", _js(query.get("writeKey", WRITE_KEY)))
            body = body.replace("{{OPTIONS}}", json.dumps(BATCHING if query.get("batching") else {}))
            data = body.replace("{{CDN}}", _js(self.tracking_url)).encode()
        elif parts.path.startswith("/vendor/analytics-next/") and parts.path.rsplit("/", 1)[1] in BUNDLES:
            data = BUNDLES[parts.path.rsplit("/", 1)[1]].read_bytes()
            content_type = "application/javascript"
        elif parts.path == "/blank.html":
            data = b"<!doctype html><title>blank</title><p>no library here</p>"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


@pytest.fixture(scope="module", autouse=True)
def library_version() -> str:
    """The installed analytics-next version; fails (never skips) when `npm ci` was not run."""
    missing = [str(p.relative_to(JS_DIR.parents[2])) for p in BUNDLES.values() if not p.is_file()]
    if missing:
        pytest.fail(
            f"analytics-next is not installed (missing {', '.join(missing)}). Install it with `{INSTALL_COMMAND}` "
            "(or `make test`), or set TESSERA_SKIP_BROWSER=1 to skip the browser tests.",
            pytrace=False,
        )
    installed = json.loads((PACKAGE_DIR / "package.json").read_text())["version"]
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"]["@segment/analytics-next"]
    assert installed == pinned, (
        f"node_modules has analytics-next {installed}, package.json pins {pinned}: run `{INSTALL_COMMAND}`"
    )
    return str(installed)


@pytest.fixture(scope="module")
def page_origin(tracking_url: str, library_version: str) -> Iterator[str]:
    """A second localhost origin that serves the pages and the bundles, so calls to tracking are cross-origin."""
    handler = type("PageHandler", (_PageHandler,), {"tracking_url": tracking_url})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _ready(browser: webdriver.Chrome) -> None:
    """Wait for analytics-next's `ready`: settings fetched and the Segment.io destination registered."""
    browser.set_script_timeout(10)
    browser.execute_async_script("const done = arguments[arguments.length - 1]; analytics.ready(() => done(true));")


def _resources(browser: webdriver.Chrome) -> list[str]:
    return browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")


def _with(key: str, value: str) -> Callable[[Any], bool]:
    return lambda e: (e.get("properties") or {}).get(key) == value


@pytest.mark.parametrize(
    ("path", "query", "ingest_paths"),
    [
        ("/snippet.html", "", ["/v1/p", "/v1/t", "/v1/i"]),
        ("/umd.html", "", ["/v1/p", "/v1/t", "/v1/i"]),
        ("/umd.html", "&batching=1", ["/v1/b"]),  # page, track and identify in one batch of three
    ],
    ids=["snippet", "umd", "umd-batching"],
)
async def test_page_track_identify_through_tracking(
    path: str,
    query: str,
    ingest_paths: list[str],
    browser: webdriver.Chrome,
    page_origin: str,
    tracking_url: str,
    events: TopicReader,
    library_version: str,
) -> None:
    marker = tag._marker()
    url = f"{page_origin}{path}?marker={marker}{query}"
    await asyncio.to_thread(browser.get, url)
    await asyncio.to_thread(_ready, browser)

    # the library took its settings from tracking and its API host from them
    segmentio = browser.execute_script(
        f"{INSTANCE}; const p = a.queue.plugins.find(p => p.name === 'Segment.io'); return p && p.metadata"
    )
    host = tracking_url.split("://", 1)[1]
    assert segmentio == {"writeKey": WRITE_KEY, "apiHost": f"{host}/v1", "protocol": "http"}

    browser.execute_script("analytics.track('Signed Up', {marker: arguments[0], plan: 'pro'})", marker)
    email = f"{marker}@example.com"
    browser.execute_script("analytics.identify('user-7', {email: arguments[0], plan: 'pro'})", email)

    page_view = await tag._one(events, lambda e: e["type"] == "page" and _with("url", url)(e))
    signed_up = await tag._one(events, lambda e: e.get("event") == "Signed Up" and _with("marker", marker)(e))
    identify = await tag._one(
        events, lambda e: e["type"] == "identify" and (e.get("traits") or {}).get("email") == email
    )

    # what analytics-next built, as Segment's API would receive it
    anonymous_id = page_view["anonymousId"]
    assert anonymous_id and browser.execute_script(f"{INSTANCE}; return a.user().anonymousId()") == anonymous_id
    assert page_view["properties"]["path"] == path and page_view["properties"]["search"] == f"?marker={marker}{query}"
    assert page_view["context"]["page"]["url"] == url
    assert signed_up["type"] == "track" and signed_up["properties"]["plan"] == "pro"
    assert signed_up["anonymousId"] == anonymous_id and signed_up.get("userId") is None
    assert identify["userId"] == "user-7" and identify["anonymousId"] == anonymous_id
    assert identify["traits"]["plan"] == "pro"
    for event in (page_view, signed_up, identify):
        assert event["context"]["library"] == {"name": "analytics.js", "version": f"next-{library_version}"}
        assert event["messageId"].startswith("ajs-next-")
        assert event["context"]["userAgent"].startswith("Mozilla/")
        # tracking's enrichment
        assert event["receivedAt"] and event["sourceId"] == page_view["sourceId"]
    assert browser.execute_script("return localStorage.getItem('ajs_user_id')") == '"user-7"'

    # every request went to the page's own origin or to tracking: settings, then the short ingest paths
    # (a resource entry appears once the response is back, which can be a moment after the event reached the topic)
    async def sent() -> list[str] | None:
        names = [r.removeprefix(tracking_url) for r in _resources(browser) if r.startswith(f"{tracking_url}/v1/")]
        return names if len(names) > len(ingest_paths) else None

    assert sorted(await wait_for(sent, timeout=5)) == sorted([*ingest_paths, f"/v1/projects/{WRITE_KEY}/settings"])
    resources = _resources(browser)
    assert all(r.startswith((page_origin, tracking_url)) for r in resources), resources

    # no script errors, no refused (CORS) requests on the way
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


async def test_unknown_write_key_loads_nothing(browser: webdriver.Chrome, page_origin: str, tracking_url: str) -> None:
    """Tracking answers 401 for the settings of an unknown key: the library reports it and sends nothing."""
    await asyncio.to_thread(browser.get, f"{page_origin}/snippet.html?writeKey=twk_not_a_key")
    settings_url = f"{tracking_url}/v1/projects/twk_not_a_key/settings"

    async def refused() -> list[dict[str, Any]]:
        return [e for e in browser.get_log("browser") if settings_url in e["message"] and "401" in e["message"]]

    await wait_for(refused, timeout=10)
    await asyncio.sleep(0.5)
    assert not [r for r in _resources(browser) if r.startswith(f"{tracking_url}/v1/") and "/projects/" not in r]


async def test_a_retried_event_is_delivered(
    browser: webdriver.Chrome, page_origin: str, tracking_url: str, events: TopicReader
) -> None:
    marker = tag._marker()
    await asyncio.to_thread(browser.get, f"{page_origin}/umd.html?marker={marker}")
    await asyncio.to_thread(_ready, browser)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [f"{tracking_url}/v1/t"]})
    try:
        # the first attempt fails at the network level; analytics-next queues the event for a retry
        browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "analytics.track('Retried', {marker: arguments[0]}).then(() => done(true), () => done(false));",
            marker,
        )
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.get_log("browser")  # the blocked attempt's error is expected

    async def delivered_or_refused() -> str | None:
        refused = [e["message"] for e in browser.get_log("browser") if "preflight" in e["message"]]
        if refused:
            return f"the retry was refused: {refused[0]}"
        found = [e for e in await events.poll() if e.get("event") == "Retried" and _with("marker", marker)(e)]
        return "delivered" if found else None

    outcome = await wait_for(delivered_or_refused, timeout=15)
    if outcome != "delivered":  # name the header: Chromium's message does not
        async with httpx.AsyncClient() as client:
            preflight = await client.options(
                f"{tracking_url}/v1/t",
                headers={
                    "Origin": page_origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type,x-retry-count",
                },
            )
        outcome += f"; preflight with X-Retry-Count: {preflight.status_code} {preflight.text}"
    assert outcome == "delivered", outcome
