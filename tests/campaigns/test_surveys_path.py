"""Surveys over HTTP on real apps, database and broker: a signed answer link from a mail → tracking's hosted page →
`Survey Responded` on Kafka → campaigns' consumer → the NPS in the report; and bad input answered with 4xx."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.campaigns import satisfaction
from services.campaigns.messages import LinkSigner, render_mail
from services.tracking.app import create_app as create_tracking
from services.tracking.config import Settings as TrackingSettings
from tests.builders import auth, service_settings
from tests.campaigns.test_api import campaigns_app
from tests.conftest import ANALYST_KEY, BACKENDS, LINK_SECRET, MARKETER_KEY
from tests.helpers import running, wait_for

ANALYST, MARKETER = auth(ANALYST_KEY), auth(MARKETER_KEY)
TRACKING = "http://tracking.test"


@pytest.fixture(scope="module", params=BACKENDS)
async def apps(
    request: pytest.FixtureRequest, broker: str, fresh_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients of a campaigns app and a tracking app on one broker."""
    campaigns_url = await fresh_database(request.param, "campaigns")
    tracking_url = await fresh_database(request.param, "tracking")
    campaigns = campaigns_app(broker, campaigns_url, tmp_path_factory.mktemp("sc"), tracking_public_url=TRACKING)
    tracking = create_tracking(service_settings(TrackingSettings, broker=broker, database_url=tracking_url,
                                                data_dir=tmp_path_factory.mktemp("st"), rate_limit_per_second=0,
                                                email_rate_limit_per_second=0))  # fmt: skip
    async with running(campaigns) as c, running(tracking, TRACKING) as t:
        yield c, t


async def _survey(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "NPS after delivery", "kind": "nps", "question": "Would you recommend us to a friend?"} | fields
    response = await client.post("/v1/surveys", json=body, headers=MARKETER)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _mailed_links(survey: dict[str, Any], profile_id: str) -> dict[int, str]:
    """The answer links of a campaign mail rendered for one recipient: score → URL."""
    spec = {"s": survey["id"], "q": survey["kind"], "x": survey["question"], "m": 1}
    links = LinkSigner(TRACKING, LINK_SECRET, "camp1", "var1", profile_id, surveys={survey["id"]: spec})
    html = render_mail({"subject": "How was it?", "body": f'{{{{ survey_links("{survey["id"]}") }}}}'}, {}, links).html
    return {int(n): url for url, n in re.findall(r'href="(http://tracking\.test/v1/s/[^"]+)"[^>]*>(\d+)</a>', html)}


