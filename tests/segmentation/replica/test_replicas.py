"""Segmentation with several replicas: messages about one profile that arrive out of order (another partition,
another relay) never bring back an older state or a merged-away profile, and one replica per round sweeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.segmentation.jobs import claim_round
from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.replica.service import apply_profile_messages
from shared.db import make_engine, migrate, utcnow
from shared.events import ProfileErased, ProfileMerged, ProfileUpserted
from tests.conftest import BACKENDS


@pytest.fixture(scope="module", params=BACKENDS)
async def engine(request: pytest.FixtureRequest, fresh_database: Any) -> AsyncIterator[AsyncEngine]:
    url = await fresh_database(request.param, "seg_replicas")
    engine = make_engine(url)
    await migrate(engine, "segmentation")
    yield engine
    await engine.dispose()


async def apply(engine: AsyncEngine, *messages: Any) -> None:
    """Apply messages in this order, as the consumer would (one transaction)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await apply_profile_messages(session, [m.model_dump(mode="json") for m in messages])
        await session.commit()


async def features(engine: AsyncEngine, profile_id: str) -> ProfileFeatures | None:
    async with AsyncSession(engine) as session:
        return await session.get(ProfileFeatures, profile_id)


def upserted(profile_id: str, version: int, **traits: Any) -> ProfileUpserted:
    return ProfileUpserted(profile_id=profile_id, version=version, traits=traits, occurred_at=utcnow())


async def test_an_older_upsert_arriving_late_changes_nothing(engine: AsyncEngine) -> None:
    await apply(engine, upserted("p-late", 2, orders=4))
    await apply(engine, upserted("p-late", 1, orders=3))  # written before, relayed after
    row = await features(engine, "p-late")
    assert row is not None and row.traits == {"orders": 4} and row.version == 2


async def test_a_merged_away_profile_is_not_brought_back_by_its_older_upsert(engine: AsyncEngine) -> None:
    await apply(engine, upserted("p-kept", 1), upserted("p-gone", 1))
    merged = ProfileMerged(
        profile_id="p-kept", merged_id="p-gone", merge_id="m-1", merged_version=3, occurred_at=utcnow()
    )
    await apply(engine, merged)
    await apply(engine, upserted("p-gone", 2, orders=1))  # from another partition, older than the merge
    assert await features(engine, "p-gone") is None
    await apply(engine, upserted("p-gone", 4, orders=1))  # the merge undone: a newer version lives again
    assert (await features(engine, "p-gone")) is not None


async def test_an_erased_profile_stays_gone(engine: AsyncEngine) -> None:
    await apply(engine, upserted("p-erased", 5))
    await apply(engine, ProfileErased(profile_id="p-erased", occurred_at=utcnow()))
    await apply(engine, upserted("p-erased", 6))
    assert await features(engine, "p-erased") is None


async def test_one_replica_claims_each_round_of_a_periodic_job(engine: AsyncEngine) -> None:
    now = utcnow()

    async def claim(at: Any) -> bool:
        async with AsyncSession(engine) as session:
            claimed = await claim_round(session, "test-round", 60, at)
            await session.commit()
            return claimed

    assert sorted(await asyncio.gather(*(claim(now) for _ in range(5)))) == [False] * 4 + [True]
    assert not await claim(now + timedelta(seconds=10))  # the same round
    assert await claim(now + timedelta(seconds=61))  # the next one
