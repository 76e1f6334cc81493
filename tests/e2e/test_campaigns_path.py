"""A campaign end to end on `tessera up` with a real SMTP sink: segment → two variants and a 10% holdout →
personalised mail to the right people → opens, clicks and an unsubscribe through tracking's links → orders posted
later → results with attribution and uplift."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from services.campaigns import stats
from shared.events import CAMPAIGNS
from tests.builders import auth
from tests.campaigns.smtp_sink import html_of, smtp_sink
from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.e2e.stack import tessera_up
from tests.helpers import TopicReader, audience_copied, wait_for

USERS = 120
ADMIN = auth(ADMIN_KEY)
BODY = '<p>Hello {{ first_name | default("friend") }}</p><a href="https://shop.example/{{ offer }}">Shop</a>'


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stack sending mail to an SMTP sink, looking for scheduled work every second; webhooks may reach the
    receivers these tests run on 127.0.0.1."""
    with smtp_sink() as (sink, port):
        env = {"TESSERA_CAMPAIGNS_SMTP_PORT": str(port), "TESSERA_CAMPAIGNS_SCHEDULE_CHECK_SECONDS": "1",
               "TESSERA_CAMPAIGNS_ALLOWED_WEBHOOK_NETWORKS": '["127.0.0.0/8"]'}  # fmt: skip
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
    await audience_copied(client, urls["campaigns"], created.json()["id"], USERS, ADMIN)
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
        async with TopicReader(stack["broker"], CAMPAIGNS) as reader:
            published = await reader.wait_until(lambda v: v.get("campaign_id") == campaign["id"], count=USERS)
        assert sorted({v["outcome"] for v in published}) == ["held_out", "sent", "skipped"]
        await _interact(client, urls, mine, emails, sent, held, m)
        await _check_results(client, urls, campaign, len(sent), len(held))
        await _check_unsubscribed(client, urls, mine[-1]["To"], emails)
        await _check_goal(client, urls, segment_id, len(sent))


async def _check_unsubscribed(
    client: httpx.AsyncClient, urls: dict[str, str], address: str, emails: dict[str, str]
) -> None:
    """The unsubscribe link went through tracking to profiles: email consent is off."""
    profile_id = next(p for p, e in emails.items() if e == address)

    async def consent_off() -> bool:
        body = (await client.get(f"{urls['profiles']}/v1/profiles/{profile_id}", headers=ADMIN)).json()
        return body["consent"]["email"]["granted"] is False

    await wait_for(consent_off, timeout=30)


async def _check_goal(client: httpx.AsyncClient, urls: dict[str, str], segment_id: str, sent: int) -> None:
    """A goal on the segment is compared with what the campaign measured there."""
    goal = {"metric": "conversion_rate", "min": 0.5}
    assert (
        await client.patch(f"{urls['segmentation']}/v1/segments/{segment_id}", json={"goal": goal}, headers=ADMIN)
    ).status_code == 200
    body = (await client.get(f"{urls['campaigns']}/v1/segments-performance", headers=ADMIN)).json()
    [row] = [r for r in body["segments"] if r["segment_id"] == segment_id]
    [measured] = row["campaigns"]
    assert row["goal"] == {"max": None} | goal and measured["met"] is False and row["met"] is False
    assert measured["recipients"] == sent and measured["value"] == pytest.approx(15 / sent, abs=1e-6)


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


