"""Real headless Chromium (Debian's, never a downloaded one) driven by Playwright, for the console's end-to-end tests:
one browser per session, a context per person, an axe-core check per screen, screenshots on request."""

from __future__ import annotations

import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
# `TESSERA_SCREENSHOTS=docs/console pytest tests/console/test_stack.py` refreshes the README's screenshots.
SCREENSHOTS = os.environ.get("TESSERA_SCREENSHOTS")
SERIOUS = ("serious", "critical")
SHOT_WIDTH = 1000  # the README's screenshots: this wide at most, in 256 colours, so each stays well under 150 KB


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for the whole session (`make browser` installs it)."""
    if not CHROMIUM.exists() or not AXE.exists():
        pytest.fail(f"{CHROMIUM} and {AXE} are needed: `make browser web` installs them")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        await browser.close()


async def person(browser: Browser, base_url: str) -> BrowserContext:
    """A new person's browser: its own cookies, a laptop-sized window, and patient expectations (a busy CI)."""
    context = await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    return context


async def log_in(page: Page, email: str, password: str) -> None:
    """The login page, filled and sent; waits for the console's frame."""
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(email)
    await page.locator("input[type=password]").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()


async def log_out(page: Page, email: str) -> None:
    """The account menu's "Log out"; waits for the login page."""
    await page.get_by_role("button", name=re.compile(re.escape(email))).click()
    await page.get_by_role("menuitem", name="Log out").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (rule, impact, first offending nodes)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"rule": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


async def screen(page: Page, path: str | None, heading: str | re.Pattern[str], *, shot: str | None = None) -> None:
    """Open a screen (or stay on this one), wait for its heading and for loading to end, check it with axe-core, and
    take its screenshot when screenshots were asked for."""
    if path is not None:
        await page.goto(path)
    await expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    await expect(page.locator(".mantine-Loader-root, [aria-busy=true]")).to_have_count(0)
    violations = await serious_violations(page)
    assert violations == [], (page.url, violations)
    if SCREENSHOTS and shot:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shrink(await page.screenshot(), Path(SCREENSHOTS) / f"{shot}.png")


def shrink(png: bytes, path: Path) -> None:
    """A screenshot scaled down to SHOT_WIDTH, reduced to a palette and saved as an optimised PNG."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > SHOT_WIDTH:
        image = image.resize((SHOT_WIDTH, round(image.height * SHOT_WIDTH / image.width)), Image.Resampling.LANCZOS)
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
