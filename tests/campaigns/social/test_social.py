"""Social media on a real database: imports with refused rows, engagement maths checked by hand, competitors and
share of voice, influencer reports from tracked events, contests and user content; the API's statuses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.app import create_app
from services.campaigns.config import Settings
from services.campaigns.consumer import handle_events, tracked_events
from services.campaigns.social import competitors, influencers
from services.campaigns.social import service as social
from services.campaigns.social.consumer import handle_tracked_events
from services.campaigns.social.imports import import_metrics, import_posts
from services.campaigns.social.models import Influencer, SocialPost, SocialPostMetric
from services.campaigns.social.schemas import InfluencerCreate
from shared.bus import EventBuffer
from shared.consuming import Received
from shared.errors import DomainError, NotFound
from tessera.broker import free_port
from tests.builders import auth, service_settings
from tests.conftest import ANALYST_KEY, BACKENDS, MARKETER_KEY

ANALYST, MARKETER = auth(ANALYST_KEY), auth(MARKETER_KEY)
CSV, JSON = "text/csv", "application/json"
FIGURES = ("impressions", "reach", "likes", "comments", "shares", "saves", "clicks", "followers")
DAY1, DAY2, DAY3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)
POST_COLUMNS = "platform,post_id,author,published_at,content_type,text,campaign,influencer_id,competitor,competitor_handle"  # fmt: skip


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def tracked(name: str, *, when: datetime, user: str = "u1", **fields: Any) -> dict[str, Any]:
    """An event as tracking publishes it (a page view when `name` is "page")."""
    kind = {"type": "page", "name": "Landing"} if name == "page" else {"type": "track", "event": name}
    moment = when.isoformat()
    return kind | {"messageId": uuid.uuid4().hex, "userId": user, "timestamp": moment, "receivedAt": moment,
                   "sourceId": "s", **fields}  # fmt: skip


def post(post_id: str, **overrides: Any) -> dict[str, Any]:
    return {"platform": "instagram", "post_id": post_id, "author": "@Tessera", "published_at": at(DAY1).isoformat(),
            "content_type": "image", "text": f"post {post_id}"} | overrides  # fmt: skip


def metric(post_id: str, day: date, **values: Any) -> dict[str, Any]:
    return {"platform": "instagram", "post_id": post_id, "date": day.isoformat()} | values


async def load(session: AsyncSession, posts: list[dict[str, Any]], metrics: list[dict[str, Any]]) -> None:
    for importer, rows in ((import_posts, posts), (import_metrics, metrics)):
        result = await importer(session, orjson.dumps(rows), JSON)
        assert result["rejected"] == [], result


class TestImports:
    async def test_csv_posts_are_stored_and_bad_rows_named_by_file_line(self, session: AsyncSession) -> None:
        body = "\n".join([
            POST_COLUMNS,
            "instagram,p1,@Tessera,2026-03-02T10:00:00+00:00,image,Hello,spring,,false,",
            'Instagram,p2,tessera,2026-03-02,VIDEO,"two\nlines",,,,',
            "instagram,p3,tessera,2026-03-02,podcast,x,,,,",
            "",
            "instagram,,tessera,not a date,image,x,,,,",
            "tiktok,r1,Rival,2026-03-02,video,x,,,true,",
            "instagram,p4,tessera",
        ]).encode()  # fmt: skip
        result = await import_posts(session, body, CSV)
        assert result["accepted"] == 3
        assert [(r["line"], r["field"]) for r in result["rejected"]] == [
            (5, "content_type"), (7, "post_id"), (7, "published_at"), (9, "row"),
        ]  # fmt: skip
        p2 = await session.get(SocialPost, ("instagram", "p2"))
        assert p2 is not None and (p2.content_type, p2.text, p2.author) == ("video", "two\nlines", "tessera")
        rival = await session.get(SocialPost, ("tiktok", "r1"))
        assert rival is not None and rival.competitor and rival.competitor_handle == "rival"

    async def test_json_metrics_are_upserted_and_bad_rows_named_by_index(self, session: AsyncSession) -> None:
        await load(session, [post("m1")], [])
        rows = [metric("m1", DAY1, impressions=100, reach=80, likes=5), metric("m1", DAY2, likes=-1),
                metric("nope", DAY1), metric("m1", DAY2, impressions=10, reach=20), "not a row",
                metric("m1", DAY2, impressions={"x": 1}, followers="many")]  # fmt: skip
        result = await import_metrics(session, orjson.dumps(rows), JSON)
        assert result["accepted"] == 1
        assert [(r["line"], r["field"]) for r in result["rejected"]] == [
            (1, "likes"), (2, "post_id"), (3, "reach"), (4, "row"), (5, "impressions"), (5, "followers"),
        ]  # fmt: skip
        again = await import_metrics(session, orjson.dumps([metric("m1", DAY1, impressions=120, reach=90)]), JSON)
        assert again == {"accepted": 1, "rejected": []}
        stored = await session.get(SocialPostMetric, ("instagram", "m1", DAY1))
        assert stored is not None and (stored.impressions, stored.reach, stored.likes) == (120, 90, 0)

    async def test_posts_name_only_known_influencers(self, session: AsyncSession) -> None:
        anna = await new_influencer(session)
        rows = [post("i1", influencer_id=anna.id), post("i2", influencer_id="nobody")]
        result = await import_posts(session, orjson.dumps(rows), JSON)
        assert result == {"accepted": 1, "rejected": [{"line": 1, "field": "influencer_id",
                                                         "reason": "no influencer with this id"}]}  # fmt: skip


def influencer_fields(**overrides: Any) -> dict[str, Any]:
    return {"name": "Anna", "platform": "instagram", "handle": "anna", "referral_codes": ["anna10"],
            "utm_campaigns": ["anna_spring"]} | overrides  # fmt: skip


async def new_influencer(session: AsyncSession, **overrides: Any) -> Influencer:
    """An influencer registered as the API does it (validated and normalised first)."""
    return await influencers.create_influencer(session, InfluencerCreate(**influencer_fields(**overrides)).model_dump())


async def engagement_fixture(session: AsyncSession) -> None:
    """Three posts of ours and one competitor's, with metrics on three days."""
    posts = [post("A", campaign="spring"), post("B", content_type="video", campaign="spring"),
             post("C", platform="tiktok", content_type="video"),
             post("X", competitor=True, competitor_handle="rival")]  # fmt: skip
    rows = [
        ("A", DAY1, 1000, 800, 50, 10, 5, 5, 20, 10000),
        ("A", DAY2, 500, 400, 20, 5, 3, 2, 10, 10100),
        ("A", DAY3, 9999, 9999, 999, 0, 0, 0, 0, 99999),
        ("B", DAY1, 2000, 1500, 100, 20, 30, 10, 40, 10000),
        ("C", DAY2, 400, 300, 30, 6, 12, 2, 4, None),
        ("X", DAY1, 50000, 40000, 5000, 0, 0, 0, 0, 80000),
    ]
    metrics = [metric(p, d, **dict(zip(FIGURES, v, strict=True))) | ({"platform": "tiktok"} if p == "C" else {})
               for p, d, *v in rows]  # fmt: skip
    await load(session, posts, metrics)


