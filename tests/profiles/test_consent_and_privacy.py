"""Consent that an untrusted event cannot undo, duplicates detected per source, and erased people who stay erased."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.erasure import erase
from services.profiles.ingest import apply_events
from services.profiles.models import ErasedIdentity, Profile, TimelineEvent
from services.profiles.service import lookup, put_consent
from shared.bus import EventBuffer
from shared.events import identity_digest
from tests.profiles.builders import event, identify, page


async def apply(session: AsyncSession, *values: dict[str, Any]) -> EventBuffer:
    buffer = EventBuffer()
    await apply_events(session, list(values), buffer)
    return buffer


async def email_consent(session: AsyncSession, user_id: str) -> dict[str, Any]:
    consent: dict[str, Any] = (await lookup(session, user_id=user_id, anonymous_id=None, email=None)).consent
    return consent["email"]


def trusted(value: dict[str, Any]) -> dict[str, Any]:
    return value | {"sourceTrusted": True, "sourceId": "server-side"}


def unsubscribed(user_id: str, at: timedelta) -> dict[str, Any]:
    return event(userId=user_id, event="Unsubscribed", at=at, sourceTrusted=True, sourceId="email")


class TestConsent:
    async def test_a_browser_identify_cannot_undo_an_unsubscribe_even_from_the_future(
        self, session: AsyncSession
    ) -> None:
        await apply(session, identify("c-1", consent={"email": True}))
        await apply(session, unsubscribed("c-1", timedelta(hours=1)))
        await apply(session, identify("c-1", at=timedelta(hours=23), consent={"email": True}))
        assert (await email_consent(session, "c-1")) | {"at": None} == {
            "granted": False, "source": "unsubscribe", "at": None}  # fmt: skip

    async def test_a_trusted_source_may_opt_the_person_back_in(self, session: AsyncSession) -> None:
        await apply(session, identify("c-2", consent={"email": True}), unsubscribed("c-2", timedelta(hours=1)))
        await apply(session, trusted(identify("c-2", at=timedelta(hours=2), consent={"email": True})))
        decision = await email_consent(session, "c-2")
        assert decision["granted"] is True and decision["source"] == "server"

    async def test_an_api_opt_out_holds_against_browser_events_and_an_api_opt_in_undoes_it(
        self, session: AsyncSession
    ) -> None:
        await apply(session, identify("c-3", consent={"email": True}))
        pid = (await lookup(session, user_id="c-3", anonymous_id=None, email=None)).id
        await put_consent(session, pid, {"email": False}, EventBuffer())
        await apply(session, identify("c-3", at=timedelta(days=400), consent={"email": True}))
        assert (await email_consent(session, "c-3"))["granted"] is False
        await put_consent(session, pid, {"email": True}, EventBuffer())
        assert (await email_consent(session, "c-3"))["granted"] is True

    async def test_a_merge_does_not_let_a_browser_opt_in_past_an_unsubscribe(self, session: AsyncSession) -> None:
        await apply(session, identify(None, "c-4-anon", email="c4@example.com"))
        await apply(session, event(anonymousId="c-4-anon", event="Unsubscribed", at=timedelta(minutes=1)))
        await apply(session, identify("c-4", at=timedelta(minutes=2), consent={"email": True}))
        await apply(session, identify("c-4", "c-4-anon", at=timedelta(minutes=3)))  # one person after all
        assert (await email_consent(session, "c-4"))["granted"] is False


class TestDuplicatesPerSource:
    async def test_a_write_key_cannot_shadow_an_import_row_by_sending_its_message_id_first(
        self, session: AsyncSession
    ) -> None:
        forged = identify("d-1", plan="forged") | {"messageId": "import-order-abc", "sourceId": "public-site"}
        real = identify("d-1", plan="gold", at=timedelta(minutes=1)) | {"messageId": "import-order-abc",
                                                                         "sourceId": "import:job-1"}  # fmt: skip
        again = real | {"sourceId": "import:job-2"}  # the same row in a later import: one namespace for imports
        await apply(session, forged)
        await apply(session, real, again)
        profile = await lookup(session, user_id="d-1", anonymous_id=None, email=None)
        assert profile.traits["plan"] == "gold"
        timeline = await session.scalar(select(func.count()).where(TimelineEvent.profile_id == profile.id))
        assert timeline == 2


class TestErasedPeopleStayErased:
    async def test_events_naming_an_erased_identity_are_dropped(self, session: AsyncSession) -> None:
        await apply(session, identify("x-1", "x-1-anon", email="x1@example.com"))
        pid = (await lookup(session, user_id="x-1", anonymous_id=None, email=None)).id
        await erase(session, pid, EventBuffer())
        digests = (await session.scalars(select(ErasedIdentity.digest))).all()
        assert identity_digest("email", "x1@example.com") in digests and "x1@example.com" not in str(digests)
        await apply(
            session, page("x-1-anon", at=timedelta(hours=1)), identify(None, "new-device", email="X1@example.com")
        )
        assert await session.scalar(select(func.count()).select_from(Profile).where(Profile.traits["email"].as_string()
                                                                                  == "X1@example.com")) == 0  # fmt: skip
        for kind in ({"anonymous_id": "x-1-anon"}, {"anonymous_id": "new-device"}):
            try:
                await lookup(session, **{"user_id": None, "anonymous_id": None, "email": None, **kind})
            except Exception as exc:
                assert type(exc).__name__ == "NotFound"
            else:
                raise AssertionError(f"{kind} was re-created")

    async def test_erased_without_suppression_the_person_comes_back_opted_out(self, session: AsyncSession) -> None:
        await apply(session, identify("x-2", consent={"email": True, "ads": True}))
        pid = (await lookup(session, user_id="x-2", anonymous_id=None, email=None)).id
        await erase(session, pid, EventBuffer(), suppress=False)
        await apply(session, identify("x-2", at=timedelta(days=1), consent={"email": True}))
        consent = (await lookup(session, user_id="x-2", anonymous_id=None, email=None)).consent
        assert consent["email"]["granted"] is False and consent["ads"]["source"] == "erasure"
