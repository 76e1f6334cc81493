"""Feedback inbox: items with sentiment from events, computed traits, filters, answers, reports, erasure."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.app import create_app
from services.profiles.config import Settings
from services.profiles.erasure import erase
from services.profiles.feedback.models import FeedbackItem
from services.profiles.feedback.schemas import FeedbackStats, NegativeTermsRead
from services.profiles.feedback.service import FeedbackFilter, feedback_stats, list_feedback, negative_terms, respond
from services.profiles.ingest import apply_events
from services.profiles.models import SegmentMember
from services.profiles.service import lookup
from shared.bus import EventBuffer
from shared.errors import Conflict, Invalid, NotFound
from tests.builders import auth, service_settings
from tests.conftest import ANALYST_KEY, BACKENDS, MARKETER_KEY
from tests.helpers import running, wait_for
from tests.profiles.builders import T0, event, identify, page
from tests.profiles.test_api import send

ANALYST, MARKETER = auth(ANALYST_KEY), auth(MARKETER_KEY)
POINTS = {"Comment Posted": 1.0, "Review Submitted": 5.0, "Post Shared": 2.0}


def said(user_id: str, text: str | None, name: str = "Comment Posted", *, at: timedelta = timedelta(0),
         **properties: Any) -> dict[str, Any]:  # fmt: skip
    """A feedback event by a known user (`text` None: no text at all)."""
    props = properties | ({"text": text} if text is not None else {})
    return event(userId=user_id, event=name, at=at, properties=props)


async def apply(session: AsyncSession, *values: dict[str, Any], points: dict[str, float] = POINTS) -> EventBuffer:
    buffer = EventBuffer()
    await apply_events(session, list(values), buffer, points=points)
    return buffer


async def items(session: AsyncSession, **where: Any) -> list[FeedbackItem]:
    page_, _ = await list_feedback(session, FeedbackFilter(**where), cursor=None, limit=500)
    return list(page_)


async def profile_id(session: AsyncSession, user_id: str) -> str:
    return (await lookup(session, user_id=user_id, anonymous_id=None, email=None)).id


def published(buffer: EventBuffer, pid: str) -> dict[str, Any]:
    upserts = [m.value for m in buffer.messages if m.value.type == "profile.upserted.v1"]
    return next(u.computed for u in reversed(upserts) if u.profile_id == pid)


class TestInbox:
    async def test_feedback_events_become_items_with_sentiment(self, session: AsyncSession) -> None:
        await apply(session, said("ann", "I love this, works perfectly!", platform="instagram", post_id="p1"),
                    said("ann", "Terrible, it broke after one day.", "Review Submitted", product_id="sku-1", rating=1),
                    said("ann", "The package arrived on Tuesday.", "Survey Responded", score=7),
                    said("ann", None, "Brand Mentioned", platform="x"), event(userId="ann", event="Product Viewed"),
                    page("someone"))  # fmt: skip
        found = {i.event: i for i in await items(session)}
        assert set(found) == {"Comment Posted", "Review Submitted", "Survey Responded", "Brand Mentioned"}
        comment, review = found["Comment Posted"], found["Review Submitted"]
        assert (comment.label, comment.platform, comment.post_id, comment.status) == ("positive", "instagram", "p1",
                                                                                      "open")  # fmt: skip
        assert (comment.compound or 0) > 0.5 and comment.received_at == T0
        assert (review.label, review.product_id, review.rating) == ("negative", "sku-1", 1.0)
        assert (found["Survey Responded"].label, found["Survey Responded"].rating) == ("neutral", 7.0)
        assert found["Brand Mentioned"].compound is None and found["Brand Mentioned"].label is None
        assert {i.profile_id for i in found.values()} == {await profile_id(session, "ann")}

    async def test_replays_change_nothing(self, session: AsyncSession) -> None:
        values = [said("bob", "Great service!"), said("bob", "Awful delivery", "Feedback Submitted")]
        await apply(session, *values)
        buffer = await apply(session, *values, *values)
        assert await session.scalar(select(func.count()).select_from(FeedbackItem)) == 2
        assert buffer.messages == []

    async def test_average_sentiment_and_points_are_published(self, session: AsyncSession) -> None:
        buffer = await apply(session, said("cy", "I love it"), said("cy", "I hate it", "Review Submitted"),
                             said("cy", None, "Brand Mentioned"), event(userId="cy", event="Post Shared"))  # fmt: skip
        rows = await items(session)
        computed = published(buffer, await profile_id(session, "cy"))
        scores = [i.compound for i in rows if i.compound is not None]
        assert computed["average_sentiment"] == pytest.approx(sum(scores) / 2) and computed["sentiment_count"] == 2
        assert computed["points"] == 1 + 5 + 2

    async def test_points_follow_the_setting(self, session: AsyncSession) -> None:
        buffer = await apply(session, event(userId="dee", event="Contest Entered"), points={"Contest Entered": 10})
        computed = published(buffer, await profile_id(session, "dee"))
        assert computed["points"] == 10 and computed["average_sentiment"] is None

    async def test_a_merge_carries_items_and_traits_to_the_survivor(self, session: AsyncSession) -> None:
        await apply(session, event(anonymousId="anon-e", event="Comment Posted", properties={"text": "So good!"}),
                    said("eve", "Bad, really bad", "Review Submitted"))  # fmt: skip
        buffer = await apply(session, identify("eve", "anon-e", at=timedelta(minutes=5)))
        survivor = await profile_id(session, "eve")
        computed = published(buffer, survivor)
        assert computed["sentiment_count"] == 2 and computed["points"] == 6
        assert len({i.profile_id for i in await items(session)}) == 2  # rows stay on the profile they came from
        session.add(SegmentMember(segment_id="s-eve", profile_id=survivor, entered_at=T0))
        assert len(await items(session, segment_id="s-eve")) == 2


async def seeded(session: AsyncSession) -> dict[str, FeedbackItem]:
    """Five items over two days, two products, two users; `fay` is in segment `s-1`."""
    await apply(session, said("fay", "I love it", "Review Submitted", at=timedelta(hours=0), product_id="sku-1"),
                said("fay", "Battery died fast, awful", "Review Submitted", at=timedelta(hours=1), product_id="sku-1"),
                said("gus", "The battery is terrible and died", at=timedelta(hours=2), product_id="sku-1",
                     platform="facebook"),
                said("gus", "Awful screen, poor screen quality", at=timedelta(hours=25), product_id="sku-2",
                     platform="instagram"),
                said("gus", "It arrived on Monday", "Survey Responded", at=timedelta(hours=26)))  # fmt: skip
    session.add(SegmentMember(segment_id="s-1", profile_id=await profile_id(session, "fay"), entered_at=T0))
    return {i.text: i for i in await items(session)}


class TestList:
    async def test_filters(self, session: AsyncSession) -> None:
        by_text = await seeded(session)
        assert {i.text for i in await items(session, sentiment="negative", product="sku-1")} == {
            "Battery died fast, awful", "The battery is terrible and died"}  # fmt: skip
        assert [i.text for i in await items(session, platform="instagram")] == ["Awful screen, poor screen quality"]
        assert {i.text for i in await items(session, segment_id="s-1")} == {"I love it", "Battery died fast, awful"}
        assert len(await items(session, start=T0 + timedelta(hours=24))) == 2
        assert len(await items(session, end=T0 + timedelta(hours=24))) == 3
        survey_comments = await items(session, event="Survey Responded")
        assert [(i.text, i.label) for i in survey_comments] == [("It arrived on Monday", "neutral")]
        await respond(session, by_text["I love it"].id, close=False)
        assert [i.text for i in await items(session, status="responded")] == ["I love it"]

    async def test_newest_first_with_a_cursor(self, session: AsyncSession) -> None:
        await seeded(session)
        first, cursor = await list_feedback(session, FeedbackFilter(), cursor=None, limit=3)
        second, last = await list_feedback(session, FeedbackFilter(), cursor=cursor, limit=3)
        times = [i.received_at for i in [*first, *second]]
        assert len(times) == 5 and times == sorted(times, reverse=True) and last is None


class TestRespond:
    async def test_respond_then_close(self, session: AsyncSession) -> None:
        item = (await seeded(session))["I love it"]
        answered = await respond(session, item.id, close=False, at=T0 + timedelta(minutes=30))
        assert (answered.status, answered.responded_at) == ("responded", T0 + timedelta(minutes=30))
        closed = await respond(session, item.id, close=True)
        assert (closed.status, closed.responded_at) == ("closed", T0 + timedelta(minutes=30))

    async def test_errors(self, session: AsyncSession) -> None:
        item = (await seeded(session))["I love it"]
        with pytest.raises(NotFound):
            await respond(session, "nope", close=False)
        with pytest.raises(Invalid):
            await respond(session, item.id, close=False, at=T0 - timedelta(hours=1))
        await respond(session, item.id, close=False)
        with pytest.raises(Conflict):
            await respond(session, item.id, close=False)
        await respond(session, item.id, close=True)
        with pytest.raises(Conflict):
            await respond(session, item.id, close=True)


class TestReports:
    async def test_stats_by_product_worked_out_by_hand(self, session: AsyncSession) -> None:
        by_text = await seeded(session)
        hours = {"I love it": 0.5, "Battery died fast, awful": 3, "The battery is terrible and died": 20}
        for text, after in hours.items():
            await respond(session, by_text[text].id, close=False, at=by_text[text].received_at + timedelta(hours=after))
        report = await feedback_stats(session, FeedbackFilter(), by="product")
        total = report["total"]
        assert total["items"] == 5 and total["answered"] == 3
        assert total["mean_response_hours"] == pytest.approx(23.5 / 3, abs=1e-4)
        assert total["median_response_hours"] == 3
        assert (total["answered_within_1h"], total["answered_within_24h"]) == (0.2, 0.6)
        assert {k: v["count"] for k, v in total["sentiment"].items()} == {"positive": 1, "negative": 3, "neutral": 1}
        assert [(d["day"], d["count"]) for d in total["daily"]] == [("2026-11-01", 3), ("2026-11-02", 2)]
        groups = {g["key"]: g for g in report["groups"]}
        assert [g["key"] for g in report["groups"]] == ["sku-1", None, "sku-2"]  # most items first
        assert groups["sku-1"]["items"] == 3 and groups["sku-1"]["median_response_hours"] == 3
        assert groups["sku-2"]["answered"] == 0 and groups["sku-2"]["sentiment"]["negative"]["share"] == 1.0

    async def test_stats_by_segment_and_window(self, session: AsyncSession) -> None:
        await seeded(session)
        window = FeedbackFilter(start=T0, end=T0 + timedelta(hours=24))
        report = await feedback_stats(session, window, by="segment")
        assert report["total"]["items"] == 3
        groups = {g["key"]: g["items"] for g in report["groups"]}
        assert groups == {"s-1": 2, None: 1}

    async def test_the_typed_answers_keep_every_figure(self, session: AsyncSession) -> None:
        await seeded(session)
        report = await feedback_stats(session, FeedbackFilter(), by="product")
        assert FeedbackStats.model_validate(report).model_dump(by_alias=True) == report
        terms = {"products": await negative_terms(session, FeedbackFilter())}
        assert NegativeTermsRead.model_validate(terms).model_dump() == terms

    async def test_negative_terms_per_product(self, session: AsyncSession) -> None:
        await seeded(session)
        found = {p["product_id"]: p for p in await negative_terms(session, FeedbackFilter())}
        assert list(found) == ["sku-1", "sku-2"] and found["sku-1"]["negative_items"] == 2
        assert found["sku-1"]["terms"][:3] == [{"term": "battery", "count": 2}, {"term": "died", "count": 2},
                                               {"term": "awful", "count": 1}]  # fmt: skip
        assert {"term": "screen", "count": 1} in found["sku-2"]["terms"]  # twice in one text: counted once
        only = await negative_terms(session, FeedbackFilter(product="sku-2"))
        assert [p["product_id"] for p in only] == ["sku-2"]


class TestErase:
    async def test_erase_deletes_the_items_of_the_profile_and_of_those_merged_into_it(
        self, session: AsyncSession
    ) -> None:
        await apply(session, event(anonymousId="anon-h", event="Comment Posted", properties={"text": "Nice"}),
                    said("hal", "Bad"), identify("hal", "anon-h", at=timedelta(minutes=1)), said("ivy", "Fine"))  # fmt: skip
        await erase(session, await profile_id(session, "hal"), EventBuffer())
        assert [i.text for i in await items(session)] == ["Fine"]


@pytest.fixture(scope="module", params=BACKENDS)
async def profiles(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A profiles app with its consumer running against the session broker."""
    url = await fresh_database(request.param, "feedback")
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("fb"),
                                consumer_group=f"feedback-{uuid.uuid4().hex[:6]}")  # fmt: skip
    async with running(create_app(settings)) as client:
        yield client


