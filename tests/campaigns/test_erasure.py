"""Erasure in campaigns on a real database: the person's identifiers leave every table, past results stay the same,
and the events of a person erased with suppression are not recorded again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import delivery, exports, measurement, results, survey_reports, surveys
from services.campaigns.consumer import handle_events, handle_profiles, tracked_events
from services.campaigns.social.models import SocialVisit
from shared.bus import EventBuffer
from shared.consuming import Received
from shared.db import utcnow
from tests.campaigns.test_delivery import make_campaign, profile, tracked
from tests.campaigns.test_surveys import answer, make_survey

ERASED = "p7"
IDENTIFIERS = ("user-7", "P7@Example.com", "p7@example.com", "anon-7")


def erased_message(**fields: Any) -> Received:
    value = {"type": "profile.erased.v1", "profile_id": ERASED, "occurred_at": utcnow().isoformat(),
             "identities": [["user_id", "user-7"], ["email", "p7@example.com"], ["anonymous_id", "anon-7"]]} | fields  # fmt: skip
    return Received("tessera.profiles.v1", 0, 0, ERASED, value)


async def table_dump(session: AsyncSession) -> str:
    """Every row of every table, as text."""
    connection = await session.connection()
    names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    rows = [str((await session.execute(text(f'SELECT * FROM "{name}"'))).all()) for name in names]
    return "\n".join(rows)


async def test_erasure_leaves_no_identifier_and_no_result_changes(session: AsyncSession) -> None:
    campaign = await make_campaign(session, holdout_percent=20.0)
    people = [profile(i) for i in range(10)]
    recipients = await delivery.plan_chunk(session, campaign, people, {p["id"]: "s" for p in people}, EventBuffer())
    await delivery.apply_results(session, campaign, recipients, {r.exposure_id: ("sent", "") for r in recipients},
                                 EventBuffer())  # fmt: skip
    await exports.add_to_pending_export(session, campaign, recipients)
    later = utcnow() + timedelta(minutes=5)
    orders = [
        tracked("Order Completed", at=later, userId=f"user-{i}", properties={"revenue": 10 + i}) for i in range(10)
    ]
    visit = tracked("page", at=later, anonymousId="anon-7", context={"campaign": {"name": "spring"}}) | {"type": "page"}
    await measurement.record_events(session, tracked_events(orders))
    await handle_events(session, [Received("tessera.events.v1", 0, i, None, v) for i, v in enumerate([visit])],
                        EventBuffer())  # fmt: skip
    survey = await make_survey(session)
    await surveys.record_answers(
        session, tracked_events([answer(survey.id, ERASED, 2, utcnow(), text="Mail me: p7@example.com")])
    )
    before = await results.campaign_results(session, campaign)
    report = await survey_reports.survey_report(session, survey, start=None, end=None, by="none", interval="day")
    assert "anon-7" in await table_dump(session)

    await handle_profiles(session, [erased_message()], EventBuffer())

    dump = await table_dump(session)
    assert not [identifier for identifier in (*IDENTIFIERS, f"'{ERASED}'") if identifier in dump]
    assert await results.campaign_results(session, campaign) == before
    assert (await session.scalars(select(SocialVisit.person))).all()[0].startswith("erased-")
    again = await survey_reports.survey_report(session, survey, start=None, end=None, by="none", interval="day")
    assert again["total"] == report["total"] and again["total"]["responses"] == 1


async def test_a_suppressed_person_is_not_recorded_again(session: AsyncSession) -> None:
    await handle_profiles(session, [erased_message()], EventBuffer())
    visit = tracked("page", anonymousId="anon-7", context={"campaign": {"name": "autumn"}}) | {"type": "page"}
    other = tracked("page", anonymousId="anon-8", context={"campaign": {"name": "autumn"}}) | {"type": "page"}
    await handle_events(session, [Received("tessera.events.v1", 0, i, None, v) for i, v in enumerate([visit, other])],
                        EventBuffer())  # fmt: skip
    assert (await session.scalars(select(SocialVisit.person).where(SocialVisit.utm_campaign == "autumn"))).all() == [
        "anon-8"]  # fmt: skip
