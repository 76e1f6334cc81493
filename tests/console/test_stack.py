"""The console in `tessera up`: a setup link printed while no admin exists, and the console reaching the services
with its signed user tokens and its API keys (the keys and secrets `tessera up` generated)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tests.builders import auth
from tests.conftest import ADMIN_KEY
from tests.console.chromium import log_in, log_out, person, screen
from tests.console.conftest import PASSWORD
from tests.console.conftest import Browser as Session
from tests.console.stack import NESTED, OWNER, preview_count


async def test_the_setup_link_makes_the_first_admin_once_in_chromium(stack: dict[str, Any], chromium: Browser) -> None:
    token = json.loads((stack["data_dir"] / "keys.json").read_text())["console_setup_token"]
    link = f"{stack['console']}/setup?token={token}"
    assert link in stack["printed"] and f"Console:        {stack['console']}" in stack["printed"]
    async with httpx.AsyncClient(base_url=stack["console"]) as http:
        assert (await http.get("/api/auth/status")).json() == {"needs_setup": True}
    context = await person(chromium, stack["console"])
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_label("E-mail").fill(OWNER)
    await page.get_by_label("Name").fill("Owner")
    await page.locator("input[type=password]").first.fill(PASSWORD)
    await page.get_by_label("Repeat the password").fill(PASSWORD)
    await page.get_by_role("button", name="Create administrator").click()
    await expect(page.get_by_role("heading", level=1, name="Overview")).to_be_visible()
    await context.close()
    async with httpx.AsyncClient(base_url=stack["console"]) as http:
        body = {"token": token, "email": "other@example.com", "name": "Other", "password": PASSWORD}
        assert (await http.post("/api/auth/setup", json=body)).status_code == 403
        assert (await http.get("/api/auth/status")).json() == {"needs_setup": False}


async def test_the_console_reaches_the_services_as_its_users(stack: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=stack["console"], timeout=30) as http:
        admin = Session(http)
        assert (await admin.login(OWNER, PASSWORD)).status_code == 200
        sources = await admin.get("/api/tracking/v1/sources")
        assert sources.status_code == 200 and [s["name"] for s in sources.json()] == ["default"]
        overview = (await admin.get("/api/overview")).json()
        assert overview["unavailable"] == {} and set(overview["pipeline"]) == {"tracking", "profiles", "segmentation",
                                                                                 "campaigns"}  # fmt: skip
        key = (await admin.post("/api/api-keys", json={"name": "ci", "role": "analyst"})).json()["key"]
    async with httpx.AsyncClient() as direct:
        for service in ("profiles", "segmentation"):
            url = f"{stack['urls'][service]}/v1/pipeline"
            assert (await direct.get(url, headers=auth(key))).status_code == 200, service
        refused = await direct.post(f"{stack['urls']['segmentation']}/v1/segments", headers=auth(key),
                                    json={"name": "x", "definition": {"trait": "a", "op": "eq", "value": 1}})  # fmt: skip
        assert refused.status_code == 403 and "analyst role" in refused.json()["error"]["message"]


async def test_the_console_answers_ready_and_serves_a_clear_page_without_a_build(stack: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=stack["console"]) as http:
        ready = (await http.get("/ready")).json()
        assert ready["checks"] == {"database": "ok", "tasks": "ok"}
        page = await http.get("/segments/some-client-side-route")
    if page.status_code == 503:  # no `web/dist` in this checkout
        assert "not built" in page.text and page.headers["content-type"].startswith("text/html")
    else:
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


async def invite_in_the_browser(page: Page, email: str, role: str) -> str:
    """An admin invites someone on Settings > Users; the link the page shows."""
    await screen(page, "/settings/users", "Settings", shot="settings-users")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_role("combobox", name="Role", exact=True).click()
    await page.get_by_role("option", name=role).click()
    await page.get_by_role("button", name="Invite").click()
    invitation = page.get_by_role("alert").filter(has_text=f"Invitation for {email}")
    return (await invitation.locator("code").inner_text()).strip()


async def join(page: Page, link: str, name: str) -> None:
    """An invitation link opened and accepted in the browser; waits for the console's frame."""
    await page.goto(link)
    await page.get_by_label("Name").fill(name)
    await page.locator("input[type=password]").first.fill(PASSWORD)
    await page.get_by_label("Repeat the password").fill(PASSWORD)
    await page.get_by_role("button", name="Join").click()
    await expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()