async def _create(client: httpx.AsyncClient, urls: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    created = await client.post(f"{urls['campaigns']}/v1/campaigns", headers=ADMIN, json=body)
    assert created.status_code == 201, created.text
    launched = await client.post(f"{urls['campaigns']}/v1/campaigns/{created.json()['id']}/launch", headers=ADMIN)
    assert launched.status_code == 200, launched.text
    return dict(launched.json())


async def _status(client: httpx.AsyncClient, urls: dict[str, str], campaign_id: str, wanted: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        body = (await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign_id}", headers=ADMIN)).json()
        return body if body["status"] == wanted else None

    return await wait_for(reached, timeout=60)


def _variants(n: int) -> list[dict[str, Any]]:
    return [{"name": f"V{i}", "subject": f"Offer {i} for {{{{ first_name }}}}", "body": BODY} for i in range(n)]


async def test_an_ab_test_sends_the_winner_to_everyone_else(stack: dict[str, Any]) -> None:
    urls, sink, m = stack["urls"], stack["sink"], uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:
        segment_id = await _audience(client, urls, m)
        campaign = await _create(client, urls, {"name": "A/B", "target_segments": [segment_id], "variants": _variants(2),
                                                "ab_test": {"test_percent": 40, "wait_hours": 24, "metric": "click_rate"}})  # fmt: skip
        testing = await _status(client, urls, campaign["id"], "testing")
        test_mail = [msg for msg in sink.messages if msg["To"].startswith(f"{m}-")]
        assert len(test_mail) == testing["progress"]["sent"] and 20 <= len(test_mail) <= 70
        for message in (msg for msg in test_mail if msg["X-Tessera-Variant"] == campaign["variants"][1]["id"]):
            await client.get(_link(message, "c"), follow_redirects=False)  # only the second variant gets clicks

        async def clicks_counted() -> bool:
            body = (
                await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/results", headers=ADMIN)
            ).json()
            return body["variants"][1]["clicks"] > 0

        await wait_for(clicks_counted, timeout=30)
        assert (
            await client.post(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/winner", headers=ADMIN)
        ).status_code == 200
        done = await _status(client, urls, campaign["id"], "completed")
        assert done["winner_variant_id"] == campaign["variants"][1]["id"]
        everyone = [msg for msg in sink.messages if msg["To"].startswith(f"{m}-")]
        assert len(everyone) == done["progress"]["sent"] == 108 and len({msg["To"] for msg in everyone}) == 108
        rest = everyone[len(test_mail) :]
        assert {msg["X-Tessera-Variant"] for msg in rest} == {done["winner_variant_id"]}


async def test_a_triggered_campaign_mails_each_profile_entering_its_segment(stack: dict[str, Any]) -> None:
    urls, sink, m = stack["urls"], stack["sink"], uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:
        definition = {"trait": "vip", "op": "eq", "value": m}
        segment = (await client.post(f"{urls['segmentation']}/v1/segments", headers=ADMIN,
                                     json={"name": "VIP", "definition": definition})).json()  # fmt: skip
        campaign = await _create(client, urls, {"name": "Welcome VIP", "target_segments": [segment["id"]],
                                                "variants": _variants(1), "schedule": {"type": "on_entry"}})  # fmt: skip
        assert campaign["status"] == "active"
        await _post_events(client, urls["tracking"], [{"type": "identify", "userId": f"vip-{m}", "traits": {
            "email": f"vip-{m}@example.com", "first_name": "Grace", "vip": m, "consent": {"email": True}}}])  # fmt: skip

        async def mailed() -> list[Any]:
            return sink.to(f"vip-{m}@example.com")

        [message] = await wait_for(mailed, timeout=30)
        assert message["Subject"] == "Offer 0 for Grace"


async def test_a_mail_server_refusing_us_pauses_the_campaign_and_a_resume_mails_everyone_once(
    stack: dict[str, Any],
) -> None:
    urls, sink, m = stack["urls"], stack["sink"], uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:
        segment_id = await _audience(client, urls, m)
        sink.refuse_sender = True  # 550 to MAIL FROM: our problem, not the recipients'
        try:
            campaign = await _create(client, urls, {"name": "Refused", "target_segments": [segment_id],
                                                    "variants": _variants(1)})  # fmt: skip
            paused = await _status(client, urls, campaign["id"], "paused")
        finally:
            sink.refuse_sender = False
        assert paused["last_error"] == "the SMTP server refused the sender address (check mail_from)"
        assert set(await _exposures(client, urls["campaigns"], campaign["id"])) == {"skipped"}  # no consent only
        assert not [msg for msg in sink.messages if msg["To"].startswith(f"{m}-")]
        resumed = await client.post(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/launch", headers=ADMIN)
        assert resumed.status_code == 200 and resumed.json()["last_error"] is None
        done = await _status(client, urls, campaign["id"], "completed")
        mine = [msg["To"] for msg in sink.messages if msg["To"].startswith(f"{m}-")]
        assert len(mine) == len(set(mine)) == done["progress"]["sent"] == 108 and done["progress"]["processed"] == 120
        assert set(await _exposures(client, urls["campaigns"], campaign["id"])) == {"sent", "skipped"}


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


async def test_an_audience_export_uploads_hashes_incrementally(stack: dict[str, Any]) -> None:
    urls, m = stack["urls"], uuid.uuid4().hex[:8]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            people = [{"type": "identify", "userId": f"ad-{m}-{i}", "traits": {"email": f" Ad{i}-{m}@Example.com ",
                       "phone": f"+1 415 555 26{i:02d}", "club": m, "consent": {"ads": i % 2 == 0}}} for i in range(20)]  # fmt: skip
            await _post_events(client, urls["tracking"], people)
            segment_id = await _segment_of(client, urls, {"trait": "club", "op": "eq", "value": m}, 20)
            await audience_copied(client, urls["campaigns"], segment_id, 20, ADMIN)
            campaign = await _create(client, urls, {"name": "Lookalike seed", "channel": "audience_export",
                                                    "target_segments": [segment_id], "variants": _variants(1),
                                                    "webhook_url": f"http://127.0.0.1:{server.server_port}/audience"})  # fmt: skip
            await _status(client, urls, campaign["id"], "completed")
            [export] = (
                await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/exports", headers=ADMIN)
            ).json()
            assert (export["rows"], export["added"], export["removed"], export["pushed"]) == (10, 10, 0, "ok")
            csv = (await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/exports/{export['id']}.csv",
                                    params={"platform": "meta"}, headers=ADMIN)).text  # fmt: skip
            assert hashlib.sha256(f"ad0-{m}@example.com".encode()).hexdigest() in csv and "example.com" not in csv
            assert hashlib.sha256(b"14155552600").hexdigest() in csv and len(csv.splitlines()) == 11
            assert _Receiver.bodies[-1]["export_id"] == export["id"] and len(_Receiver.bodies[-1]["added"]) == 10

            await _post_events(client, urls["tracking"], [{"type": "identify", "userId": f"ad-{m}-0",
                                                           "traits": {"club": "left"}}])  # fmt: skip
            await _segment_count(client, urls, segment_id, 19)
            await audience_copied(client, urls["campaigns"], segment_id, 19, ADMIN)
            await client.post(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/launch", headers=ADMIN)

            async def second_export() -> list[dict[str, Any]] | None:
                found = (
                    await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/exports", headers=ADMIN)
                ).json()
                return found if len(found) == 2 else None

            latest = (await wait_for(second_export, timeout=30))[0]
            assert (latest["rows"], latest["added"], latest["removed"]) == (9, 0, 1)
    finally:
        server.shutdown()


async def _segment_of(client: httpx.AsyncClient, urls: dict[str, str], definition: dict[str, Any], size: int) -> str:
    async def replicated() -> bool:
        r = await client.post(
            f"{urls['segmentation']}/v1/segments/preview", json={"definition": definition}, headers=ADMIN
        )
        return r.json().get("count") == size

    await wait_for(replicated, timeout=60)
    created = await client.post(
        f"{urls['segmentation']}/v1/segments", headers=ADMIN, json={"name": "s", "definition": definition}
    )
    await _segment_count(client, urls, created.json()["id"], size)
    return str(created.json()["id"])


async def _segment_count(client: httpx.AsyncClient, urls: dict[str, str], segment_id: str, size: int) -> None:
    async def sized() -> bool:
        body = (await client.get(f"{urls['segmentation']}/v1/segments/{segment_id}", headers=ADMIN)).json()
        return body["status"] == "ready" and body["size"] == size

    await wait_for(sized, timeout=30)


async def test_social_engagement_by_segment_counts_the_people_behind_interactions(stack: dict[str, Any]) -> None:
    urls, m = stack["urls"], uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:
        fans = [{"type": "identify", "userId": f"fan-{m}-{i}", "traits": {"fandom": m}} for i in range(6)]
        likes = [{"type": "track", "userId": f"fan-{m}-{i}", "event": "Post Liked", "properties": {"platform": "instagram",
                  "post_id": "p1"}} for i in range(2)]  # fmt: skip
        await _post_events(client, urls["tracking"], fans + likes)
        segment_id = await _segment_of(client, urls, {"trait": "fandom", "op": "eq", "value": m}, 6)

        async def counted() -> dict[str, Any] | None:
            body = (
                await client.get(f"{urls['campaigns']}/v1/social/engagement", params={"by": "segment"}, headers=ADMIN)
            ).json()
            row = next((g for g in body.get("groups", []) if g.get("segment_id") == segment_id), None)
            return row if row and row["likes"] == 2 else None

        row = await wait_for(counted, timeout=30)
        assert (row["people"], row["engaged_people"], row["engagement_rate"]) == (6, 2, pytest.approx(2 / 6))
