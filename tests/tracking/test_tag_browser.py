"""The website tag in headless Chromium: a page on one localhost origin, the real tracking service on another.

Page view, a click-triggered track, identify, calls queued before the tag loaded, a beacon on page hide and
events kept in localStorage across a reload all arrive on `tessera.events.v1`.
"""

from __future__ import annotations

import asyncio
import html
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from shared.events import EVENTS
from shared.tokens import sign_token
from tessera.broker import free_port, stop_process
from tests.conftest import ADMIN_KEY, LINK_SECRET, WRITE_KEY
from tests.helpers import TopicReader, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PAGE_TEMPLATE = Path(__file__).with_name("tag_page.html")
TAG_FILE = Path(__file__).parents[2] / "services" / "tracking" / "static" / "tag.js"

pytestmark = pytest.mark.skipif(
    os.environ.get("TESSERA_SKIP_BROWSER") == "1", reason="TESSERA_SKIP_BROWSER=1: browser tests switched off"
)


@pytest.fixture(scope="module")
def tracking_url(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real tracking service (uvicorn subprocess) with the default source `WRITE_KEY`."""
    data_dir = tmp_path_factory.mktemp("tag-tracking")
    port = free_port()
    env = {**os.environ, "TESSERA_DATA_DIR": str(data_dir), "TESSERA_KAFKA_BOOTSTRAP_SERVERS": broker,
           "TESSERA_WRITE_KEY": WRITE_KEY, "TESSERA_ADMIN_API_KEY": ADMIN_KEY, "TESSERA_LINK_SECRET": LINK_SECRET}  # fmt: skip
    log_path = data_dir / "tracking.log"
    command = [sys.executable, "-m", "uvicorn", "services.tracking.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=TAG_FILE.parents[3])
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path)
        yield url
    finally:
        stop_process(process)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"tracking did not get ready at {url}:\n{log_path.read_text()[-3000:]}")


class _PageHandler(BaseHTTPRequestHandler):
    """Serves the test page (placeholders filled from the query string) and a tag-less blank page."""

    tracking_url = ""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/tag_page.html":
            values = {
                "TAG_SRC": f"{self.tracking_url}/tag.js",
                "WRITE_KEY": query.get("writeKey", WRITE_KEY),
                "API_HOST": query.get("apiHost", self.tracking_url),
                "FLUSH_INTERVAL": query.get("flushInterval", "1000"),
            }
            if "loadKey" in query:  # configured by tessera.load() in the page instead of data-* attributes
                values.update(WRITE_KEY="", API_HOST="", FLUSH_INTERVAL="")
            body = PAGE_TEMPLATE.read_text()
            for name, value in values.items():
                body = body.replace("{{" + name + "}}", html.escape(value))
        elif parts.path == "/blank.html":
            body = "<!doctype html><title>blank</title><p>no tag here</p>"
        else:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


@pytest.fixture(scope="module")
def page_origin(tracking_url: str) -> Iterator[str]:
    """A second localhost origin that serves the page, so the tag's requests are cross-origin (CORS)."""
    handler = type("PageHandler", (_PageHandler,), {"tracking_url": tracking_url})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium through the Debian chromedriver (never a Selenium Manager download)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(
            f"The browser test needs Chromium and chromedriver; missing: {', '.join(missing)}. "
            "Install them with `apt-get install -y chromium chromium-driver`, or set TESSERA_SKIP_BROWSER=1 to skip.",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):  # fmt: skip
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(15)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
async def events(broker: str) -> AsyncIterator[TopicReader]:
    """One reader of `tessera.events.v1` for the module; tests pick their events by a unique marker."""
    async with TopicReader(broker, EVENTS) as reader:
        yield reader


@pytest.fixture
def browser(driver: webdriver.Chrome, page_origin: str) -> webdriver.Chrome:
    """The browser with the page origin's cookies and storage cleared."""
    driver.get(f"{page_origin}/blank.html")
    driver.delete_all_cookies()
    driver.execute_script("localStorage.clear(); sessionStorage.clear();")
    driver.get_log("browser")  # drop what earlier tests logged
    return driver


def _marker() -> str:
    return uuid.uuid4().hex[:12]


def _tag_loaded(browser: webdriver.Chrome) -> None:
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return !!(window.tessera && tessera.__tessera)"))


def _with(key: str, value: str) -> Callable[[Any], bool]:
    """Predicate: the event's `properties.<key>` is `value`."""
    return lambda e: (e.get("properties") or {}).get(key) == value


async def _one(events: TopicReader, predicate: Callable[[Any], bool], timeout: float = 15.0) -> dict[str, Any]:
    found = await events.wait_until(predicate, timeout=timeout)
    return found[0]


async def test_tag_is_served_small_and_cacheable(tracking_url: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{tracking_url}/tag.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert len(response.content) < 10 * 1024 and response.content == TAG_FILE.read_bytes()
    assert b"sendBeacon" in response.content and b"placeholder" not in response.content


async def test_page_view_queued_call_click_and_identify(
    browser: webdriver.Chrome, page_origin: str, events: TopicReader
) -> None:
    marker = _marker()
    url = f"{page_origin}/tag_page.html?marker={marker}&utm_source=newsletter&utm_medium=email&utm_campaign=c-{marker}"
    await asyncio.to_thread(browser.get, url)

    # the automatic page view, with page context and UTM campaign
    page = await _one(events, lambda e: e["type"] == "page" and _with("url", url)(e))
    anonymous_id = page["anonymousId"]
    assert anonymous_id and "userId" not in page
    assert page["context"]["page"]["path"] == "/tag_page.html"
    assert page["context"]["page"]["title"] == "Tessera tag test page"
    assert page["context"]["campaign"] == {"source": "newsletter", "medium": "email", "name": f"c-{marker}"}
    assert page["context"]["library"]["name"] == "tessera.js"
    assert page["context"]["userAgent"] and page["sourceId"] and page["receivedAt"]

    # the anonymousId is kept in a first-party cookie and in localStorage
    cookie = browser.get_cookie("tessera_aid")
    assert cookie and cookie["value"] == anonymous_id and cookie["sameSite"] == "Lax"
    assert browser.execute_script("return localStorage.getItem('tessera_aid')") == anonymous_id

    # a call made before the tag loaded, through the snippet's queue
    queued = await _one(events, lambda e: e.get("event") == "Snippet Queued" and _with("marker", marker)(e))
    assert queued["anonymousId"] == anonymous_id

    # a click-triggered track
    await asyncio.to_thread(browser.find_element(By.ID, "signup").click)
    clicked = await _one(events, lambda e: e.get("event") == "Button Clicked" and _with("marker", marker)(e))
    assert clicked["type"] == "track" and clicked["properties"]["button"] == "signup"
    assert clicked["anonymousId"] == anonymous_id and "userId" not in clicked

    # identify: same anonymousId, the userId sticks to later events
    email = f"{marker}@example.com"
    browser.execute_script("tessera.identify('user-42', {email: arguments[0], plan: 'pro'})", email)
    identify = await _one(events, lambda e: e["type"] == "identify" and (e.get("traits") or {}).get("email") == email)
    assert identify["userId"] == "user-42" and identify["anonymousId"] == anonymous_id
    assert identify["traits"]["plan"] == "pro"
    await asyncio.to_thread(browser.find_element(By.ID, "signup").click)
    after = await _one(
        events, lambda e: e.get("event") == "Button Clicked" and _with("marker", marker)(e) and "userId" in e
    )
    assert after["userId"] == "user-42" and after["anonymousId"] == anonymous_id

    # next page of the session, without UTM parameters: same ids, the campaign is remembered
    next_url = f"{page_origin}/tag_page.html?marker={marker}&step=2"
    await asyncio.to_thread(browser.get, next_url)
    second = await _one(events, lambda e: e["type"] == "page" and _with("url", next_url)(e))
    assert second["anonymousId"] == anonymous_id and second["userId"] == "user-42"
    assert second["context"]["campaign"]["name"] == f"c-{marker}"

    # alias: the previous id is the current userId
    browser.execute_script("tessera.alias(arguments[0])", f"user-{marker}")
    alias = await _one(events, lambda e: e["type"] == "alias" and e.get("userId") == f"user-{marker}")
    assert alias["previousId"] == "user-42" and alias["anonymousId"] == anonymous_id

    # no script errors, no refused (CORS) requests on the way
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


async def test_beacon_on_page_hide(browser: webdriver.Chrome, page_origin: str, events: TopicReader) -> None:
    marker = _marker()
    # a one-minute flush interval: within this test only a beacon can deliver the tracks
    await asyncio.to_thread(browser.get, f"{page_origin}/tag_page.html?marker={marker}&flushInterval=60000")
    _tag_loaded(browser)

    # the tab goes to the background: visibilitychange → hidden
    browser.execute_script("tessera.track('Tab Hidden', {marker: arguments[0]})", marker)
    browser.execute_script(
        "Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    hidden = await _one(events, lambda e: e.get("event") == "Tab Hidden" and _with("marker", marker)(e), timeout=10)
    assert hidden["type"] == "track" and hidden["context"]["page"]["path"] == "/tag_page.html"

    # a track right before leaving the page: waits in localStorage, then the pagehide beacon takes it
    browser.execute_script("tessera.track('Left Page', {marker: arguments[0]})", marker)
    stored = browser.execute_script("return localStorage.getItem('tessera_queue') || ''")
    assert "Left Page" in stored
    await asyncio.to_thread(browser.get, f"{page_origin}/blank.html")
    left = await _one(events, lambda e: e.get("event") == "Left Page" and _with("marker", marker)(e), timeout=10)
    assert left["anonymousId"] == hidden["anonymousId"]
    # the beaconed events left the local queue
    assert "Left Page" not in (browser.execute_script("return localStorage.getItem('tessera_queue') || ''"))


async def test_unsent_events_survive_a_reload(browser: webdriver.Chrome, page_origin: str, events: TopicReader) -> None:
    marker = _marker()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every send fails and is retried with backoff
    await asyncio.to_thread(browser.get, f"{page_origin}/tag_page.html?marker={marker}&flushInterval=50&apiHost={dead}")
    _tag_loaded(browser)
    browser.execute_script("tessera.track('Offline Event', {marker: arguments[0]})", marker)

    async def queued() -> bool:
        stored = browser.execute_script("return localStorage.getItem('tessera_queue') || ''")
        return "Offline Event" in stored

    await wait_for(queued, timeout=5)
    await asyncio.sleep(1.5)  # the first attempts failed; the events are still in localStorage

    # the next page talks to the real service and sends what the previous one could not
    await asyncio.to_thread(browser.get, f"{page_origin}/tag_page.html?marker={marker}-2")
    offline = await _one(events, lambda e: e.get("event") == "Offline Event" and _with("marker", marker)(e))
    assert offline["type"] == "track"
    queued_before = await _one(events, lambda e: e.get("event") == "Snippet Queued" and _with("marker", marker)(e))
    assert queued_before["anonymousId"] == offline["anonymousId"]


async def test_ten_events_make_a_batch(browser: webdriver.Chrome, page_origin: str, events: TopicReader) -> None:
    marker = _marker()
    await asyncio.to_thread(browser.get, f"{page_origin}/tag_page.html?marker={marker}&flushInterval=60000")
    _tag_loaded(browser)
    browser.execute_script("for (let i = 0; i < 10; i++) tessera.track('Item Seen', {marker: arguments[0], i})", marker)
    seen = await events.wait_until(lambda e: e.get("event") == "Item Seen" and _with("marker", marker)(e), count=10)
    assert sorted(e["properties"]["i"] for e in seen) == list(range(10))
    assert len({e["sentAt"] for e in seen}) == 1  # one request, long before the one-minute timer


async def test_a_refused_batch_is_not_retried(browser: webdriver.Chrome, page_origin: str) -> None:
    await asyncio.to_thread(browser.get, f"{page_origin}/tag_page.html?marker={_marker()}&writeKey=twk_not_a_key")
    _tag_loaded(browser)
    count = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/v1/batch')).length"

    async def sent_once() -> bool:
        return browser.execute_script(count) == 1

    await wait_for(sent_once, timeout=5)
    await asyncio.sleep(2.5)  # a retry would have come after 1 s and 2 s
    assert browser.execute_script(count) == 1
    assert browser.execute_script("return localStorage.getItem('tessera_queue')") is None


async def test_configured_by_load_call(
    browser: webdriver.Chrome, page_origin: str, tracking_url: str, events: TopicReader
) -> None:
    marker = _marker()
    url = f"{page_origin}/tag_page.html?marker={marker}&loadKey={WRITE_KEY}&loadHost={tracking_url}"
    await asyncio.to_thread(browser.get, url)
    page = await _one(events, lambda e: e["type"] == "page" and _with("url", url)(e))
    queued = await _one(events, lambda e: e.get("event") == "Snippet Queued" and _with("marker", marker)(e))
    assert page["anonymousId"] == queued["anonymousId"]


async def test_unsubscribe_page_asks_with_a_labelled_button(
    browser: webdriver.Chrome, tracking_url: str, events: TopicReader
) -> None:
    profile = _marker()
    url = f"{tracking_url}/v1/u/{sign_token({'k': 'u', 'c': 'camp', 'p': profile}, LINK_SECRET)}"
    await asyncio.to_thread(browser.get, url)
    button = browser.find_element(By.CSS_SELECTOR, "form button")
    assert (button.aria_role, button.accessible_name) == ("button", "Unsubscribe")
    assert browser.execute_script("return document.documentElement.lang") == "en"
    button.click()
    WebDriverWait(browser, 10).until(lambda d: "not get these emails" in d.page_source)
    unsubscribed = await _one(events, lambda e: (e.get("context") or {}).get("profileId") == profile)
    assert unsubscribed["event"] == "Unsubscribed" and browser.current_url == url
