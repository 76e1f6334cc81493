"""Journeys on a real database: ordered funnels, conversion paths, channel classification, the social report."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.profiles.app import create_app
from services.profiles.config import Settings
from services.profiles.journeys.service import (
    Step,
    Touch,
    channel_of,
    conversion_paths,
    funnel,
    journey,
    social_engagement,
)
from services.profiles.models import Profile, SegmentMember, TimelineEvent
from shared.db import make_engine, migrate
from tests.builders import auth, service_settings
from tests.conftest import ANALYST_KEY, BACKENDS
from tests.helpers import running

T0 = datetime(2026, 11, 1, 9, 0, 0, 999_999, tzinfo=UTC)  # a fraction of a second keeps SQLite's rounding honest
H, D, US = timedelta(hours=1), timedelta(days=1), timedelta(microseconds=1)
WINDOW = 72 * H
VIEW, ADD, ORDER = Step(event="Product Viewed"), Step(event="Product Added"), Step(event="Order Completed")
_ids = itertools.count()


def row(profile: str, name: str, at: timedelta, *, type_: str = "track", path: str | None = None,
        context: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:  # fmt: skip
    """A timeline row; `path` makes a page view (`properties.path`)."""
    if path is not None:
        type_, name, properties = "page", "page", {"path": path, **properties}
    return {"message_id": f"j-{next(_ids)}", "profile_id": profile, "home_profile_id": profile, "type": type_,
            "name": name, "occurred_at": T0 + at, "properties": properties, "context": context or {}}  # fmt: skip


async def add(session: AsyncSession, *rows: dict[str, Any]) -> None:
    await session.execute(insert(TimelineEvent), list(rows))


async def people(session: AsyncSession, steps: Sequence[Step], **options: Any) -> list[int]:
    result = await funnel(session, steps, window=options.pop("window", WINDOW), **options)
    return [s["people"] for s in result["steps"]]


class TestFunnel:
    async def test_steps_count_only_in_order(self, session: AsyncSession) -> None:
        await add(session, row("a", "Product Viewed", 0 * H), row("a", "Product Added", H), row("a", "Order Completed", 2 * H),
                  row("b", "Product Added", 0 * H), row("b", "Product Viewed", H),
                  row("c", "Product Viewed", 0 * H), row("c", "Order Completed", H))  # fmt: skip
        result = await funnel(session, [VIEW, ADD, ORDER], window=WINDOW)
        assert [s["people"] for s in result["steps"]] == [3, 1, 1]
        assert [s["conversion_from_previous"] for s in result["steps"]] == [None, 0.333333, 1.0]
        assert result["steps"][2]["conversion_from_first"] == result["overall_conversion"] == 0.333333

    async def test_a_step_at_the_window_edge_counts_and_one_microsecond_later_does_not(
        self, session: AsyncSession
    ) -> None:
        await add(session, row("a", "Product Viewed", 0 * H), row("a", "Product Added", WINDOW),
                  row("b", "Product Viewed", 0 * H), row("b", "Product Added", WINDOW + US))  # fmt: skip
        assert await people(session, [VIEW, ADD]) == [2, 1]

    async def test_the_window_runs_from_the_first_step_not_the_previous_one(self, session: AsyncSession) -> None:
        await add(session, row("a", "Product Viewed", 0 * H), row("a", "Product Added", 48 * H),
                  row("a", "Order Completed", 73 * H))  # fmt: skip
        assert await people(session, [VIEW, ADD, ORDER]) == [1, 1, 0]

    async def test_a_step_must_come_strictly_after_the_previous(self, session: AsyncSession) -> None:
        await add(session, row("a", "Product Viewed", 0 * H), row("a", "Product Added", 0 * H),
                  row("b", "Product Viewed", 0 * H), row("b", "Product Viewed", H))  # fmt: skip
        assert await people(session, [VIEW, ADD]) == [2, 0]
        assert await people(session, [VIEW, VIEW]) == [2, 1]

    async def test_the_first_step_in_range_anchors_the_window(self, session: AsyncSession) -> None:
        await add(session, row("a", "Product Viewed", -D), row("a", "Product Viewed", 100 * H),
                  row("a", "Product Added", 101 * H), row("b", "Product Viewed", 0 * H),
                  row("b", "Product Viewed", 100 * H), row("b", "Product Added", 101 * H))  # fmt: skip
        in_range = {"start": T0, "end": T0 + 10 * D}
        # a's first view in range is at 100 h, so 101 h is within its window; b's is at 0 h, so it is not.
        assert await people(session, [VIEW, ADD], **in_range) == [2, 1]

    async def test_later_steps_may_fall_after_the_range(self, session: AsyncSession) -> None:
        await add(session, row("a", "Product Viewed", 0 * H), row("a", "Product Added", 30 * H))
        assert await people(session, [VIEW, ADD], start=T0, end=T0 + D) == [1, 1]
        assert await people(session, [VIEW, ADD], start=T0 + H, end=T0 + D) == [0, 0]

    async def test_page_steps_match_the_path_in_properties_or_page_context(self, session: AsyncSession) -> None:
        page_context = {"page": {"path": "/checkout", "url": "https://shop.example/checkout"}}
        await add(session, row("a", "", 0 * H, path="/"), row("a", "", H, path="/checkout"),
                  row("b", "", 0 * H, path="/"), row("b", "page", H, type_="page", context=page_context),
                  row("c", "", 0 * H, path="/"), row("c", "", H, path="/checkout/done"),
                  row("d", "", 0 * H, path="/"), {**row("d", "Checkout Started", H), "properties": {"path": "/checkout"}})  # fmt: skip
        assert await people(session, [Step(page="/"), Step(page="/checkout")]) == [4, 2]

    async def test_a_segment_keeps_its_members_only(self, session: AsyncSession) -> None:
        await add(session, *(r for p in "abc" for r in (row(p, "Product Viewed", 0 * H), row(p, "Product Added", H))))
        session.add_all([SegmentMember(segment_id="s1", profile_id=p, entered_at=T0) for p in "ab"])
        session.add(SegmentMember(segment_id="s2", profile_id="c", entered_at=T0))
        await session.flush()
        assert await people(session, [VIEW, ADD], segment_id="s1") == [2, 2]
        assert await people(session, [VIEW, ADD], segment_id="nobody") == [0, 0]

    async def test_nobody_at_the_first_step_gives_zero_rates(self, session: AsyncSession) -> None:
        result = await funnel(session, [VIEW, ADD], window=WINDOW)
        assert result["overall_conversion"] == 0.0 and result["steps"][1]["conversion_from_first"] == 0.0


class TestChannels:
    @pytest.mark.parametrize(
        ("touch", "channel"),
        [
            (Touch("Email Opened", channel="email"), "email"),
            (Touch("page", source_id="email"), "email"),
            (Touch("Email Link Clicked"), "email"),
            (Touch("page", utm_source="newsletter", utm_medium="email"), "email"),
            (Touch("Post Liked"), "social"),
            (Touch("Comment Posted", utm_medium="cpc"), "social"),
            (Touch("page", utm_source="facebook", utm_medium="Social-Media"), "social"),
            (Touch("Ad Clicked", utm_medium="social"), "ads"),
            (Touch("page", utm_source="google", utm_medium="cpc"), "ads"),
            (Touch("page", utm_medium="display"), "ads"),
            (Touch("page", utm_source="influencer", utm_medium="social"), "influencer"),
            (Touch("page", utm_medium="influencer"), "influencer"),
            (Touch("Product Viewed", referral_code="ANNA10"), "influencer"),
            (Touch("Product Viewed", referral_code=""), "web"),
            (Touch("page", utm_source="google", utm_medium="organic"), "web"),
            (Touch(None), "web"),
        ],
    )
    def test_channel_of_a_touchpoint(self, touch: Touch, channel: str) -> None:
        assert channel_of(touch) == channel

    def test_journey_collapses_repeats_and_keeps_the_last(self) -> None:
        assert journey(["web", "web", "ads", "web", "web", "email", "email"], 5) == ("web", "ads", "web", "email")
        assert journey(["web", "ads", "web", "email"], 2) == ("web", "email")
        assert journey([], 5) == ()


def campaign(source: str, medium: str) -> dict[str, Any]:
    return {"campaign": {"source": source, "medium": medium, "name": "spring"}}


class TestPaths:
    async def test_paths_are_counted_per_converting_person(self, session: AsyncSession) -> None:
        for p in ("a", "b"):  # ads then web, twice
            await add(session, row(p, "", -2 * D, path="/", context=campaign("google", "cpc")),
                      row(p, "", -D, path="/p"), row(p, "Product Viewed", -H), row(p, "Order Completed", 0 * H))  # fmt: skip
        await add(session, row("c", "Email Opened", -3 * D, context={"channel": "email"}), row("c", "Post Liked", -D),
                  row("c", "Order Completed", 0 * H), row("c", "Ad Clicked", H),
                  row("c", "Order Completed", 2 * H),  # a second order: only the first conversion counts
                  row("d", "Product Viewed", -31 * D), row("d", "Order Completed", 0 * H),  # before the lookback
                  row("e", "Product Viewed", 0 * H))  # fmt: skip
        result = await conversion_paths(session, "Order Completed", start=T0 - D, end=T0 + D)
        assert result["converting_people"] == 4 and result["without_touchpoints"] == 1
        assert result["paths"] == [{"path": ["ads", "web"], "people": 2, "share": 0.5},
                                   {"path": ["email", "social"], "people": 1, "share": 0.25}]  # fmt: skip

    async def test_max_length_keeps_the_last_channels_and_limit_cuts_the_list(self, session: AsyncSession) -> None:
        for p in ("a", "b"):
            await add(session, row(p, "Email Opened", -3 * H, context={"channel": "email"}),
                      row(p, "Post Viewed", -2 * H), row(p, "Ad Clicked", -H), row(p, "Order Completed", 0 * H))  # fmt: skip
        await add(session, row("c", "Post Viewed", -H), row("c", "Order Completed", 0 * H))
        result = await conversion_paths(session, "Order Completed", max_length=2, limit=1)
        assert result["paths"] == [{"path": ["social", "ads"], "people": 2, "share": 0.666667}]


class TestSocialEngagement:
    async def test_counts_per_segment_and_for_everyone(self, session: AsyncSession) -> None:
        session.add_all([Profile(id=p, first_seen_at=T0, last_seen_at=T0) for p in "abcd"])
        session.add(Profile(id="z", first_seen_at=T0, last_seen_at=T0, merged_into="a"))
        session.add_all([SegmentMember(segment_id=s, profile_id=p, entered_at=T0)
                         for s, p in (("s1", "a"), ("s1", "b"), ("s2", "c"))])  # fmt: skip
        await session.flush()
        await add(session, row("a", "Post Liked", H), row("a", "Post Liked", 2 * H), row("a", "Comment Posted", H),
                  row("c", "Ad Clicked", H), row("d", "Post Shared", H), row("b", "Post Liked", -H),
                  row("b", "Product Viewed", H))  # fmt: skip
        result = await social_engagement(session, start=T0, end=T0 + D)
        zero = {"likes": 0, "comments": 0, "shares": 0}
        assert result["segments"] == [
            {"segment_id": "s1", "people": 2, "engaged_people": 1, "likes": 2, "comments": 1, "shares": 0,
             "ad_clicks": 0, "engagement_rate": 0.5},
            {"segment_id": "s2", "people": 1, "engaged_people": 1, **zero, "ad_clicks": 1, "engagement_rate": 1.0},
        ]  # fmt: skip
        assert result["all"] == {"people": 4, "engaged_people": 3, "likes": 2, "comments": 1, "shares": 1,
                                 "ad_clicks": 1, "engagement_rate": 0.75}  # fmt: skip

    async def test_no_events_gives_zeros(self, session: AsyncSession) -> None:
        result = await social_engagement(session, start=T0, end=T0 + D)
        assert result["segments"] == [] and result["all"]["engaged_people"] == 0


# ---------------------------------------------------------------- SQLite and PostgreSQL agree with a plain reading

NAMES = ("Product Viewed", "Product Added", "Order Completed", "Post Liked", "Email Opened", "Ad Clicked")
PATHS = ("/", "/checkout", "/blog")


def random_timeline(seed: int, profiles: int = 40, events: int = 2000) -> list[dict[str, Any]]:
    """Events at random times (to the microsecond, some exactly a window apart) for a few people."""
    rng = random.Random(seed)
    rows = []
    for _ in range(events):
        at = timedelta(hours=rng.randint(0, 200), microseconds=rng.choice((0, 1, rng.randint(0, 999_999))))
        profile, medium = f"p{rng.randrange(profiles)}", rng.choice(("cpc", "social", "email", "organic"))
        kind = rng.random()
        if kind < 0.3:
            rows.append(row(profile, "", at, path=rng.choice(PATHS), context=campaign("x", medium)))
        else:
            rows.append(row(profile, rng.choice(NAMES), at))
    return rows


def plain_funnel(rows: list[dict[str, Any]], steps: Sequence[Step], window: timedelta, start: datetime,
                 end: datetime) -> list[int]:  # fmt: skip
    """The funnel's definition read literally, one person at a time."""

    def matches(r: dict[str, Any], step: Step) -> bool:
        return r["name"] == step.event if step.event else r["type"] == "page" and r["properties"]["path"] == step.page

    reached = [0] * len(steps)
    for profile in {r["profile_id"] for r in rows}:
        mine = sorted((r for r in rows if r["profile_id"] == profile), key=lambda r: r["occurred_at"])
        firsts = [r["occurred_at"] for r in mine if matches(r, steps[0]) and start <= r["occurred_at"] < end]
        if not firsts:
            continue
        t0 = last = firsts[0]
        reached[0] += 1
        for k, step in enumerate(steps[1:], start=1):
            later = [r["occurred_at"] for r in mine if matches(r, step) and last < r["occurred_at"] <= t0 + window]
            if not later:
                break
            last = later[0]
            reached[k] += 1
    return reached


