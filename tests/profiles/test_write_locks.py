"""Every write to a profile is serialised with the others: a consumer batch paused between its read and its write
cannot undo an API edit or bring an erased person back (on SQLite and PostgreSQL, separate connections)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.profiles import service
from services.profiles.batch import Batch
from services.profiles.erasure import erase
from services.profiles.ingest import apply_events
from services.profiles.models import Identity, Profile, TimelineEvent
from shared.bus import EventBuffer
from shared.db import make_engine, make_session_factory, migrate
from tests.conftest import BACKENDS
from tests.profiles.builders import identify, page

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module", params=BACKENDS)
async def sessions(request: pytest.FixtureRequest, fresh_database: Any) -> AsyncIterator[Sessions]:
    """Sessions on a database of this module's own: these tests commit from several connections."""
    engine = make_engine(await fresh_database(request.param, "locks"))
    await migrate(engine, "profiles")
    yield make_session_factory(engine)
    await engine.dispose()


async def commit_events(sessions: Sessions, *values: dict[str, Any]) -> None:
    async with sessions() as session:
        await apply_events(session, list(values), EventBuffer())
        await session.commit()


async def profile_id(sessions: Sessions, user_id: str) -> str:
    async with sessions() as session:
        return (await service.lookup(session, user_id=user_id, anonymous_id=None, email=None)).id


class PausedBatch:
    """A consumer batch that stops after it has read (and, with the fix, locked) its profiles, before it writes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read, self.release = asyncio.Event(), asyncio.Event()
        original = Batch.flush

        async def paused_flush(batch: Batch) -> None:
            self.read.set()
            await self.release.wait()
            await original(batch)

        monkeypatch.setattr(Batch, "flush", paused_flush)

    async def race(self, batch: Awaitable[None], other: Callable[[], Awaitable[Any]]) -> Any:
        """Run the batch to its pause, start `other`, give it the chance to finish first, then let the batch write."""
        consumer = asyncio.create_task(batch)
        await self.read.wait()
        rival = asyncio.create_task(other())
        await asyncio.wait({rival}, timeout=1.0)  # without locks the rival commits at once; with them it waits
        self.release.set()
        await consumer
        return await rival


async def edit(sessions: Sessions, change: Callable[[AsyncSession, EventBuffer], Awaitable[Any]]) -> None:
    async with sessions() as session:
        await change(session, EventBuffer())
        await session.commit()


async def test_a_consent_edit_made_while_a_batch_is_in_flight_survives(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await commit_events(sessions, identify("lock-c", "lock-c-anon", consent={"email": True}))
    pid = await profile_id(sessions, "lock-c")
    paused = PausedBatch(monkeypatch)
    batch = commit_events(sessions, page("lock-c-anon"))
    await paused.race(batch, lambda: edit(sessions, lambda s, b: service.put_consent(s, pid, {"email": False}, b)))
    async with sessions() as session:
        profile = await session.get(Profile, pid)
        assert profile is not None and profile.consent["email"]["granted"] is False
        assert profile.computed["page_views"] == 1  # and the batch's own change is there too


async def test_a_traits_edit_made_while_a_batch_is_in_flight_survives(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await commit_events(sessions, identify("lock-t", "lock-t-anon", city="Lyon"))
    pid = await profile_id(sessions, "lock-t")
    paused = PausedBatch(monkeypatch)
    batch = commit_events(sessions, page("lock-t-anon"))
    await paused.race(batch, lambda: edit(sessions, lambda s, b: service.patch_traits(s, pid, {"city": "Oslo"}, b)))
    async with sessions() as session:
        profile = await session.get(Profile, pid)
        assert profile is not None and profile.traits["city"] == "Oslo" and profile.computed["page_views"] == 1


async def test_a_batch_in_flight_cannot_bring_an_erased_person_back(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await commit_events(sessions, identify("lock-e", "lock-e-anon", email="lock-e@example.com"))
    pid = await profile_id(sessions, "lock-e")
    paused = PausedBatch(monkeypatch)
    batch = commit_events(sessions, page("lock-e-anon"), page("lock-e-anon"))
    await paused.race(batch, lambda: edit(sessions, lambda s, b: erase(s, pid, b)))
    async with sessions() as session:
        for model in (Profile, Identity, TimelineEvent):
            column = model.id if model is Profile else model.profile_id  # type: ignore[attr-defined]
            assert await session.scalar(select(func.count()).where(column == pid)) == 0, model.__name__
