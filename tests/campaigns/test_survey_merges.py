"""Answers of a person who answered under two profiles since merged count once, for the survivor (its segments), the
last answer winning; an undone merge splits them again; erasing the survivor pseudonymises both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import survey_reports, surveys
from services.campaigns.consumer import handle_profiles, tracked_events
from services.campaigns.models import SegmentMember
from shared.bus import EventBuffer
from shared.consuming import Received
from tests.campaigns.test_surveys import answer, answers_of, make_survey

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def merged(kept: str, gone: str, version: int, *, undone: bool = False) -> dict[str, Any]:
    """A `profile.merged.v1` message as profiles publishes it."""
    return {"type": "profile.merged.v1", "profile_id": kept, "merged_id": gone, "merge_id": f"m-{gone}",
            "undone": undone, "merged_version": version, "occurred_at": T0.isoformat()}  # fmt: skip


def erased(profile_id: str) -> dict[str, Any]:
    return {"type": "profile.erased.v1", "profile_id": profile_id, "identities": [], "suppressed": False,
            "occurred_at": T0.isoformat()}  # fmt: skip


async def on_profiles_topic(session: AsyncSession, *values: dict[str, Any]) -> None:
    received = [Received("tessera.profiles.v1", 0, i, None, v) for i, v in enumerate(values)]
    await handle_profiles(session, received, EventBuffer())


async def report(session: AsyncSession, survey: Any) -> dict[str, Any]:
    return await survey_reports.survey_report(session, survey, start=None, end=None, by="segment", interval="day")


async def test_a_merged_persons_answers_count_once_for_the_survivor(session: AsyncSession) -> None:
    survey = await make_survey(session)
    await surveys.record_answers(session, tracked_events([answer(survey.id, "kept", 3, T0),
                                                          answer(survey.id, "gone", 10, T0 + timedelta(days=1)),
                                                          answer(survey.id, "other", 9, T0)]))  # fmt: skip
    session.add(SegmentMember(segment_id="vip", profile_id="kept", entered_at=T0))
    assert (await report(session, survey))["total"]["responses"] == 3

    await on_profiles_topic(session, merged("kept", "gone", 2))
    merged_report = await report(session, survey)
    assert merged_report["total"]["responses"] == 2
    vip = next(g for g in merged_report["groups"] if g["key"] == "vip")
    assert (vip["responses"], vip["promoters"]) == (1, 1)  # the later answer (10), counted in the survivor's segment

    await on_profiles_topic(session, merged("kept", "gone", 3, undone=True), merged("kept", "gone", 1))  # stale last
    assert (await report(session, survey))["total"]["responses"] == 3


async def test_erasing_the_survivor_pseudonymises_the_merged_profiles_answers(session: AsyncSession) -> None:
    survey = await make_survey(session)
    await surveys.record_answers(session, tracked_events([answer(survey.id, "kept", 3, T0, text="call me"),
                                                          answer(survey.id, "gone", 10, T0, text="I am Ann")]))  # fmt: skip
    await on_profiles_topic(session, merged("kept", "gone", 2), erased("kept"))
    found = await answers_of(session, survey.id)
    assert not {"kept", "gone"} & set(found) and len(found) == 2
    assert all(a.comment is None and a.profile_id.startswith("erased-") for a in found.values())