@pytest.fixture(scope="module")
async def both_backends(fresh_database: Any) -> AsyncIterator[list[AsyncEngine]]:
    """The same random timeline in a migrated SQLite and a migrated PostgreSQL database."""
    engines = [make_engine(await fresh_database(backend, "journeys")) for backend in BACKENDS]
    for engine in engines:
        await migrate(engine, "profiles")
        async with engine.begin() as connection:
            await connection.execute(insert(TimelineEvent), random_timeline(7))
    yield engines
    for engine in engines:
        await engine.dispose()


class TestBackendsAgree:
    @pytest.mark.parametrize("steps", [
        [VIEW, ADD, ORDER], [Step(page="/"), VIEW, Step(page="/checkout"), ORDER], [VIEW, VIEW, VIEW],
    ])  # fmt: skip
    async def test_funnels_match_a_plain_reading_on_both_backends(
        self, both_backends: list[AsyncEngine], steps: list[Step]
    ) -> None:
        start, end, window = T0 + 10 * H, T0 + 150 * H, 40 * H
        expected = plain_funnel(random_timeline(7), steps, window, start, end)
        assert expected[0] > expected[-1] > 0
        for engine in both_backends:
            async with AsyncSession(engine) as session:
                assert await people(session, steps, window=window, start=start, end=end) == expected

    async def test_paths_and_social_report_are_the_same_on_both_backends(
        self, both_backends: list[AsyncEngine]
    ) -> None:
        results = []
        for engine in both_backends:
            async with AsyncSession(engine) as session:
                paths = await conversion_paths(session, "Order Completed", lookback=timedelta(days=5), limit=100)
                social = await social_engagement(session, start=T0, end=T0 + 10 * D)
                results.append((paths, social))
        assert results[0] == results[1] and results[0][0]["converting_people"] > 0


