"""Retention uplift of a campaign built through the real path (plan, send, tracked orders): each window's shares
and difference equal the statistics module's two-proportion test on counts made independently here."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import delivery, measurement, retention, stats
from services.campaigns.consumer import tracked_events
from services.campaigns.models import Campaign
from shared.bus import EventBuffer
from shared.db import utcnow
from tests.campaigns.test_delivery import make_campaign, profile, tracked

PEOPLE = 300


def order_days(i: int, targeted: bool) -> list[int]:
    """Days after the send on which person i orders: half of the targeted people, a fifth of the held-out ones (arms
    are drawn at random, so the gap is wide enough to stay positive whatever the draw)."""
    if i % (2 if targeted else 5) == 0:
        return [i % 85]
    return [-5] if i % 10 == 1 else []  # an order before the send never counts


async def sent_campaign(session: AsyncSession) -> tuple[Campaign, dict[int, bool]]:
    """A campaign with a 40% holdout sent to PEOPLE profiles, and who of them was targeted."""
    campaign = await make_campaign(session, holdout_percent=40.0)
    people = [profile(i) for i in range(PEOPLE)]
    recipients = await delivery.plan_chunk(session, campaign, people, {p["id"]: "s" for p in people}, EventBuffer())
    results = {r.exposure_id: ("bounced" if r.profile_id == recipients[0].profile_id else "sent", "x")
               for r in recipients}  # fmt: skip
    await delivery.apply_results(session, campaign, recipients, results, EventBuffer())
    targeted = {int(r.profile_id[1:]) for r in recipients}
    return campaign, {i: i in targeted for i in range(PEOPLE)}


async def record_orders(session: AsyncSession, arms: dict[int, bool]) -> None:
    start = utcnow()
    orders = [tracked("Order Completed", at=start + timedelta(days=day, hours=12), userId=f"user-{i}",
                      properties={"revenue": 20}) for i, targeted in arms.items() for day in order_days(i, targeted)]  # fmt: skip
    await measurement.record_events(session, tracked_events(orders))


def expected(arms: dict[int, bool], days: int) -> stats.LiftResult:
    counts = {True: [0, 0], False: [0, 0]}
    for i, targeted in arms.items():
        counts[targeted][0] += 1
        counts[targeted][1] += any(0 <= day < days for day in order_days(i, targeted))
    holdout, treated = stats.ProportionArm(*counts[False]), stats.ProportionArm(*counts[True])
    return stats.frequentist_test(holdout, treated, relative=False)


class TestRetentionUplift:
    async def test_each_window_equals_the_two_proportion_test_on_the_same_counts(self, session: AsyncSession) -> None:
        campaign, arms = await sent_campaign(session)
        await record_orders(session, arms)
        body = await retention.retention_uplift(session, campaign, now=utcnow() + timedelta(days=91))
        assert [w["days"] for w in body["windows"]] == [30, 60, 90]
        for window in body["windows"]:
            reference = expected(arms, window["days"])
            assert window["elapsed"] and window["measured"] == window["members"] == PEOPLE
            assert window["targeted"]["users"] == sum(arms.values())
            difference = window["difference"]
            for key, value in asdict(reference).items():
                assert difference[key] == (pytest.approx(value, abs=1e-6) if isinstance(value, float) else value)
            assert difference["lift"] == pytest.approx(window["targeted"]["rate"] - window["holdout"]["rate"], abs=2e-6)
        assert body["windows"][2]["difference"]["lift"] > 0

    async def test_a_window_that_has_not_elapsed_gives_no_figures(self, session: AsyncSession) -> None:
        campaign, arms = await sent_campaign(session)
        await record_orders(session, arms)
        body = await retention.retention_uplift(session, campaign, now=utcnow() + timedelta(days=45))
        thirty, sixty, ninety = body["windows"]
        assert thirty["elapsed"] and thirty["difference"] is not None
        for window in (sixty, ninety):
            assert not window["elapsed"] and window["measured"] == 0 and window["difference"] is None
            assert window["targeted"]["rate"] is None and "not yet passed" in window["reason"]
            assert window["complete_at"] > body["as_of"]

    async def test_without_a_holdout_nothing_is_compared(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session)
        body = await retention.retention_uplift(session, campaign)
        assert all(w["difference"] is None and w["members"] == 0 for w in body["windows"])
        assert body["sent_from"] is None

    async def test_a_holdout_that_never_ordered_is_said_in_words(self, session: AsyncSession) -> None:
        campaign, arms = await sent_campaign(session)
        start = utcnow()
        orders = [tracked("Order Completed", at=start + timedelta(days=2), userId=f"user-{i}")
                  for i, targeted in arms.items() if targeted and i % 2]  # fmt: skip
        await measurement.record_events(session, tracked_events(orders))
        thirty = (await retention.retention_uplift(session, campaign, now=start + timedelta(days=31)))["windows"][0]
        assert thirty["holdout"]["active"] == 0 and thirty["targeted"]["active"] > 0
        assert thirty["difference"]["computable"] is False and thirty["difference"]["reason"] == stats.BASELINE_ZERO
        assert thirty["reason"].startswith("nobody held out ordered")