class TestApi:
    async def test_events_over_the_broker_to_the_inbox_answers_and_reports(
        self, profiles: httpx.AsyncClient, broker: str
    ) -> None:
        m = uuid.uuid4().hex[:8]
        product = f"sku-{m}"
        await send(broker, said(f"u-{m}", "I love it!", "Review Submitted", product_id=product),
                   said(f"u-{m}", "The battery is awful", "Review Submitted", product_id=product))  # fmt: skip

        async def listed() -> list[dict[str, Any]] | None:
            response = await profiles.get("/v1/feedback", params={"product": product}, headers=ANALYST)
            return response.json()["items"] if len(response.json()["items"]) == 2 else None

        negative = next(i for i in await wait_for(listed, timeout=20) if i["label"] == "negative")
        path = f"/v1/feedback/{negative['id']}/respond"
        assert (await profiles.post(path, headers=ANALYST)).status_code == 403
        answered = await profiles.post(path, headers=MARKETER)
        assert answered.status_code == 200 and answered.json()["status"] == "responded"
        assert (await profiles.post(path, headers=MARKETER)).status_code == 409
        closed = await profiles.post(path, json={"close": True}, headers=MARKETER)
        assert closed.json()["status"] == "closed" and closed.json()["responded_at"] == answered.json()["responded_at"]
        assert (await profiles.post("/v1/feedback/nope/respond", headers=MARKETER)).status_code == 404
        stats = (await profiles.get("/v1/feedback/stats", params={"product": product}, headers=ANALYST)).json()
        assert stats["total"]["items"] == 2 and stats["total"]["answered"] == 1
        terms = (await profiles.get("/v1/feedback/terms", params={"product": product}, headers=ANALYST)).json()
        assert terms["products"][0]["terms"][0] == {"term": "awful", "count": 1}
        person = (await profiles.get("/v1/profiles/lookup", params={"user_id": f"u-{m}"}, headers=ANALYST)).json()
        assert person["computed"]["points"] == 10 and person["computed"]["sentiment_count"] == 2

    async def test_bad_query_parameters_name_the_field(self, profiles: httpx.AsyncClient) -> None:
        bad = await profiles.get("/v1/feedback", params={"sentiment": "angry"}, headers=ANALYST)
        assert bad.status_code == 422 and "sentiment" in bad.text
        window = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z", "by": "segment"}
        backwards = await profiles.get("/v1/feedback/stats", params=window, headers=ANALYST)
        assert backwards.status_code == 422 and "to" in backwards.text
        assert (await profiles.get("/v1/feedback/stats", params={"by": "colour"}, headers=ANALYST)).status_code == 422
        assert (await profiles.get("/v1/feedback", params={"cursor": "%%%"}, headers=ANALYST)).status_code == 400
