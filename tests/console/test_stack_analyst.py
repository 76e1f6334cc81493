"""The console in Chromium for an analyst: every screen of the navigation shown without a button that writes, each one
clean for axe-core, and a write through the console refused by the service itself. Then bad input at the login page:
a wrong password, a locked account, and a session that ended while the person was away."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tests.builders import auth
from tests.conftest import ADMIN_KEY
from tests.console.chromium import log_in, person, screen
from tests.console.conftest import PASSWORD
from tests.console.conftest import Browser as Session
from tests.console.stack import NESTED
from tests.console.test_stack import join
from tests.helpers import wait_for

SEGMENT = "Buyers, pro or browsing"
# What only marketers and admins may press: their names start with one of these verbs.
WRITES = re.compile(r"^(New|Create|Save|Edit|Delete|Publish|Re-run|Fit|Import|Invite|Record|Withdraw|Merge|Erase|"
                    r"Rotate|Launch|Send|Undo)\b")  # fmt: skip


async def invite(stack: dict[str, Any], owner: str, role: str, email: str) -> str:
    """The owner invites someone through the console's API (the marketer's test clicks through the invitation form)."""
    async with httpx.AsyncClient(base_url=stack["console"]) as http:
        admin = Session(http)
        assert (await admin.login(owner, PASSWORD)).status_code == 200
        invited = await admin.post("/api/invitations", json={"email": email, "role": role})
        assert invited.status_code == 201, invited.text
        return str(invited.json()["link"])


async def ready_segment(stack: dict[str, Any]) -> str:
    """NESTED saved through segmentation's API, once it is built with its two members; its id."""
    async with httpx.AsyncClient(base_url=stack["urls"]["segmentation"], headers=auth(ADMIN_KEY)) as http:
        made = await http.post("/v1/segments", json={"name": SEGMENT, "definition": NESTED})
        assert made.status_code == 201, made.text
        segment_id = str(made.json()["id"])

        async def built() -> bool | None:
            segment = (await http.get(f"/v1/segments/{segment_id}")).json()
            return True if segment["status"] == "ready" and segment["size"] == 2 else None

        await wait_for(built, timeout=60)
    return segment_id


async def no_writes(page: Page) -> None:
    """No button or link on the page is one that writes."""
    names = await page.locator("button:visible, a:visible").evaluate_all(
        "nodes => nodes.map(n => (n.getAttribute('aria-label') || n.innerText || '').trim())"
    )
    assert [n for n in names if WRITES.match(n)] == [], page.url


async def walk(page: Page, path: str | None, heading: str | re.Pattern[str], shot: str | None = None) -> None:
    """A screen checked by axe-core (and photographed when asked), with no write button on it."""
    await screen(page, path, heading, shot=shot)
    await no_writes(page)


async def test_an_analyst_sees_every_screen_without_write_buttons_and_axe_finds_nothing_serious(
    stack: dict[str, Any], chromium: Browser, customers: None, owner: str
) -> None:
    segment_id = await ready_segment(stack)
    context = await person(chromium, stack["console"])
    page = await context.new_page()
    await join(page, await invite(stack, owner, "analyst", "analyst@example.com"), "Ana Analyst")
    await walk(page, "/", "Overview", "overview")
    await walk(page, "/segments", "Segments")
    await walk(page, f"/segments/{segment_id}", SEGMENT, "segment")
    await page.get_by_role("link", name="Why is customer1@example.com in this segment?").click()
    await walk(page, None, re.compile("^Why customer1@example.com"), "explain")
    await page.get_by_role("link", name="customer1@example.com").first.click()
    await walk(page, None, "customer1@example.com", "customer")
    await page.get_by_role("tab", name="Consent").click()
    await no_writes(page)
    await walk(page, "/customers", "Customers")
    for path, heading, shot in (("/models", "Models", "models"), ("/models/rfm", "RFM", None),
                                ("/models/clv", "Customer lifetime value", None),
                                ("/campaigns", "Campaigns", "campaigns"), ("/analytics", "Analytics", "analytics"),
                                ("/satisfaction", "Satisfaction", None), ("/retention", "Retention", None),
                                ("/social", "Social", "social"), ("/feedback", "Feedback", "feedback"),
                                ("/settings", "Settings", None)):  # fmt: skip
        await walk(page, path, heading, shot)
    await walk(page, "/segments/new", "New segment")  # trying conditions is allowed, saving them is not
    await assert_the_service_refuses_the_analysts_write(page)
    await context.close()


async def assert_the_service_refuses_the_analysts_write(page: Page) -> None:
    """With the session's own CSRF token the console forwards the write; segmentation answers 403 itself."""
    me = await (await page.request.get("/api/auth/me")).json()
    refused = await page.request.post("/api/segmentation/v1/segments", data={"name": "x", "definition": NESTED},
                                      headers={"X-CSRF-Token": me["csrf_token"]})  # fmt: skip
    assert refused.status == 403 and "analyst role" in (await refused.json())["error"]["message"]


async def test_bad_input_at_the_login_page(stack: dict[str, Any], chromium: Browser, owner: str) -> None:
    email = "locked-out@example.com"
    context = await person(chromium, stack["console"])
    page = await context.new_page()
    await join(page, await invite(stack, owner, "analyst", email), "Lou Locked")
    await context.clear_cookies()
    for _ in range(5):  # the account's lockout comes after five failures
        await failed_login(page, email, "not-the-password", "E-mail or password is wrong.")
    await failed_login(page, email, PASSWORD, re.compile(r"Too many login attempts; try again in \d+ s\."))
    await failed_login(page, "nobody@example.com", "not-the-password", "E-mail or password is wrong.")
    await context.close()


async def failed_login(page: Page, email: str, password: str, message: str | re.Pattern[str]) -> None:
    """The login form sent; it stays, showing `message`."""
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(email)
    await page.locator("input[type=password]").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text(message)


async def test_an_ended_session_goes_to_login_and_back_to_the_page_asked_for(
    stack: dict[str, Any], chromium: Browser, owner: str
) -> None:
    context = await person(chromium, stack["console"])
    page = await context.new_page()
    await log_in(page, owner, PASSWORD)
    await screen(page, "/segments", "Segments")
    end_sessions(stack, owner)
    await page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Customers").click()
    await expect(page.get_by_text("Your session has ended. Log in to go back to the page you were on.")).to_be_visible()
    await page.get_by_label("E-mail").fill(owner)
    await page.locator("input[type=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await screen(page, None, "Customers")
    assert page.url.endswith("/customers")
    await context.close()


def end_sessions(stack: dict[str, Any], email: str) -> None:
    """A person's sessions end on the server as an idle timeout ends them: gone from the console's database."""
    with sqlite3.connect(stack["data_dir"] / "console.db") as db:
        db.execute("DELETE FROM user_sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)", (email,))