async def test_answers_through_mailed_links_become_the_nps_in_the_report(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    campaigns, tracking = apps
    survey = await _survey(campaigns)
    answers = {f"p-{uuid.uuid4().hex[:8]}": score for score in (10, 9, 9, 8, 7, 6, 3, 10, 0, 9)}
    first_try = next(iter(answers))
    for profile_id, score in [(first_try, 2), *answers.items()]:  # the first person changes their mind: 2 → 10
        link = _mailed_links(survey, profile_id)[score]
        page = await tracking.get(link)
        assert page.status_code == 200 and "Would you recommend us" in page.text
        assert f'value="{score}" required checked' in page.text  # the score clicked in the mail is chosen
        sent = await tracking.post(link, content=f"score={score}&comment=Fast+delivery", headers={
            "content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert sent.status_code == 200, sent.text

    async def reported() -> dict[str, Any] | None:
        report = (await campaigns.get(f"/v1/surveys/{survey['id']}/report", params={"by": "campaign"},
                                      headers=ANALYST)).json()  # fmt: skip
        return report if report["total"]["responses"] == len(answers) else None

    report = await wait_for(reported, timeout=30)
    expected = satisfaction.score("nps", list(answers.values()))
    assert report["total"]["value"] == pytest.approx(expected.value) == pytest.approx(100 * (5 - 3) / 10)
    assert report["total"]["ci_low"] == pytest.approx(expected.ci_low)
    assert report["groups"] == [{"key": "camp1"} | report["total"]]
    assert report["last_answer_at"] is not None
    responses = (await campaigns.get(f"/v1/surveys/{survey['id']}/responses", headers=ANALYST)).json()
    assert {r["profile_id"]: r["score"] for r in responses} == answers and responses[0]["comment"] == "Fast delivery"


async def test_the_hosted_page_link_records_an_answer_for_its_person(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    campaigns, tracking = apps
    survey = await _survey(campaigns, kind="ces", question="How easy was it?", ask_comment=False)
    link = (await campaigns.get(f"/v1/surveys/{survey['id']}/link", params={"profile_id": "p-hosted"},
                                headers=MARKETER)).json()["url"]  # fmt: skip
    page = await tracking.get(link)
    assert page.status_code == 200 and "<textarea" not in page.text and 'value="7"' in page.text
    assert (await tracking.post(link, data={"score": "6"})).status_code == 200

    async def answered() -> list[Any] | None:
        rows = (await campaigns.get(f"/v1/surveys/{survey['id']}/responses", headers=ANALYST)).json()
        return rows or None

    assert [(r["profile_id"], r["score"]) for r in await wait_for(answered, timeout=30)] == [("p-hosted", 6)]


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "x", "kind": "stars", "question": "?"}, "body.kind"),
            ({"name": "", "kind": "nps", "question": "?"}, "body.name"),
            ({"name": "x", "kind": "nps", "question": "?" * 301}, "body.question"),
            ({"name": "x", "kind": "nps", "question": "?", "colour": "red"}, "body.colour"),
        ],
    )
    async def test_a_bad_survey_is_refused_naming_the_field(
        self, apps: tuple[httpx.AsyncClient, httpx.AsyncClient], body: dict[str, Any], field: str
    ) -> None:
        response = await apps[0].post("/v1/surveys", json=body, headers=MARKETER)
        assert response.status_code == 422 and field in [f["field"] for f in response.json()["error"]["fields"]]

    async def test_reports_refuse_bad_windows_and_unknown_surveys(
        self, apps: tuple[httpx.AsyncClient, httpx.AsyncClient]
    ) -> None:
        campaigns = apps[0]
        survey = await _survey(campaigns)
        url = f"/v1/surveys/{survey['id']}"
        cases = [
            (f"{url}/report", {"from": "2026-12-01", "to": "2026-11-01"}, 422, "from"),
            (f"{url}/report", {"by": "colour"}, 422, "query.by"),
            (f"{url}/report", {"from": "yesterday"}, 422, "query.from"),
            (f"{url}/before-after", {}, 422, "query.split"),
            (f"{url}/before-after", {"split": "2026-11-01", "from": "2026-11-02"}, 422, "from"),
            ("/v1/surveys/nope/report", {}, 404, None),
        ]
        for path, params, code, field in cases:
            response = await campaigns.get(path, params=params, headers=ANALYST)
            assert response.status_code == code, (path, params, response.text)
            if field:
                assert field in [f["field"] for f in response.json()["error"]["fields"]], response.text

    async def test_analysts_read_but_do_not_write(self, apps: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
        campaigns = apps[0]
        body = {"name": "x", "kind": "csat", "question": "?"}
        assert (await campaigns.post("/v1/surveys", json=body, headers=ANALYST)).status_code == 403
        assert (await campaigns.get("/v1/surveys", headers=ANALYST)).status_code == 200

    async def test_a_bad_answer_or_link_is_refused(self, apps: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
        campaigns, tracking = apps
        survey = await _survey(campaigns, kind="csat", question="Happy?")
        link = _mailed_links(survey, "p-bad")[4]
        for form, field in [({"score": "6"}, "score"), ({"score": "x"}, "score"), ({}, "score"),
                            ({"score": "4", "comment": "y" * 2001}, "comment")]:  # fmt: skip
            response = await tracking.post(link, data=form)
            assert response.status_code == 422, response.text
            assert response.json()["error"]["fields"][0]["field"] == field
        forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
        assert (await tracking.get(forged)).status_code == 400
        assert (await tracking.post(forged, data={"score": "4"})).status_code == 400
