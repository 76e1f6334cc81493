"""Writing a campaign on `tessera up`: the live audience size, a pre-flight whose numbers are the launch's, a preview
rendered for a real member, a test mail counted nowhere, clicks per link, and results under another attribution."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx

from tests.e2e.test_campaigns_path import ADMIN, BODY, USERS, _audience, _exposures, _link, stack  # noqa: F401
from tests.helpers import wait_for


async def test_preflight_preview_and_test_mail_match_what_the_launch_does(stack: dict[str, Any]) -> None:  # noqa: F811
    urls, sink, m = stack["urls"], stack["sink"], uuid.uuid4().hex[:8]
    campaigns = urls["campaigns"]
    async with httpx.AsyncClient(timeout=60) as client:
        segment_id = await _audience(client, urls, m)  # in campaigns' membership copy too
        created = (await client.post(f"{campaigns}/v1/campaigns", headers=ADMIN, json={
            "name": "Authoring", "target_segments": [segment_id], "holdout_percent": 10,
            "variants": [{"name": "A", "subject": "Hi {{ first_name }}", "body": BODY},
                         {"name": "B", "subject": "Yo {{ first_name }}", "body": BODY}]})).json()  # fmt: skip
        plan = (await client.get(f"{campaigns}/v1/campaigns/{created['id']}/preflight", headers=ADMIN)).json()
        member = await _a_member(client, urls, segment_id)
        await _check_preview_and_test_mail(client, campaigns, created, member, sink, m)

        await client.post(f"{campaigns}/v1/campaigns/{created['id']}/launch", headers=ADMIN)

        async def completed() -> bool:
            body = (await client.get(f"{campaigns}/v1/campaigns/{created['id']}", headers=ADMIN)).json()
            return body["status"] == "completed"

        await wait_for(completed, timeout=60)
        exposures = await _exposures(client, campaigns, created["id"])
        assert plan["audience"] == USERS and plan["skipped"] == {"no_email_consent": len(exposures["skipped"])}
        assert plan["held_out"] == len(exposures["held_out"])
        sent = Counter(e["variant_id"] for e in exposures["sent"])
        assert {v["variant_id"]: v["recipients"] for v in plan["variants"]} == dict(sent) and plan["sendable"] == sum(
            sent.values()
        )
        await _check_links_summary_and_attribution(client, campaigns, created, sink, m)


async def _a_member(client: httpx.AsyncClient, urls: dict[str, str], segment_id: str) -> dict[str, Any]:
    members = (await client.get(f"{urls['segmentation']}/v1/segments/{segment_id}/members", headers=ADMIN)).json()
    profile_id = members["items"][1]["profile_id"]
    return dict((await client.get(f"{urls['profiles']}/v1/profiles/{profile_id}", headers=ADMIN)).json())


async def _check_preview_and_test_mail(
    client: httpx.AsyncClient, campaigns: str, created: dict[str, Any], member: dict[str, Any], sink: Any, m: str
) -> None:
    first = member["traits"]["first_name"]
    body = {"subject": "Hi {{ first_name }}", "body": BODY, "profile_id": member["id"], "campaign_id": created["id"]}
    preview = (await client.post(f"{campaigns}/v1/campaigns/preview", json=body, headers=ADMIN)).json()
    assert preview["subject"] == f"Hi {first}" and f"Hello {first}" in preview["html"]
    assert "/v1/c/" in preview["html"] and "/v1/o/" in preview["html"] and preview["unsubscribe_url"] in preview["html"]
    broken = await client.post(f"{campaigns}/v1/campaigns/preview", headers=ADMIN,
                               json=body | {"body": "<p>{% for x in %}</p>"})  # fmt: skip
    assert broken.status_code == 422 and broken.json()["error"]["fields"][0]["field"] == "body"
    assert "line 1" in broken.json()["error"]["fields"][0]["reason"]
    me = f"tester-{m}@example.com"
    variant = created["variants"][0]["id"]
    answer = await client.post(f"{campaigns}/v1/campaigns/{created['id']}/test-send", headers=ADMIN,
                               json={"variant_id": variant, "profile_id": member["id"], "to": me})  # fmt: skip
    assert answer.status_code == 202, answer.text
    [test_mail] = await wait_for(lambda: _mail_to(sink, me))
    assert test_mail["Subject"] == f"[Test] Hi {first}" and test_mail["X-Tessera-Test"] == "1"
    click = await client.get(_link(test_mail, "c"), follow_redirects=False)  # counted nowhere
    assert click.status_code == 302


async def _mail_to(sink: Any, address: str) -> list[Any]:
    return list(sink.to(address))


async def _check_links_summary_and_attribution(
    client: httpx.AsyncClient, campaigns: str, created: dict[str, Any], sink: Any, m: str
) -> None:
    mine = [msg for msg in sink.messages if msg["To"].startswith(f"{m}-")]
    for message in mine[:3]:
        await client.get(_link(message, "c"), follow_redirects=False)

    async def counted() -> list[dict[str, Any]] | None:
        links = (await client.get(f"{campaigns}/v1/campaigns/{created['id']}/links", headers=ADMIN)).json()
        return links if links and links[0]["clicks"] == 3 else None

    [link] = await wait_for(counted, timeout=30)  # the test mail's click is not among them
    assert link["people"] == 3 and link["url"].startswith("https://shop.example/")
    summaries = (await client.get(f"{campaigns}/v1/campaigns/summary", headers=ADMIN)).json()
    [line] = [s for s in summaries if s["id"] == created["id"]]
    assert line["clicks"] == 3 and line["sent"] == len(mine) and line["status"] == "completed"
    results = f"{campaigns}/v1/campaigns/{created['id']}/results"
    linear = (await client.get(results, params={"attribution_model": "linear"}, headers=ADMIN)).json()
    assert linear["attributed"]["model"] == "linear"
