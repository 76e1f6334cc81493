"""A campaign end to end on `tessera up` with a real SMTP sink: segment → two variants and a 10% holdout →
personalised mail to the right people → opens, clicks and an unsubscribe through tracking's links → orders posted
later → results with attribution and uplift."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.campaigns import stats
from tests.builders import auth
from tests.campaigns.smtp_sink import html_of, smtp_sink
from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.e2e.stack import tessera_up
from tests.helpers import wait_for

USERS = 120
ADMIN = auth(ADMIN_KEY)
BODY = '<p>Hello {{ first_name | default("friend") }}</p><a href="https://shop.example/{{ offer }}">Shop</a>'


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stack sending mail to an SMTP sink, looking for scheduled work every second."""
    with smtp_sink() as (sink, port):
        env = {"TESSERA_CAMPAIGNS_SMTP_PORT": str(port), "TESSERA_CAMPAIGNS_SCHEDULE_CHECK_SECONDS": "1"}
        with tessera_up(tmp_path_factory.mktemp("campaigns"), **env) as running:
            yield running | {"sink": sink}


async def _post_events(client: httpx.AsyncClient, url: str, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 100):
        response = await client.post(
            f"{url}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": events[start : start + 100]}
        )
        assert response.status_code == 200, response.text


async def _audience(client: httpx.AsyncClient, urls: dict[str, str], m: str) -> str:
    """USERS people with email and first name, every tenth without email consent, in a segment of their own."""
    people = [{"type": "identify", "userId": f"u-{m}-{i}",
               "traits": {"email": f"{m}-{i}@example.com", "first_name": f"Name{i}", "tier": m,
                          "consent": {"email": i % 10 != 0}}} for i in range(USERS)]  # fmt: skip
    await _post_events(client, urls["tracking"], people)
    definition = {"trait": "tier", "op": "eq", "value": m}

    async def replicated() -> bool:
        r = await client.post(
            f"{urls['segmentation']}/v1/segments/preview", json={"definition": definition}, headers=ADMIN
        )
        return r.json().get("count") == USERS

    await wait_for(replicated, timeout=60)
    created = await client.post(
        f"{urls['segmentation']}/v1/segments", headers=ADMIN, json={"name": m, "definition": definition}
    )
    return str(created.json()["id"])


async def _exposures(client: httpx.AsyncClient, url: str, campaign_id: str) -> dict[str, list[dict[str, Any]]]:
    items = (
        await client.get(f"{url}/v1/campaigns/{campaign_id}/exposures", params={"limit": 1000}, headers=ADMIN)
    ).json()["items"]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        grouped.setdefault(item["outcome"], []).append(item)
    return grouped


async def _emails(client: httpx.AsyncClient, url: str, profile_ids: list[str]) -> dict[str, str]:
    body = (await client.post(f"{url}/v1/profiles/batch", json={"ids": profile_ids}, headers=ADMIN)).json()
    return {p["id"]: next(i["value"] for i in p["identities"] if i["kind"] == "email") for p in body["items"]}


def _link(message: Any, kind: str) -> str:
    found = re.search(rf'(http://127\.0\.0\.1:\d+/v1/{kind}/[^"\s>]+)', html_of(message))
    assert found, kind
    return found.group(1)