async def build_nested_segment(page: Page) -> None:
    """The builder: the first condition kept (orders ≥ 1), a group of any of (plan is pro, Product Viewed ≥ 2 times in
    30 days) added."""
    await page.get_by_role("textbox", name=re.compile("^Name")).fill("Pro or browsing buyers")
    await page.get_by_role("button", name="Add group to all conditions").click()
    first = page.get_by_role("group", name="Condition 2.1")
    await first.get_by_label("Trait").fill("plan")
    await first.get_by_label("Value").fill("pro")
    await expect(first.get_by_label("Value")).to_have_value("pro")
    await page.get_by_role("button", name="Add condition to group 2").click()
    await page.get_by_role("menuitem", name="Behaviour").click()
    behaviour = page.get_by_role("group", name="Condition 2.2")
    await behaviour.get_by_label("Did the event").fill("Product Viewed")
    await behaviour.get_by_label("Times").fill("2")
    await page.keyboard.press("Escape")  # closes any suggestion list


async def test_a_marketer_builds_a_segment_sees_why_a_member_is_in_it_and_changes_their_consent(
    stack: dict[str, Any], chromium: Browser, customers: None
) -> None:
    admin = await (await person(chromium, stack["console"])).new_page()
    await log_in(admin, OWNER, PASSWORD)
    link = await invite_in_the_browser(admin, "marketer@example.com", "Marketer (reads and changes)")
    context = await person(chromium, stack["console"])
    page = await context.new_page()
    await join(page, link, "Mia Marketer")
    await screen(page, "/segments/new", "New segment")
    await build_nested_segment(page)
    live = page.get_by_role("region", name="Matches now")
    await expect(live.get_by_text(re.compile(r"^2\s*people$"))).to_be_visible(timeout=60_000)
    assert await preview_count(stack, NESTED) == 2
    await screen(page, None, "New segment", shot="segment-builder")
    await page.get_by_role("button", name="Create segment").click()
    await expect(page.get_by_role("heading", level=1, name="Pro or browsing buyers")).to_be_visible()
    segment_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    await assert_saved_definition(stack, segment_id)
    await page.get_by_role("link", name="Why is customer1@example.com in this segment?").click()
    await expect(page.get_by_role("group", name="All of these: true").first).to_be_visible()
    await screen(page, None, re.compile("^Why customer1@example.com"))
    await page.get_by_role("link", name="customer1@example.com").click()
    await change_email_consent(stack, page)
    await assert_csrf_and_logout(page, "marketer@example.com")
    await context.close()


async def assert_saved_definition(stack: dict[str, Any], segment_id: str) -> None:
    """The tree the marketer clicked together is the JSON segmentation stored."""
    async with httpx.AsyncClient(headers=auth(ADMIN_KEY)) as http:
        saved = (await http.get(f"{stack['urls']['segmentation']}/v1/segments/{segment_id}")).json()
    assert saved["definition"] == NESTED


async def change_email_consent(stack: dict[str, Any], page: Page) -> None:
    """On the customer page, the e-mail consent button with its confirmation; profiles holds the change."""
    await expect(page.get_by_role("heading", level=1, name="customer1@example.com")).to_be_visible()
    await page.get_by_role("tab", name="Consent").click()
    button = page.get_by_role("button", name=re.compile("(Record|Withdraw) e-mail consent"))
    grant = (await button.inner_text()).startswith("Record")
    await button.click()
    await (
        page.get_by_role("dialog").get_by_role("button", name="Record consent" if grant else "Withdraw consent").click()
    )
    await expect(page.get_by_text("Consent recorded.")).to_be_visible()
    profile_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    async with httpx.AsyncClient(headers=auth(ADMIN_KEY)) as http:
        profile = (await http.get(f"{stack['urls']['profiles']}/v1/profiles/{profile_id}")).json()
    assert profile["consent"]["email"]["granted"] is grant


async def assert_csrf_and_logout(page: Page, email: str) -> None:
    """A cross-site POST carries the cookie but not the CSRF token: refused. Logging out ends the session."""
    forged = await page.request.post("/api/segmentation/v1/segments", data={"name": "x", "definition": NESTED},
                                     headers={"Origin": "https://attacker.example"})  # fmt: skip
    assert forged.status == 403, await forged.text()
    await log_out(page, email)
    assert (await page.request.get("/api/auth/me")).status == 401
    await page.goto("/segments")
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert "redirect=" in page.url