class TestEngagement:
    async def test_rates_per_platform_match_the_hand_computed_figures(self, session: AsyncSession) -> None:
        await engagement_fixture(session)
        report = await social.engagement_report(session, social.Period(DAY1, DAY2), "platform")
        instagram, tiktok = report["groups"]
        # Instagram = A (days 1-2) + B: 260 engagements = likes 170 + comments 35 + shares 38 + saves 17.
        assert (instagram["key"], instagram["posts"], instagram["impressions"], instagram["reach"]) == (
            "instagram", 2, 3500, 2700)  # fmt: skip
        assert (instagram["engagements"], instagram["clicks"], instagram["followers"]) == (260, 70, 10100 + 10000)
        assert instagram["ctr"] == pytest.approx(70 / 3500, abs=1e-6)
        assert instagram["engagement_rate_by_reach"] == pytest.approx(260 / 2700, abs=1e-6)
        assert instagram["engagement_rate_by_impressions"] == pytest.approx(260 / 3500, abs=1e-6)
        assert instagram["engagement_rate_by_followers"] == pytest.approx(260 / 20100, abs=1e-6)
        assert instagram["amplification_rate"] == pytest.approx(38 / 20100, abs=1e-6)
        assert instagram["virality_rate"] == pytest.approx(38 / 3500, abs=1e-6)
        assert (tiktok["engagements"], tiktok["engagement_rate_by_followers"]) == (50, None)  # no follower count
        assert report["total"]["impressions"] == 3900 and report["total"]["engagements"] == 310
        assert report["total"]["engagement_rate_by_followers"] == pytest.approx(260 / 20100, abs=1e-6)
        assert report["engagement"]["engagements"] == "likes + comments + shares + saves"

    async def test_daily_trend_and_top_content(self, session: AsyncSession) -> None:
        await engagement_fixture(session)
        report = await social.engagement_report(session, social.Period(DAY1, DAY2), "content_type")
        assert [(d["date"], d["impressions"], d["engagements"]) for d in report["daily"]] == [
            ("2026-03-02", 3000, 230), ("2026-03-03", 900, 80)]  # fmt: skip
        # C 50/300, B 160/1500, A 100/1200.
        assert [p["post_id"] for p in report["top_content"]] == ["C", "B", "A"]
        assert report["top_content"][0]["engagement_rate_by_reach"] == pytest.approx(50 / 300, abs=1e-6)
        assert {g["key"]: g["posts"] for g in report["groups"]} == {"video": 2, "image": 1}

    async def test_by_post_and_by_campaign_leave_competitors_out(self, session: AsyncSession) -> None:
        await engagement_fixture(session)
        by_post = await social.engagement_report(session, social.Period(), "post")
        assert {g["post_id"] for g in by_post["groups"]} == {"A", "B", "C"}
        a = next(g for g in by_post["groups"] if g["post_id"] == "A")
        assert a["impressions"] == 1000 + 500 + 9999 and a["followers"] == 99999  # latest count when unbounded
        by_campaign = await social.engagement_report(session, social.Period(DAY1, DAY2), "campaign")
        assert {g["key"]: g["engagements"] for g in by_campaign["groups"]} == {"spring": 260, None: 50}

    async def test_an_empty_period_and_a_reversed_one(self, session: AsyncSession) -> None:
        report = await social.engagement_report(session, social.Period(date(2001, 1, 1), date(2001, 1, 2)), "post")
        assert report["groups"] == [] and report["total"]["ctr"] is None and report["top_content"] == []
        with pytest.raises(DomainError) as raised:
            social.Period(DAY2, DAY1)
        assert raised.value.status_code == 422 and raised.value.fields[0]["field"] == "from"


