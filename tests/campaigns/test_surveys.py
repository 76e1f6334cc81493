"""Survey answers from tracked events (one per person and survey, the latest counts), the template helpers that
put signed answer links in a mail, and the reports by group, period and before/after."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import survey_reports, surveys
from services.campaigns.consumer import tracked_events
from services.campaigns.messages import LinkSigner, render_mail
from services.campaigns.models import SegmentMember, SurveyResponse
from shared.tokens import verify_token
from tests.conftest import LINK_SECRET

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)  # a Monday


def answer(survey_id: str, profile_id: str, score: Any, at: datetime, **props: Any) -> dict[str, Any]:
    """A `Survey Responded` event as tracking publishes it for a signed link."""
    return {"type": "track", "event": "Survey Responded", "messageId": f"m-{uuid.uuid4().hex}", "sourceId": "email",
            "sourceTrusted": True, "context": {"profileId": profile_id}, "timestamp": at.isoformat(),
            "receivedAt": at.isoformat(),
            "properties": {"survey_id": survey_id, "score": score} | props}  # fmt: skip


async def make_survey(session: AsyncSession, kind: str = "nps", **fields: Any) -> Any:
    return await surveys.create_survey(session, {"name": "After purchase", "kind": kind,
                                                 "question": "How likely are you to recommend us?"} | fields)  # fmt: skip


async def answers_of(session: AsyncSession, survey_id: str) -> dict[str, SurveyResponse]:
    rows = await session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id))
    return {r.profile_id: r for r in rows}


class TestRecordAnswers:
    async def test_the_latest_answer_counts_whatever_the_order(self, session: AsyncSession) -> None:
        survey = await make_survey(session)
        first, second, late = (answer(survey.id, "p1", 3, T0), answer(survey.id, "p1", 10, T0 + timedelta(hours=1),
                               text="Much better now"), answer(survey.id, "p1", 0, T0 - timedelta(days=1)))  # fmt: skip
        await surveys.record_answers(session, tracked_events([first]))
        await surveys.record_answers(session, tracked_events([second, late]))
        await surveys.record_answers(session, tracked_events([first, late]))  # a redelivery
        kept = (await answers_of(session, survey.id))["p1"]
        assert (kept.score, kept.comment, kept.answered_at) == (10, "Much better now", T0 + timedelta(hours=1))

    async def test_answers_off_the_scale_or_to_unknown_surveys_are_passed_over(self, session: AsyncSession) -> None:
        survey = await make_survey(session, "csat")
        await surveys.record_answers(session, tracked_events([answer(survey.id, "p1", 6, T0), answer(survey.id, "p2", 2.5, T0),
                                               answer(survey.id, "p3", True, T0), answer("nope", "p4", 3, T0),
                                               answer(survey.id, "p5", 4, T0, campaign_id="c1")]))  # fmt: skip
        found = await answers_of(session, survey.id)
        assert list(found) == ["p5"] and found["p5"].campaign_id == "c1"

    async def test_an_unsigned_answer_of_an_unknown_person_is_passed_over(self, session: AsyncSession) -> None:
        survey = await make_survey(session)
        event = answer(survey.id, "p1", 9, T0) | {"sourceId": "web", "sourceTrusted": False}
        await surveys.record_answers(session, tracked_events([event]))
        assert await answers_of(session, survey.id) == {}


class TestTemplateHelpers:
    async def test_survey_links_are_signed_one_per_score_and_not_redirected(self, session: AsyncSession) -> None:
        survey = await make_survey(session, "csat", product_id="sku-1")
        variant = {"subject": "How did we do?", "body": f'<p>Rate us</p>{{{{ survey_links("{survey.id}") }}}}'
                   f'<a href="{{{{ survey_url("{survey.id}") }}}}">Comment</a>'}  # fmt: skip
        specs = await surveys.linked_surveys(session, [variant])
        links = LinkSigner("https://t.example", LINK_SECRET, "c1", "v1", "p1", surveys=specs)
        html = render_mail(variant, {}, links).html
        tokens = re.findall(r'href="https://t\.example/v1/s/([^"]+)"', html)
        payloads = [verify_token(t, LINK_SECRET) for t in tokens]
        assert [p.get("n") for p in payloads] == [1, 2, 3, 4, 5, None]
        assert {(p["k"], p["s"], p["q"], p["p"], p["c"], p["r"]) for p in payloads} == {
            ("s", survey.id, "csat", "p1", "c1", "sku-1")
        }
        assert "/v1/c/" not in html.split("Comment")[0]  # answer links skip the click redirect

    async def test_a_survey_that_does_not_exist_fails_the_template(self, session: AsyncSession) -> None:
        from services.campaigns.templates import TemplateError

        links = LinkSigner("https://t.example", LINK_SECRET, "c1", "v1", "p1")
        with pytest.raises(TemplateError, match="does not exist"):
            render_mail({"subject": "s", "body": '{{ survey_links("gone") }}'}, {}, links)


class TestReports:
    async def test_groups_periods_and_before_after(self, session: AsyncSession) -> None:
        survey = await make_survey(session)
        scores = [10, 9, 3, 8, 10, 6, 9, 10]
        events = [answer(survey.id, f"p{i}", s, T0 + timedelta(days=3 * i), campaign_id="c1" if i < 4 else "c2")
                  for i, s in enumerate(scores)]  # fmt: skip
        await surveys.record_answers(session, tracked_events(events))
        session.add_all([SegmentMember(segment_id="vip", profile_id=f"p{i}", entered_at=T0) for i in (0, 1, 2)])
        await session.flush()
        report = await survey_reports.survey_report(session, survey, start=None, end=None, by="segment",
                                                    interval="week")  # fmt: skip
        assert report["total"]["responses"] == 8 and report["total"]["value"] == pytest.approx(100 * (5 - 2) / 8)
        assert [(g["key"], g["responses"]) for g in report["groups"]] == [(None, 5), ("vip", 3)]
        weeks = [(t["period"].isoformat(), t["responses"]) for t in report["trend"]]
        assert weeks == [("2026-11-02", 3), ("2026-11-09", 2), ("2026-11-16", 2), ("2026-11-23", 1)]
        by_campaign = await survey_reports.survey_report(session, survey, start=None, end=None, by="campaign",
                                                         interval="month")  # fmt: skip
        assert {g["key"]: g["responses"] for g in by_campaign["groups"]} == {"c1": 4, "c2": 4}
        split = T0 + timedelta(days=12)
        result = await survey_reports.before_after(session, survey, split=split, start=None, end=None)
        assert (result["before"]["responses"], result["after"]["responses"]) == (4, 4)
        assert result["difference"] == pytest.approx(result["after"]["value"] - result["before"]["value"])

    def test_periods_start_on_the_day_monday_or_first_of_the_month(self) -> None:
        at = datetime(2026, 11, 5, 23, tzinfo=UTC)  # a Thursday
        assert [survey_reports.period_of(at, i).isoformat() for i in ("day", "week", "month")] == [
            "2026-11-05", "2026-11-02", "2026-11-01"]  # fmt: skip