# ---------------------------------------------------------------- through the app

ANALYST = auth(ANALYST_KEY)


@pytest.fixture(scope="module")
async def app_client(broker: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The profiles app on SQLite (no consumer: the timeline is written directly), with a small funnel in it."""
    data: Path = tmp_path_factory.mktemp("journeys-app")
    url = f"sqlite+aiosqlite:///{data / 'profiles.db'}"
    engine = make_engine(url)
    await migrate(engine, "profiles")
    async with engine.begin() as connection:
        await connection.execute(insert(TimelineEvent), [row("a", "Product Viewed", 0 * H), row("a", "Product Added", H),
                                                         row("b", "Product Viewed", 0 * H), row("b", "Post Liked", H)])  # fmt: skip
    await engine.dispose()
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=data, run_consumers=False)
    async with running(create_app(settings)) as client:
        yield client


class TestApi:
    async def test_an_analyst_runs_a_funnel(self, app_client: httpx.AsyncClient) -> None:
        body = {"steps": [{"event": "Product Viewed"}, {"event": "Product Added"}], "window_hours": 2,
                "from": T0.isoformat(), "to": (T0 + D).isoformat()}  # fmt: skip
        response = await app_client.post("/v1/journeys/funnel", json=body, headers=ANALYST)
        assert response.status_code == 200, response.text
        result = response.json()
        assert [s["people"] for s in result["steps"]] == [2, 1] and result["overall_conversion"] == 0.5
        assert result["from"].startswith("2026-11-01T09:00:00")

    async def test_paths_and_social_report(self, app_client: httpx.AsyncClient) -> None:
        paths = await app_client.get("/v1/journeys/paths", params={"conversion": "Product Added"}, headers=ANALYST)
        assert paths.status_code == 200 and paths.json()["paths"] == [{"path": ["web"], "people": 1, "share": 1.0}]
        window = {"from": T0.isoformat(), "to": (T0 + D).isoformat()}
        social = await app_client.get("/v1/reports/social-engagement", params=window, headers=ANALYST)
        assert social.status_code == 200 and social.json()["all"]["likes"] == 1

    @pytest.mark.parametrize(("body", "field"), [
        ({"steps": [{"event": "Product Viewed"}]}, "body.steps"),
        ({"steps": [{"event": "A"}] * 11}, "body.steps"),
        ({"steps": [{"event": "A", "page": "/"}, {"event": "B"}]}, "body.steps.0"),
        ({"steps": [{"event": "A"}, {}]}, "body.steps.1"),
        ({"steps": [{"event": ""}, {"event": "B"}]}, "body.steps.0.event"),
        ({"steps": [{"event": "A"}, {"page": "/\u0000"}]}, "body.steps.1.page"),
        ({"steps": [{"event": "A"}, {"event": "B"}], "window_hours": 0}, "body.window_hours"),
        ({"steps": [{"event": "A"}, {"event": "B"}], "window_hours": 2161}, "body.window_hours"),
        ({"steps": [{"event": "A"}, {"event": "B"}], "from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
         "to"),
        ({"steps": [{"event": "A"}, {"event": "B"}], "colour": "red"}, "body.colour"),
    ])  # fmt: skip
    async def test_a_bad_funnel_is_422_naming_the_field(
        self, app_client: httpx.AsyncClient, body: dict[str, Any], field: str
    ) -> None:
        response = await app_client.post("/v1/journeys/funnel", json=body, headers=ANALYST)
        assert response.status_code == 422, response.text
        assert field in [f["field"] for f in response.json()["error"]["fields"]]

    @pytest.mark.parametrize(("path", "params", "field"), [
        ("/v1/journeys/paths", {"conversion": ""}, "query.conversion"),
        ("/v1/journeys/paths", {"conversion": "X", "max_length": 0}, "query.max_length"),
        ("/v1/journeys/paths", {"conversion": "X", "from": "0001-01-01T00:00:00+14:00"}, "from"),
        ("/v1/reports/social-engagement", {"from": "2026-11-01T00:00:00Z"}, "query.to"),
        ("/v1/reports/social-engagement", {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "to"),
    ])  # fmt: skip
    async def test_bad_report_parameters_are_422(
        self, app_client: httpx.AsyncClient, path: str, params: dict[str, Any], field: str
    ) -> None:
        response = await app_client.get(path, params=params, headers=ANALYST)
        assert response.status_code == 422, response.text
        assert field in [f["field"] for f in response.json()["error"]["fields"]]

    async def test_a_key_is_needed(self, app_client: httpx.AsyncClient) -> None:
        response = await app_client.post("/v1/journeys/funnel", json={"steps": []})
        assert response.status_code == 401