class TestCompetitors:
    async def test_side_by_side_with_share_of_voice(self, session: AsyncSession) -> None:
        await engagement_fixture(session)
        await load(session, [post("Y", content_type="video", competitor=True, competitor_handle="@Rival",
                                  published_at=at(DAY2).isoformat())], [])  # fmt: skip
        when = at(DAY2)
        mentions = [
            tracked("Brand Mentioned", when=when, properties={"brand": "@Tessera", "platform": "Instagram"}),
            tracked("Brand Mentioned", when=when, properties={"handle": "tessera", "platform": "instagram"}),
            tracked("Brand Mentioned", when=when, properties={"brand": "TESSERA", "platform": "x"}),
            tracked("Brand Mentioned", when=when, properties={"brand": "rival"}),
            tracked("Brand Mentioned", when=when, properties={"brand": "someone_else"}),
            tracked("Brand Mentioned", when=at(DAY1 - timedelta(days=30)), properties={"brand": "rival"}),
        ]
        await handle_tracked_events(session, tracked_events(mentions + mentions[:2]))  # a redelivery changes nothing
        period = competitors.competitor_period(DAY1, DAY1 + timedelta(days=13), DAY1)
        report = await competitors.competitors_report(session, period, brand=[])
        us, rival = report["brands"]
        assert report["us"] == {"handles": ["tessera"], "from": "our posts' authors"}
        assert (us["is_us"], us["posts_published"], us["posts_per_week"], us["mentions"]) == (True, 3, 1.5, 3)
        assert us["content_mix"] == {"image": pytest.approx(1 / 3, abs=1e-6), "video": pytest.approx(2 / 3, abs=1e-6)}
        assert us["mentions_by_platform"] == {"instagram": 2, "x": 1}
        assert (rival["brand"], rival["posts_published"], rival["content_mix"]) == (
            "rival",
            2,
            {"image": 0.5, "video": 0.5},
        )
        assert rival["engagement_rate_by_reach"] == pytest.approx(5000 / 40000, abs=1e-6)
        assert (us["share_of_voice"], rival["share_of_voice"]) == (0.75, 0.25)
        assert report["mentions"] == {"tracked": 4, "untracked": 1}
        assert rival["followers"]["start"] == 80000 and us["followers"]["growth"] == 99999 - 10000

    async def test_brand_parameter_names_our_handles(self, session: AsyncSession) -> None:
        await engagement_fixture(session)
        await handle_tracked_events(
            session, tracked_events([tracked("Brand Mentioned", when=at(DAY1), properties={"brand": "tess"})])
        )
        report = await competitors.competitors_report(session, social.Period(DAY1, DAY1), brand=["tess"])
        assert report["brands"][0]["mentions"] == 1 and report["brands"][0]["share_of_voice"] == 1.0
        assert report["brands"][0]["posts_per_week"] == 21.0  # three posts in one day

    def test_default_period_is_the_last_28_days(self) -> None:
        today = date(2026, 3, 31)
        assert competitors.competitor_period(None, None, today) == social.Period(date(2026, 3, 4), today)
        assert competitors.competitor_period(DAY1, None, today).end == DAY1 + timedelta(days=27)


