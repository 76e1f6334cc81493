"""The database fast paths of CLV against their portable versions, on SQLite and PostgreSQL: order days unnested
by the database, and scores merged by the database one statement per chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.clv import service as lifetime
from services.segmentation.replica import scores
from services.segmentation.replica.models import ProfileFeatures
from shared.db import insert_many, make_engine, make_session_factory, migrate, utcnow

COMPUTED: dict[str, dict[str, Any]] = {
    "a": {"daily_revenue": {"2024-01-01": 10, "2024-01-05": 2.5, "2024-01-09": 0}},
    "b": {"daily_revenue": {"2024-02-01": 7.25, "2024-02-02": True, "2024-02-03": "12", "2024-02-04": None}},
    "c": {"daily_revenue": ["2024-01-01", 3]},  # not an object: nothing
    "d": {"daily_revenue": 12},
    "e": {"orders": 3},
    "f": {"daily_revenue": {}},
}
SCORES: dict[str, dict[str, Any]] = {
    "a": {"rfm_segment": "Champions", "clv": 1.0, "p_alive": 0.5},
    "b": {"clv": 2.0, "clv_percentile": 50.0, "cluster_segments": {"s1": "c1"}},
    "c": {},
    "d": {"rfm_r": 3},
    "e": {"expected_purchases": 4.0},
    "f": {"clv": 9.0},
}


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A migrated segmentation database holding the profiles above; rolled back after the test."""
    engine = make_engine(database_url)
    await migrate(engine, "segmentation")
    async with make_session_factory(engine)() as session:
        await insert_many(session, ProfileFeatures.__table__, [
            {"profile_id": pid, "traits": {}, "computed": computed, "consent": {}, "scores": SCORES[pid],
             "updated_at": utcnow()} for pid, computed in COMPUTED.items()])  # fmt: skip
        yield session
        await session.rollback()
    await engine.dispose()


async def test_order_days_unnested_by_the_database_are_those_read_here(session: AsyncSession) -> None:
    found = sorted(tuple(row) for row in await lifetime.order_days(session))
    assert found == sorted(await lifetime.order_days_portable(session))
    assert found == [("a", "2024-01-01", 10.0), ("a", "2024-01-05", 2.5), ("a", "2024-01-09", 0.0),
                     ("b", "2024-02-01", 7.25)]  # fmt: skip


async def _all_scores(session: AsyncSession) -> dict[str, dict[str, Any]]:
    return dict((await session.execute(select(ProfileFeatures.profile_id, ProfileFeatures.scores))).all())


async def test_scores_merged_by_the_database_are_those_merged_here(session: AsyncSession) -> None:
    new = {"a": {"clv": 5.5, "p_alive": 0.25}, "c": {"clv": 1.5, "clv_percentile": 100.0}, "nobody": {"clv": 1.0}}
    owned = lifetime.CLV_KEYS
    async with session.begin_nested() as savepoint:
        await scores.write_scores(session, new, owned)
        merged = await _all_scores(session)
        await savepoint.rollback()
    await scores.write_scores_portable(session, new, owned)
    assert merged == await _all_scores(session)
    assert merged == {
        "a": {"rfm_segment": "Champions", "clv": 5.5, "p_alive": 0.25}, "b": {"cluster_segments": {"s1": "c1"}},
        "c": {"clv": 1.5, "clv_percentile": 100.0}, "d": {"rfm_r": 3}, "e": {}, "f": {},
    }  # fmt: skip


async def test_rows_loaded_before_a_merge_read_the_new_scores(session: AsyncSession) -> None:
    row = await session.get(ProfileFeatures, "a")
    assert row is not None and row.scores["clv"] == 1.0
    await scores.write_scores(session, {"a": {"clv": 3.0}}, ["clv"])
    again = (await session.scalars(select(ProfileFeatures).where(ProfileFeatures.profile_id == "a"))).one()
    assert again is row and row.scores["clv"] == 3.0  # a query fills in what the merge expired
