"""Applying events: identity resolution, merges and their guardrails, traits, computed traits, sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.erasure import erase
from services.profiles.ingest import apply_events
from services.profiles.merging import undo_merge
from services.profiles.models import EventCount, IdentityConflict, Merge, TimelineEvent
from services.profiles.service import get_profile, lookup
from services.profiles.traits import merge_computed, public_computed, unmerge_computed
from shared.bus import EventBuffer
from tests.profiles.builders import event, identify, order, page


async def apply(session: AsyncSession, *values: dict) -> EventBuffer:  # type: ignore[type-arg]
    buffer = EventBuffer()
    await apply_events(session, list(values), buffer)
    return buffer


async def by_user(session: AsyncSession, user_id: str):  # type: ignore[no-untyped-def]
    return await lookup(session, user_id=user_id, anonymous_id=None, email=None)


class TestIdentity:
    async def test_identify_merges_the_anonymous_profile_into_the_known_one(self, session: AsyncSession) -> None:
        await apply(session, page("anon-1"), page("anon-1", at=timedelta(minutes=1)))
        await apply(session, order("u-1", 20.0, at=timedelta(days=1)))
        buffer = await apply(session, identify("u-1", "anon-1", at=timedelta(days=1, minutes=5), city="Lyon"))
        profile = await by_user(session, "u-1")
        assert (await lookup(session, user_id=None, anonymous_id="anon-1", email=None)).id == profile.id
        shown = public_computed(profile.computed)
        assert shown["page_views"] == 2 and shown["orders"] == 1 and shown["event_count"] == 4
        assert profile.traits == {"city": "Lyon"}
        merged = [m.value for m in buffer.messages if m.value.type == "profile.merged.v1"]
        assert len(merged) == 1 and merged[0].profile_id == profile.id
        timeline = await session.scalar(select(func.count()).where(TimelineEvent.profile_id == profile.id))
        assert timeline == 4

    async def test_two_known_people_are_never_merged_automatically(self, session: AsyncSession) -> None:
        await apply(session, identify("u-a", "anon-a", email="a@example.com"), identify("u-b", "anon-b"))
        await apply(session, identify("u-b", "anon-a"))  # anon-a belongs to u-a: a conflict, not a merge
        a, b = await by_user(session, "u-a"), await by_user(session, "u-b")
        assert a.id != b.id
        assert (await lookup(session, user_id=None, anonymous_id="anon-a", email=None)).id == a.id
        assert await session.scalar(select(func.count()).select_from(IdentityConflict)) == 1
        assert await session.scalar(select(func.count()).select_from(Merge)) == 0

    async def test_alias_merges_explicitly(self, session: AsyncSession) -> None:
        await apply(session, identify("old-id", email="x@example.com"), identify("new-id"))
        await apply(session, event("alias", userId="new-id", previousId="old-id"))
        assert (await by_user(session, "old-id")).id == (await by_user(session, "new-id")).id

    async def test_alias_of_a_new_user_id_keeps_the_stored_anonymous_profile(self, session: AsyncSession) -> None:
        await apply(session, page("anon-alias"))
        await apply(session, event("alias", userId="new-user", previousId="anon-alias"))  # was a foreign-key error
        assert (await by_user(session, "new-user")).id == (
            await lookup(session, user_id=None, anonymous_id="anon-alias", email=None)
        ).id

    async def test_an_alias_before_the_anonymous_events_keeps_one_profile(self, session: AsyncSession) -> None:
        await apply(session, event("alias", userId="u-early", previousId="anon-late"))
        await apply(session, page("anon-late"))  # another partition's event, applied after the alias
        assert (await by_user(session, "u-early")).id == (
            await lookup(session, user_id=None, anonymous_id="anon-late", email=None)
        ).id

    async def test_a_profile_made_in_the_batch_takes_in_a_stored_one(self, session: AsyncSession) -> None:
        await apply(session, page("anon-stored"))
        await apply(session, identify("u-fresh"), identify("u-fresh", "anon-stored"))  # was a foreign-key error
        profile = await by_user(session, "u-fresh")
        assert (await lookup(session, user_id=None, anonymous_id="anon-stored", email=None)).id == profile.id
        assert public_computed(profile.computed)["page_views"] == 1

    async def test_email_in_traits_links_devices(self, session: AsyncSession) -> None:
        await apply(session, identify(None, "phone-app", email=" Jo@Example.com "))
        await apply(session, identify(None, "laptop", email="jo@example.com"))
        one = await lookup(session, user_id=None, anonymous_id="phone-app", email=None)
        assert (await lookup(session, user_id=None, anonymous_id="laptop", email=None)).id == one.id
        assert (await lookup(session, user_id=None, anonymous_id=None, email="JO@example.com")).id == one.id

    async def test_junk_identifiers_are_never_identities(self, session: AsyncSession) -> None:
        await apply(session, event(userId="undefined", anonymousId="a-1"), event(userId="undefined", anonymousId="a-2"))
        one = await lookup(session, user_id=None, anonymous_id="a-1", email=None)
        assert one.id != (await lookup(session, user_id=None, anonymous_id="a-2", email=None)).id


class TestMergeUndo:
    async def test_undo_splits_profiles_back(self, session: AsyncSession) -> None:
        await apply(session, page("anon-u"), order("u-u", 50.0, at=timedelta(days=2)))
        await apply(session, identify("u-u", "anon-u", at=timedelta(days=3)))
        merge = (await session.scalars(select(Merge))).one()
        await undo_merge(session, merge.id, EventBuffer())
        known, anonymous = (
            await by_user(session, "u-u"),
            await lookup(session, user_id=None, anonymous_id="anon-u", email=None),
        )
        assert known.id != anonymous.id
        assert public_computed(anonymous.computed)["page_views"] == 1
        assert public_computed(known.computed)["page_views"] == 0 and known.computed["orders"] == 1
        counts = dict((await session.execute(select(EventCount.profile_id, func.sum(EventCount.count))
                                             .group_by(EventCount.profile_id))).all())  # fmt: skip
        assert counts[anonymous.id] == 1 and counts[known.id] == 2  # order + identify


class TestTraits:
    async def test_late_events_never_overwrite_newer_traits(self, session: AsyncSession) -> None:
        await apply(session, identify("u-t", at=timedelta(hours=2), plan="pro"))
        await apply(session, identify("u-t", at=timedelta(hours=1), plan="free", city="Oslo"))
        assert (await by_user(session, "u-t")).traits == {"plan": "pro", "city": "Oslo"}

    async def test_unsubscribed_turns_email_consent_off(self, session: AsyncSession) -> None:
        await apply(session, identify("u-c", consent={"email": True, "ads": False}))
        await apply(session, event(userId="u-c", event="Unsubscribed", at=timedelta(minutes=5)))
        consent = (await by_user(session, "u-c")).consent
        assert consent["email"]["granted"] is False and consent["email"]["source"] == "unsubscribe"
        assert consent["ads"]["granted"] is False


class TestComputed:
    async def test_sessions_bounces_and_duration(self, session: AsyncSession) -> None:
        await apply(
            session,
            page("v", at=timedelta(minutes=0)), page("v", at=timedelta(minutes=10)),  # one visit, 10 minutes
            page("v", at=timedelta(hours=3)),  # a new visit after 30+ minutes: a bounce
        )  # fmt: skip
        shown = public_computed((await lookup(session, user_id=None, anonymous_id="v", email=None)).computed)
        assert shown["sessions"] == 2 and shown["bounces"] == 1 and shown["avg_session_seconds"] == 300.0

    async def test_orders_revenue_and_distinct_days(self, session: AsyncSession) -> None:
        await apply(session, order("buyer", 10.0), order("buyer", 30.0, at=timedelta(hours=1)),
                    order("buyer", 20.0, at=timedelta(days=3)))  # fmt: skip
        shown = public_computed((await by_user(session, "buyer")).computed)
        assert shown["orders"] == 3 and shown["revenue"] == 60.0 and shown["average_order_value"] == 20.0
        assert shown["distinct_order_days"] == 2
        assert sorted(shown["daily_revenue"].values()) == [20.0, 40.0]  # what segmentation fits CLV on

    def test_daily_revenue_adds_on_merge_and_comes_back_out_on_undo(self) -> None:
        kept = {"orders": 2, "order_days": ["2026-01-01", "2026-01-02"],
                "daily_revenue": {"2026-01-01": 10.0, "2026-01-02": 5.0}}  # fmt: skip
        merged = {"orders": 1, "order_days": ["2026-01-02"], "daily_revenue": {"2026-01-02": 7.5}}
        combined = merge_computed(kept, merged)
        assert combined["daily_revenue"] == {"2026-01-01": 10.0, "2026-01-02": 12.5}
        restored = unmerge_computed(combined, merged)
        assert restored["daily_revenue"] == {"2026-01-01": 10.0, "2026-01-02": 5.0}
        assert restored["order_days"] == ["2026-01-01", "2026-01-02"]

    async def test_social_reviews_and_utm(self, session: AsyncSession) -> None:
        await apply(
            session,
            event(userId="fan", event="Post Liked"), event(userId="fan", event="Comment Posted"),
            event(userId="fan", event="Review Submitted", properties={"rating": 4}),
            event(userId="fan", event="Review Submitted", properties={"rating": 2}),
            event("page", userId="fan", context={"campaign": {"source": "newsletter", "medium": "email"}}),
        )  # fmt: skip
        shown = public_computed((await by_user(session, "fan")).computed)
        assert shown["likes"] == 1 and shown["comments"] == 1 and shown["social_interactions"] == 2
        assert shown["reviews"] == 2 and shown["average_rating"] == 3.0
        assert shown["last_utm"] == {"source": "newsletter", "medium": "email"}

    async def test_satisfaction_is_the_latest_csat_or_nps_answer(self, session: AsyncSession) -> None:
        def answer(kind: str, score: Any, hours: int) -> dict[str, Any]:
            return event(userId="rater", event="Survey Responded", at=timedelta(hours=hours),
                         properties={"survey_id": "s1", "kind": kind, "score": score})  # fmt: skip

        await apply(session, answer("nps", 9, 2), answer("csat", 2, 1), answer("ces", 7, 3), answer("nps", 11, 4))
        shown = public_computed((await by_user(session, "rater")).computed)
        # the late CSAT answer is older, CES is no satisfaction score, 11 is off the NPS scale
        assert (shown["satisfaction"], shown["satisfaction_kind"]) == (9, "nps")
        later = {"satisfaction": 3, "satisfaction_kind": "csat", "satisfaction_at": "2030-01-01T00:00:00+00:00"}
        assert merge_computed(shown, later)["satisfaction"] == 3 and merge_computed(later, shown)["satisfaction"] == 3

    async def test_replayed_events_change_nothing(self, session: AsyncSession) -> None:
        events = [order("again", 10.0), page("x"), identify("again", "x")]
        await apply(session, *events)
        await apply(session, *events, *events)
        assert public_computed((await by_user(session, "again")).computed)["event_count"] == 3


class TestErase:
    async def test_erase_removes_everything_and_announces_it(self, session: AsyncSession) -> None:
        await apply(session, page("anon-e"), identify("u-e", "anon-e", email="e@example.com"))
        profile = await by_user(session, "u-e")
        buffer = EventBuffer()
        await erase(session, profile.id, buffer)
        assert [m.value.type for m in buffer.messages].count("profile.erased.v1") >= 1
        for kwargs in ({"user_id": "u-e"}, {"anonymous_id": "anon-e"}, {"email": "e@example.com"}):
            try:
                await lookup(session, **{"user_id": None, "anonymous_id": None, "email": None, **kwargs})
            except Exception as exc:
                assert type(exc).__name__ == "NotFound"
            else:
                raise AssertionError(f"still found by {kwargs}")
        assert await session.scalar(select(func.count()).select_from(TimelineEvent)) == 0
        try:
            await get_profile(session, profile.id)
        except Exception as exc:
            assert type(exc).__name__ == "NotFound"