class TestInfluencers:
    async def test_report_from_posts_and_recorded_events(self, session: AsyncSession) -> None:
        anna = await new_influencer(session, referral_codes=["ANNA10", "anna10"])
        assert anna.referral_codes == ["anna10"]
        await load(session, [post("a1", author="anna", influencer_id=anna.id)],
                   [metric("a1", DAY1, impressions=1000, reach=900, likes=80, comments=10, shares=9, saves=1,
                           followers=5000),
                    metric("a1", DAY3, impressions=500, reach=400, likes=40, followers=5600)])  # fmt: skip
        utm = {"campaign": {"name": "Anna_Spring", "source": "instagram"}}
        coded = {"coupon": "ANNA10", "order_id": "o1", "revenue": 50}  # sent twice: one order
        events = [
            tracked("page", when=at(DAY1, 9), context=utm), tracked("page", when=at(DAY1, 10), context=utm),
            tracked("page", when=at(DAY2), context=utm),
            tracked("page", when=at(DAY1), user="u2", context=utm | {"sessionId": "s1"}),
            tracked("page", when=at(DAY2), user="u2", context=utm | {"sessionId": "s1"}),
            tracked("page", when=at(DAY1), user="u3", context={"campaign": {"name": "other"}}),
            tracked("page", when=at(DAY1), user="u4"),
            tracked("Signed Up", when=at(DAY1), user="u5", properties={"referral_code": "Anna10"}),
            tracked("Signed Up", when=at(DAY1), user="u6"),
            *[tracked("Order Completed", when=at(DAY2), user="u5", properties=coded) for _ in range(2)],
            tracked("Order Completed", when=at(DAY2), context=utm, properties={"order_id": "o2", "total": "30.5"}),
            tracked("Order Completed", when=at(DAY2), user="u7", properties={"coupon": "other", "revenue": 99}),
            tracked("Order Completed", when=at(DAY3 + timedelta(days=5)), properties=coded | {"order_id": "o3"}),
        ]  # fmt: skip
        messages = [Received("tessera.events.v1", 0, i, None, e) for i, e in enumerate(events + events[:3])]
        await handle_events(session, messages, EventBuffer())
        await handle_events(session, messages, EventBuffer())  # replayed: nothing counts twice
        report = await influencers.influencer_report(session, anna, social.Period(DAY1, DAY3))
        assert (report["sessions"], report["signups"], report["orders"], report["revenue"]) == (3, 1, 2, 80.5)
        assert report["order_rate"] == pytest.approx(2 / 3, abs=1e-6)
        assert report["followers"] == {"start": 5000, "end": 5600, "growth": 600, "growth_rate": 0.12}
        assert (report["posts"]["reach"], report["posts"]["engagements"]) == (1300, 140)
        assert report["posts"]["engagement_rate_by_reach"] == pytest.approx(140 / 1300, abs=1e-6)

    async def test_events_that_cannot_be_stored_are_passed_over(self, session: AsyncSession) -> None:
        odd = [None, [], {"type": "track", "event": ["x"]}, tracked("Signed Up", when=at(DAY1), properties=[1]),
               tracked("Contest Entered", when=at(DAY1), properties={"contest_id": {"a": 1}}),
               tracked("Brand Mentioned", when=at(DAY1), properties={"brand": "@"}),
               tracked("Contest Entered", when=at(DAY1), properties={"contest_id": "k"}) | {"timestamp": "soon"},
               tracked("Contest Entered", when=at(DAY1), properties={"contest_id": "k"}) | {"userId": None},
               tracked("Content Submitted", when=at(DAY1), properties={"content_id": "x\x00" * 300, "url": 5}),
               tracked("Order Completed", when=at(DAY1), context={"campaign": {"name": "c"}},
                       properties={"revenue": "NaN"})]  # fmt: skip
        await handle_tracked_events(session, tracked_events(odd))
        content = await social.list_content(session, status="pending", contest_id=None, offset=0, limit=10)
        assert [len(c.id) for c in content[0]] == [200]


