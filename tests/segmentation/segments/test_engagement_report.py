"""Engagement in segment reports: scores kept incrementally by profiles (events in any order), published with their
half-life and decayed at report time, against a from-scratch sum over each member's events."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles import engagement as profiles_engagement
from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.segments import reports
from services.segmentation.segments.models import Segment, SegmentMembership
from shared.db import insert_many, make_engine, make_session_factory, migrate, utcnow

NOW = datetime(2026, 12, 1, tzinfo=UTC)
HALF_LIFE = 14.0
Events = list[tuple[float, datetime]]


def events_of(rng: random.Random) -> Events:
    """A few weighted events over the last 120 days."""
    return [(rng.choice([1.0, 3.0, 10.0]), NOW - timedelta(days=rng.uniform(0, 120))) for _ in range(rng.randint(1, 9))]


def incremental(events: Events) -> dict[str, object]:
    """The state profiles keeps (events added in a shuffled order) and publishes."""
    state = None
    for weight, at in events:
        state = profiles_engagement.add(state, weight, at, HALF_LIFE)
    published = profiles_engagement.published({profiles_engagement.KEY: state}, HALF_LIFE)
    assert published is not None
    return published


def from_scratch(events: Events, when: datetime) -> float:
    return sum(w * 0.5 ** ((when - at).total_seconds() / 86_400 / HALF_LIFE) for w, at in events)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(database_url)
    await migrate(engine, "segmentation")
    async with make_session_factory(engine)() as session:
        yield session
        await session.rollback()
    await engine.dispose()


async def members_with_events(session: AsyncSession) -> dict[str, Events]:
    """A segment "s" of 60 scored members and one never scored; ten scored profiles outside it."""
    rng = random.Random(17)
    people = {f"p{i}": events_of(rng) for i in range(70)}
    rows = [{"profile_id": pid, "traits": {}, "computed": {"engagement": incremental(rng.sample(ev, len(ev)))},
             "consent": {}, "scores": {}, "updated_at": utcnow()} for pid, ev in people.items()]  # fmt: skip
    rows.append(
        {"profile_id": "quiet", "traits": {}, "computed": {}, "consent": {}, "scores": {}, "updated_at": utcnow()}
    )
    await insert_many(session, ProfileFeatures.__table__, rows)
    session.add(Segment(id="s", name="Some", definition={}, status="ready", size=61))
    members = [f"p{i}" for i in range(60)] + ["quiet"]
    await insert_many(session, SegmentMembership.__table__,
                      [{"segment_id": "s", "profile_id": p, "entered_at": utcnow()} for p in members])  # fmt: skip
    return {p: people[p] for p in members if p in people}


class TestEngagementInSegmentReports:
    async def test_the_mean_and_spread_are_those_of_scores_summed_from_scratch(self, session: AsyncSession) -> None:
        members = await members_with_events(session)
        later = NOW + timedelta(days=10)  # decayed past the newest event: read time, not publish time
        segment = await session.get(Segment, "s")
        assert segment is not None
        report = (await reports.segment_report(session, segment, now=later))["engagement"]
        expected = np.array([from_scratch(events, later) for events in members.values()])
        assert report["scored_members"] == 60 and report["as_of"] == later
        assert report["mean"] == pytest.approx(expected.mean(), rel=1e-9)
        for key, q in (("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9)):
            assert report[key] == pytest.approx(float(np.quantile(expected, q)), rel=1e-9)
        assert report["max"] == pytest.approx(expected.max(), rel=1e-9)
        assert sum(b["count"] for b in report["bins"]) == 60
        top = float(np.quantile(expected, 0.99))
        counts, _ = np.histogram(np.minimum(expected, top), bins=20, range=(0.0, top))
        assert [b["count"] for b in report["bins"]] == counts.tolist()

    async def test_a_segment_nobody_scored_has_no_figures(self, session: AsyncSession) -> None:
        segment = Segment(id="e", name="Empty", definition={}, status="ready", size=0)
        session.add(segment)
        report = (await reports.segment_report(session, segment, now=NOW))["engagement"]
        assert report["scored_members"] == 0 and report["mean"] is None and report["bins"] == []
