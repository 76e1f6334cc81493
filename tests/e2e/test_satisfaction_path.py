"""Issue 17's satisfaction path on `tessera up`, seen in the console in real Chromium: a campaign mails survey answer
links → each recipient follows the score they pick and sends the hosted page → `Survey Responded` through Kafka →
campaigns' report → the NPS on the console's Satisfaction page equals the NPS of those answers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.campaigns import satisfaction
from tests.builders import auth
from tests.campaigns.smtp_sink import html_of, smtp_sink
from tests.conftest import ADMIN_KEY, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, WRITE_KEY
from tests.e2e.stack import tessera_up
from tests.helpers import audience_copied, wait_for

CHROMIUM = Path("/usr/bin/chromium")
WEB_BUILD = Path(__file__).resolve().parents[2] / "web" / "dist" / "index.html"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or not WEB_BUILD.exists(), reason="needs /usr/bin/chromium and a built web app (make web)"
)
ADMIN = auth(ADMIN_KEY)
SCORES = (10, 9, 9, 8, 6, 3)  # 3 promoters, 1 passive, 2 detractors: NPS = 100 · (3 − 2) / 6 ≈ 16.7


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stack sending mail to an SMTP sink."""
    with smtp_sink() as (sink, port):
        data_dir = tmp_path_factory.mktemp("satisfaction")
        with tessera_up(data_dir, TESSERA_CAMPAIGNS_SMTP_PORT=str(port), TESSERA_LOG_LEVEL="WARNING") as running:
            yield running | {"sink": sink}


async def _segment(client: httpx.AsyncClient, urls: dict[str, str], m: str) -> str:
    people = [{"type": "identify", "userId": f"sat-{m}-{i}", "traits": {"email": f"sat-{m}-{i}@example.com",
               "tier": m, "consent": {"email": True}}} for i in range(len(SCORES))]  # fmt: skip
    sent = await client.post(f"{urls['tracking']}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": people})
    assert sent.status_code == 200, sent.text
    definition = {"trait": "tier", "op": "eq", "value": m}

    async def replicated() -> bool:
        found = await client.post(f"{urls['segmentation']}/v1/segments/preview", json={"definition": definition},
                                  headers=ADMIN)  # fmt: skip
        return found.json().get("count") == len(SCORES)

    await wait_for(replicated, timeout=60)
    created = await client.post(f"{urls['segmentation']}/v1/segments", headers=ADMIN,
                                json={"name": f"Survey {m}", "definition": definition})  # fmt: skip
    await audience_copied(client, urls["campaigns"], created.json()["id"], len(SCORES), ADMIN)
    return str(created.json()["id"])


async def _mail_and_answer(client: httpx.AsyncClient, stack: dict[str, Any], m: str) -> dict[str, Any]:
    """Create the survey, mail it to the segment, and answer it through each mail's links."""
    urls, sink = stack["urls"], stack["sink"]
    segment_id = await _segment(client, urls, m)
    survey = (await client.post(f"{urls['campaigns']}/v1/surveys", headers=ADMIN, json={
        "name": f"Delivery {m}", "kind": "nps", "question": "Would you recommend us?"})).json()  # fmt: skip
    body = f'<p>One question</p>{{{{ survey_links("{survey["id"]}") }}}}'
    campaign = (await client.post(f"{urls['campaigns']}/v1/campaigns", headers=ADMIN, json={
        "name": f"NPS {m}", "target_segments": [segment_id], "variants": [{"name": "A", "subject": "How was it?",
                                                                          "body": body}]})).json()  # fmt: skip
    assert (
        await client.post(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/launch", headers=ADMIN)
    ).status_code == 200

    async def mailed() -> list[Any] | None:
        mine = [msg for msg in sink.messages if msg["To"].startswith(f"sat-{m}-")]
        return mine if len(mine) == len(SCORES) else None

    for message, score in zip(
        sorted(await wait_for(mailed, timeout=60), key=lambda msg: msg["To"]), SCORES, strict=True
    ):
        found = re.findall(r'href="([^"]+/v1/s/[^"]+)"[^>]*>(\d+)</a>', html_of(message))
        links = {int(n): url for url, n in found}
        assert sorted(links) == list(range(11))
        page = await client.get(links[score])  # what the person's click opens
        assert page.status_code == 200 and f'value="{score}" required checked' in page.text
        answered = await client.post(links[score], data={"score": str(score), "comment": "Quick delivery"})
        assert answered.status_code == 200, answered.text

    async def reported() -> dict[str, Any] | None:
        report = (await client.get(f"{urls['campaigns']}/v1/surveys/{survey['id']}/report", headers=ADMIN)).json()
        return report if report["total"]["responses"] == len(SCORES) else None

    await wait_for(reported, timeout=60)
    return dict(survey)


async def test_a_survey_answered_through_mailed_links_shows_its_nps_in_the_console(stack: dict[str, Any]) -> None:
    from playwright.async_api import async_playwright, expect

    m = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:
        survey = await _mail_and_answer(client, stack, m)
    nps = satisfaction.score("nps", list(SCORES)).value
    assert nps is not None
    shown = f"+{nps:.1f}"  # the console's format: signed, one decimal (en-US)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = await (await browser.new_context(locale="en-US")).new_page()
            await page.goto(f"{stack['console']}/login?redirect=/satisfaction")
            await page.get_by_label("E-mail").fill(CONSOLE_ADMIN_EMAIL)
            await page.locator("input[autocomplete=current-password]").fill(CONSOLE_ADMIN_PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await page.get_by_role("heading", name="Satisfaction").wait_for(timeout=20_000)
            await page.get_by_label("Survey", exact=True).first.click()
            await page.get_by_role("option", name=re.compile(f"Delivery {m}")).click()
            await expect(page.get_by_role("region", name="NPS", exact=True)).to_contain_text(shown, timeout=20_000)
            await expect(page.get_by_role("region", name="Responses")).to_contain_text(str(len(SCORES)))
            assert survey["id"] in await page.content()  # the template snippet names the survey
        finally:
            await browser.close()