class TestContests:
    async def test_participation_and_user_content_review(self, session: AsyncSession) -> None:
        contest = f"k-{uuid.uuid4().hex[:6]}"
        await load(session, [post("k1", campaign=contest)], [metric("k1", DAY1, impressions=150, reach=100, shares=7)])
        entered = [tracked("Contest Entered", when=at(DAY1), user=u, properties={"contest_id": contest})
                   for u in ("u1", "u2", "u1")]  # fmt: skip
        submitted = [tracked("Content Submitted", when=at(DAY1, h), properties={"content_id": f"{contest}-c{h}",
                     "contest_id": contest, "type": "Photo", "url": "https://x/1.jpg"}) for h in (1, 2)]  # fmt: skip
        loose = tracked("Content Submitted", when=at(DAY2), properties={"type": "video"})
        await handle_tracked_events(session, tracked_events([*entered, *submitted, loose]))
        report = await social.contest_report(session, contest, reach=None)
        assert (report["entries"], report["participants"], report["people_reached"]) == (3, 2, 100)
        assert report["participation_rate"] == 0.02 and report["posts"]["shares"] == 7
        assert report["user_content"] == {"pending": 2, "approved": 0, "rejected": 0, "total": 2}
        assert (await social.contest_report(session, contest, reach=50))["participation_rate"] == 0.04

        reviewed = await social.review_content(session, f"{contest}-c1", "approved")
        assert reviewed.status == "approved" and reviewed.reviewed_at is not None
        await handle_tracked_events(session, tracked_events(submitted))  # a redelivery does not undo the review
        assert (await social.contest_report(session, contest, reach=None))["user_content"]["approved"] == 1
        pending, _ = await social.list_content(session, status="pending", contest_id=None, offset=0, limit=10)
        assert [c.id for c in pending] == [loose["messageId"], f"{contest}-c2"]
        first, next_offset = await social.list_content(session, status=None, contest_id=contest, offset=0, limit=1)
        assert [c.id for c in first] == [f"{contest}-c2"] and next_offset == 1
        [listed] = [c for c in await social.list_contests(session) if c["contest_id"] == contest]
        assert (listed["entries"], listed["participants"], listed["user_content"], listed["pending_review"]) == (
            3,
            2,
            2,
            1,
        )
        assert listed["last_activity_at"] == at(DAY1)  # the later of the last entry (12:00) and the last content (2:00)

    async def test_unknown_contests_and_content(self, session: AsyncSession) -> None:
        with pytest.raises(NotFound):
            await social.contest_report(session, "never-ran", reach=None)
        with pytest.raises(NotFound):
            await social.review_content(session, "nothing", "rejected")