async def test_a_campaign_reaches_the_right_people_and_measures_what_they_did(stack: dict[str, Any]) -> None:
    urls, sink, m = stack["urls"], stack["sink"], uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:
        segment_id = await _audience(client, urls, m)
        campaign = (await client.post(f"{urls['campaigns']}/v1/campaigns", headers=ADMIN, json={
            "name": "Spring sale", "target_segments": [segment_id], "holdout_percent": 10,
            "variants": [{"name": "A", "subject": "Hi {{ first_name }}", "body": BODY},
                         {"name": "B", "subject": "{{ first_name }}, a gift for you", "body": BODY}],
        })).json()  # fmt: skip
        launched = await client.post(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/launch", headers=ADMIN)
        assert launched.status_code == 200 and launched.json()["status"] == "running"

        async def completed() -> dict[str, Any] | None:
            body = (await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}", headers=ADMIN)).json()
            return body if body["status"] == "completed" else None

        done = await wait_for(completed, timeout=60)
        exposures = await _exposures(client, urls["campaigns"], campaign["id"])
        sent, held = exposures["sent"], exposures["held_out"]
        assert {e["reason"] for e in exposures["skipped"]} == {"no_email_consent"} and len(exposures["skipped"]) == 12
        assert len(sent) + len(held) == 108 and done["progress"]["sent"] == len(sent) and 3 <= len(held) <= 25
        emails = await _emails(client, urls["profiles"], [e["profile_id"] for e in sent + held])
        mine = [msg for msg in sink.messages if msg["To"].startswith(f"{m}-")]
        assert sorted(msg["To"] for msg in mine) == sorted(
            emails[e["profile_id"]] for e in sent
        )  # the holdout got none
        for message in mine:
            first = f"Name{message['To'].split('-')[-1].split('@')[0]}"
            assert first in message["Subject"] and f"Hello {first}" in html_of(message)
        await _interact(client, urls, mine, emails, sent, held, m)
        await _check_results(client, urls, campaign, len(sent), len(held))


async def _interact(client: httpx.AsyncClient, urls: dict[str, str], mine: list[Any], emails: dict[str, str],
                    sent: list[dict[str, Any]], held: list[dict[str, Any]], m: str) -> None:  # fmt: skip
    """20 people open, 10 click, 1 unsubscribes; 15 of those sent to and 2 held out order later."""
    for message in mine[:20]:
        assert (await client.get(_link(message, "o"), headers={"User-Agent": "Mozilla/5.0"})).status_code == 200
    for message in mine[:10]:
        click = await client.get(_link(message, "c"), follow_redirects=False)
        assert click.status_code == 302 and click.headers["location"].startswith("https://shop.example/")
    assert (await client.post(_link(mine[-1], "u"))).status_code == 200
    user_of = {p: f"u-{m}-{e.split('-')[-1].split('@')[0]}" for p, e in emails.items()}
    orders = [{"type": "track", "userId": user_of[e["profile_id"]], "event": "Order Completed",
               "properties": {"order_id": f"{m}-{n}", "revenue": 50.0}} for n, e in enumerate(sent[:15] + held[:2])]  # fmt: skip
    await _post_events(client, urls["tracking"], orders)


async def _check_results(client: httpx.AsyncClient, urls: dict[str, str], campaign: dict[str, Any], treated: int,
                         held: int) -> None:  # fmt: skip
    url = f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/results"

    async def measured() -> dict[str, Any] | None:
        body = (await client.get(url, headers=ADMIN)).json()
        variants = body["variants"]
        totals = [sum(v[k] for v in variants) for k in ("human_opens", "clicks", "unsubscribes", "conversions")]
        return body if totals == [20, 10, 1, 15] and body["holdout"]["conversions"] == 2 else None

    results = await wait_for(measured, timeout=60)
    assert results["holdout"]["users"] == held and sum(v["users"] for v in results["variants"]) == treated
    assert sum(v["revenue"] for v in results["variants"]) == 750.0 and results["attributed"]["conversions"] == 15
    expected = stats.frequentist_test(stats.ProportionArm(held, 2), stats.ProportionArm(treated, 15))
    lift = results["versus_holdout"]["conversion_rate"]["relative"]
    assert lift["lift"] == pytest.approx(expected.lift, abs=1e-6) and lift["p_value"] == pytest.approx(
        expected.p_value, abs=1e-6
    )
    assert results["versus_holdout"]["incremental_conversions"] == pytest.approx(15 - 2 / held * treated, abs=1e-3)
    assert results["sample_ratio"]["computable"] and len(results["between_variants"]) == 1
    by_segment = (await client.get(url, params={"by": "segment"}, headers=ADMIN)).json()
    assert [s["treated"]["conversions"] for s in by_segment["segments"]] == [15]