@pytest.fixture(scope="module", params=BACKENDS)
async def api(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A campaigns app whose peers (profiles, segmentation) are not running."""
    url = await fresh_database(request.param, "social")
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("so"),
                                consumer_group=f"social-{uuid.uuid4().hex[:6]}", segmentation_url=nowhere,
                                profiles_url=nowhere, schedule_check_seconds=0)  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client


class TestApi:
    async def test_imports_answer_200_or_207_with_lines(self, api: httpx.AsyncClient) -> None:
        tag = uuid.uuid4().hex[:8]
        body = f"{POST_COLUMNS}\ninstagram,{tag},tessera,2026-03-02,image,hi,,,,\ninstagram,{tag}b,tessera,,image,,,,,"
        posted = await api.post("/v1/social/posts", content=body, headers=MARKETER | {"Content-Type": "text/csv"})
        assert posted.status_code == 207, posted.text
        assert posted.json() == {"accepted": 1, "rejected": [{"line": 3, "field": "published_at",
                                                              "reason": "Field required"}]}  # fmt: skip
        rows = [metric(tag, DAY1, impressions=10, reach=5, likes=1, followers=100)]
        measured = await api.post("/v1/social/metrics", json=rows, headers=MARKETER)
        assert measured.status_code == 200 and measured.json() == {"accepted": 1, "rejected": []}
        report = await api.get("/v1/social/engagement", params={"by": "post", "from": "2026-03-02"}, headers=ANALYST)
        assert report.status_code == 200
        assert any(g["post_id"] == tag and g["engagement_rate_by_reach"] == 0.2 for g in report.json()["groups"])

    @pytest.mark.parametrize(
        ("content", "content_type", "status", "field"),
        [(b'{"rows": []}', JSON, 422, "body"), (b"[1, 2", JSON, 422, "body"), (b"a,b\n1,2", CSV, 422, "platform"),
         (b"", CSV, 422, "body"), (b"\xff\xfe\x00", CSV, 422, "body"), (b"<x/>", "text/xml", 415, "content-type")],
    )  # fmt: skip
    async def test_bodies_that_are_no_rows_are_refused_whole(
        self, api: httpx.AsyncClient, content: bytes, content_type: str, status: int, field: str
    ) -> None:
        response = await api.post("/v1/social/posts", content=content,
                                  headers=MARKETER | {"Content-Type": content_type})  # fmt: skip
        assert response.status_code == status, response.text
        assert response.json()["error"]["fields"][0]["field"] == field, response.json()

    async def test_hostile_rows_are_refused_never_a_500(self, api: httpx.AsyncClient) -> None:
        rows = [post("x" * 500), post("h2", author="@"), post("h3", published_at="0001-01-01T00:00:00"),
                post("h4", text="a\x00b"), post("h5", platform="in sta"), post("h6", competitor="maybe"),
                post("h7", published_at=10**20), {"platform": None}, post("h8", campaign={"a": [1]})]  # fmt: skip
        response = await api.post("/v1/social/posts", json=rows, headers=MARKETER)
        assert response.status_code == 207 and response.json()["accepted"] == 0
        assert {r["line"] for r in response.json()["rejected"]} == set(range(len(rows)))
        metrics = [metric("h", DAY1, impressions=10**16), metric("h", date(1, 1, 1))]
        assert (await api.post("/v1/social/metrics", json=metrics, headers=MARKETER)).status_code == 207

    async def test_query_errors_and_unknown_things(self, api: httpx.AsyncClient) -> None:
        get = lambda path, **params: api.get(path, params=params, headers=ANALYST)  # noqa: E731
        assert (await get("/v1/social/engagement", by="mood")).status_code == 422
        reversed_ = await get("/v1/social/engagement", **{"from": "2026-03-05", "to": "2026-03-01"})
        assert reversed_.status_code == 422 and reversed_.json()["error"]["fields"][0]["field"] == "from"
        assert (await get("/v1/social/engagement", to="9999-12-31")).status_code == 200
        assert (await get("/v1/social/engagement", by="segment")).status_code == 503  # profiles is not running
        assert (await get("/v1/social/competitors", brand="@us,them")).status_code == 200
        assert (await get("/v1/social/competitors", **{"from": "9999-12-30"})).status_code == 422
        assert (await get("/v1/social/competitors", to="0001-01-02")).status_code == 422
        assert (await get("/v1/influencers/nobody/report")).status_code == 404
        assert (await get("/v1/social/contests/never")).status_code == 404
        assert (await get("/v1/social/contests/never", reach=-1)).status_code == 422
        assert (await get("/v1/social/content", status="lost")).status_code == 422
        review = "/v1/social/content/nothing/review"
        assert (await api.post(review, json={"status": "approved"}, headers=MARKETER)).status_code == 404
        assert (await api.post(review, json={"status": "maybe"}, headers=MARKETER)).status_code == 422
        assert (await api.post("/v1/social/posts", json=[], headers=ANALYST)).status_code == 403

    async def test_influencers_over_http(self, api: httpx.AsyncClient) -> None:
        handle = f"anna{uuid.uuid4().hex[:6]}"
        body = influencer_fields(handle=f"@{handle}", referral_codes=[" Code1 "])
        created = await api.post("/v1/influencers", json=body, headers=MARKETER)
        assert created.status_code == 201 and created.json()["referral_codes"] == ["code1"]
        assert created.json()["handle"] == handle
        again = body | {"name": "Other", "handle": handle.upper()}
        assert (await api.post("/v1/influencers", json=again, headers=MARKETER)).status_code == 409
        bad = await api.post("/v1/influencers", json=influencer_fields(handle=""), headers=MARKETER)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "body.handle"
        listed = await api.get("/v1/influencers", headers=ANALYST)
        assert handle in {i["handle"] for i in listed.json()}
        report = await api.get(f"/v1/influencers/{created.json()['id']}/report", headers=ANALYST)
        assert report.status_code == 200 and report.json()["sessions"] == 0
        assert report.json()["followers"]["growth"] is None


TOTALS = {"posts", *FIGURES, "engagements", "ctr", "engagement_rate_by_reach", "engagement_rate_by_impressions",
          "engagement_rate_by_followers", "amplification_rate", "virality_rate"}  # fmt: skip


class TestTypedAnswers:
    """The reports have response models now; a real call answers exactly the keys it did before."""

    async def test_reports_keep_their_keys(self, api: httpx.AsyncClient) -> None:
        tag = uuid.uuid4().hex[:8]
        posts = [post(f"{tag}a", campaign=f"k-{tag}"), post(f"{tag}r", author="@rival", competitor=True)]
        assert (await api.post("/v1/social/posts", json=posts, headers=MARKETER)).status_code == 200
        rows = [metric(p["post_id"], DAY1, impressions=10, reach=5, likes=1, followers=100) for p in posts]
        assert (await api.post("/v1/social/metrics", json=rows, headers=MARKETER)).status_code == 200
        get = lambda path, **params: api.get(path, params=params, headers=ANALYST)  # noqa: E731
        engagement = (await get("/v1/social/engagement", by="post", **{"from": DAY1.isoformat()})).json()
        assert set(engagement) == {"by", "from", "to", "engagement", "groups", "total", "daily", "top_content"}
        assert set(engagement["groups"][0]) == TOTALS | {"key", "platform", "post_id", "content_type", "campaign",
                                                         "published_at"}  # fmt: skip
        assert set(engagement["total"]) == TOTALS and set((await get("/v1/social/engagement")).json()["groups"][0]) == (
            TOTALS | {"key"}
        )
        assert set(engagement["daily"][0]) == {"date", *FIGURES[:-1], "engagements", "ctr", "engagement_rate_by_reach",
                                               "engagement_rate_by_impressions", "virality_rate"}  # fmt: skip
        assert set(engagement["top_content"][0]) == {"platform", "post_id", "content_type", "campaign", "text",
                                                     "reach", "engagements", "engagement_rate_by_reach"}  # fmt: skip
        competitors = (await get("/v1/social/competitors", to=DAY1.isoformat())).json()
        assert set(competitors) == {"from", "to", "us", "brands", "mentions"} and set(competitors["us"]) == {
            "handles",
            "from",
        }
        assert set(competitors["brands"][0]) == {"brand", "is_us", "posts_published", "posts_per_week", "content_mix",
            "impressions", "reach", "engagements", "engagement_rate_by_reach", "engagement_rate_by_impressions",
            "engagement_rate_by_followers", "mentions", "mentions_by_platform", "share_of_voice", "followers"}  # fmt: skip
        contest = (await get(f"/v1/social/contests/k-{tag}")).json()
        assert set(contest) == {"contest_id", "entries", "participants", "people_reached", "people_reached_from",
                                "participation_rate", "user_content", "posts"}  # fmt: skip
        assert set(contest["posts"]) == TOTALS
        created = await api.post("/v1/influencers", json=influencer_fields(handle=f"@i{tag}"), headers=MARKETER)
        report = (await get(f"/v1/influencers/{created.json()['id']}/report")).json()
        assert set(report) == {"influencer_id", "from", "to", "posts", "followers", "sessions", "signups", "orders",
                               "revenue", "signup_rate", "order_rate", "attributed_by"}  # fmt: skip
        assert set(report["followers"]) == {"start", "end", "growth", "growth_rate"}
