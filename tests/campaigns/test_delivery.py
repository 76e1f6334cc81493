"""A campaign run's bookkeeping on a real database: who is skipped and why, arms, caps, bounces, resuming after a
crash without mailing anyone twice, and what recipients did afterwards."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import delivery, measurement, results, service
from services.campaigns.consumer import tracked_events
from services.campaigns.mailer import SmtpConfig, deliver
from services.campaigns.messages import LinkSigner, compose
from services.campaigns.models import Campaign, Exposure, Suppression, TriggerRequest
from shared.bus import EventBuffer
from shared.db import utcnow
from tests.campaigns.smtp_sink import smtp_sink


def profile(i: int | str, *, email: bool = True, consent: bool | None = True, **traits: Any) -> dict[str, Any]:
    """A profile as profiles' batch read returns it."""
    identities = [{"kind": "user_id", "value": f"user-{i}"}] + (
        [{"kind": "email", "value": f"P{i}@Example.com"}] if email else []
    )
    granted = (
        {} if consent is None else {"email": {"granted": consent, "source": "identify", "at": utcnow().isoformat()}}
    )
    return {"id": f"p{i}", "traits": {"first_name": f"N{i}", **traits}, "consent": granted, "identities": identities}


async def make_campaign(session: AsyncSession, **overrides: Any) -> Campaign:
    """A draft email campaign with two variants."""
    fields = {"name": "c", "channel": "email", "goal_event": "Order Completed", "target_segments": ["s"],
              "exclude_segments": [], "holdout_percent": 0.0, "schedule": {"type": "now"}, "frequency_cap": None,
              "attribution": {"model": "last_touch", "window_days": 7}, "ab_test": None, "webhook_url": None,
              "variants": [{"name": "A", "weight": 1.0, "subject": "Hi", "body": "<p>x</p>"},
                           {"name": "B", "weight": 1.0, "subject": "Yo", "body": "<p>y</p>"}]} | overrides  # fmt: skip
    return await service.create_campaign(session, fields)


async def outcomes(session: AsyncSession, campaign: Campaign) -> dict[str, tuple[str, str | None]]:
    rows = await session.scalars(select(Exposure).where(Exposure.campaign_id == campaign.id))
    return {r.profile_id: (r.outcome, r.reason) for r in rows}


class TestEligibility:
    async def test_skips_name_their_reason_and_the_rest_are_pending(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session)
        people = [profile(1), profile(2, email=False), profile(3, consent=False), profile(4, consent=None)]
        events = EventBuffer()
        recipients = await delivery.plan_chunk(session, campaign, people, {}, events)
        assert [r.email for r in recipients] == ["p1@example.com"]
        assert await outcomes(session, campaign) == {"p1": ("pending", None), "p2": ("skipped", "no_email"),
                                                     "p3": ("skipped", "no_email_consent"),
                                                     "p4": ("skipped", "no_email_consent")}  # fmt: skip
        assert sorted(m.value.outcome for m in events.messages) == ["skipped"] * 3  # type: ignore[attr-defined]

    async def test_frequency_cap_counts_sends_of_the_channel_across_campaigns(self, session: AsyncSession) -> None:
        first = await make_campaign(session)
        recipients = await delivery.plan_chunk(session, first, [profile("f")], {}, EventBuffer())
        await delivery.apply_results(
            session, first, recipients, {recipients[0].exposure_id: ("sent", "")}, EventBuffer()
        )
        capped = await make_campaign(session, frequency_cap={"max": 1, "days": 7})
        assert await delivery.plan_chunk(session, capped, [profile("f")], {}, EventBuffer()) == []
        assert (await outcomes(session, capped))["pf"] == ("skipped", "frequency_cap")

    async def test_a_bounce_suppresses_the_address_for_later_campaigns(self, session: AsyncSession) -> None:
        first = await make_campaign(session)
        [recipient] = await delivery.plan_chunk(session, first, [profile("b")], {}, EventBuffer())
        await delivery.apply_results(
            session, first, [recipient], {recipient.exposure_id: ("bounced", "550 gone")}, EventBuffer()
        )
        assert (await outcomes(session, first))["pb"] == ("failed", "550 gone")
        later = await make_campaign(session)
        await delivery.plan_chunk(session, later, [profile("b")], {}, EventBuffer())
        assert (await outcomes(session, later))["pb"] == ("skipped", "bounced")


class TestArms:
    async def test_holdout_and_variants_follow_the_shares_and_never_change(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session, holdout_percent=10.0)
        people = [profile(i) for i in range(2000)]
        await delivery.plan_chunk(session, campaign, people, {}, EventBuffer())
        found = await outcomes(session, campaign)
        held = sum(1 for o, _ in found.values() if o == "held_out")
        assert 150 <= held <= 250
        assert all(delivery.arm_of(campaign, pid)[0] == ("held_out" if o == "held_out" else "pending")
                   for pid, (o, _) in found.items())  # fmt: skip

    async def test_an_ab_test_keeps_all_but_the_test_share_waiting(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session, ab_test={"test_percent": 20, "wait_hours": 1, "metric": "open_rate"})
        await delivery.plan_chunk(session, campaign, [profile(i) for i in range(1000)], {}, EventBuffer())
        counts = campaign.progress
        assert 150 <= counts["sending"] <= 250 and counts["waiting"] == 1000 - counts["sending"]


class TestResume:
    async def test_a_crash_between_planning_and_sending_never_mails_twice(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session)
        await delivery.plan_chunk(session, campaign, [profile(1), profile(2)], {}, EventBuffer())
        # The process dies here: the mails may or may not have left. A resumed run:
        await delivery.mark_interrupted(session, campaign.id)
        assert await delivery.exposed(session, campaign.id) == {"p1", "p2"}
        assert {o for o, _ in (await outcomes(session, campaign)).values()} == {"unknown"}
        again = await delivery.plan_chunk(session, campaign, [profile(3)], {}, EventBuffer())
        assert [r.profile_id for r in again] == ["p3"]


class TestWinnerPhase:
    async def test_only_rows_still_waiting_are_taken(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session, ab_test={"test_percent": 20, "wait_hours": 1, "metric": "open_rate"})
        people = [profile(i) for i in range(30)]
        await delivery.plan_chunk(session, campaign, people, {}, EventBuffer())
        waiting = {pid for pid, (o, _) in (await outcomes(session, campaign)).items() if o == "waiting"}
        campaign.winner_variant_id, campaign.status = campaign.variants[0]["id"], "running"
        gone = sorted(waiting)[0]  # profiles no longer has it
        first = await delivery.plan_waiting(session, campaign, [p for p in people if p["id"] != gone], waiting,
                                            EventBuffer())  # fmt: skip
        counts = dict(campaign.progress)
        # Another run that read the same waiting rows before this one took them takes none of them.
        assert await delivery.plan_waiting(session, campaign, people, waiting, EventBuffer()) == []
        assert campaign.progress == counts and counts["waiting"] == 0
        assert {r.profile_id for r in first} == waiting - {gone}
        assert (await outcomes(session, campaign))[gone] == ("skipped", "profile_gone")


LOGIN = "the SMTP server refused the login (check the SMTP username and password)"


def sent_to(events: EventBuffer) -> list[str]:
    return sorted(m.value.profile_id for m in events.messages)  # type: ignore[attr-defined]


class TestMailTheServerNeverTook:
    """`unsent`: the server refused us (login, sender, connection), not the recipient."""

    async def test_is_sendable_again_and_suppresses_nobody(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session)
        campaign.status = "running"
        recipients = await delivery.plan_chunk(
            session, campaign, [profile(1), profile(2), profile(3)], {}, EventBuffer()
        )
        events = EventBuffer()
        outcome = {recipients[0].exposure_id: ("sent", "")} | {r.exposure_id: ("unsent", LOGIN) for r in recipients[1:]}
        await delivery.apply_results(session, campaign, recipients, outcome, events)
        assert (campaign.status, campaign.last_error) == ("paused", LOGIN)
        assert await outcomes(session, campaign) == {"p1": ("sent", None)} and sent_to(events) == ["p1"]
        assert campaign.progress == {"processed": 1, "sending": 0, "sent": 1}
        assert await delivery.exposed(session, campaign.id) == {"p1"}  # a resumed run processes p2 and p3 again
        later = await make_campaign(session)
        assert len(await delivery.plan_chunk(session, later, [profile(2), profile(3)], {}, EventBuffer())) == 2

    async def test_waiting_exposures_wait_for_the_winner_again(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session, ab_test={"test_percent": 20, "wait_hours": 1, "metric": "open_rate"})
        people = [profile(i) for i in range(50)]
        await delivery.plan_chunk(session, campaign, people, {}, EventBuffer())
        waiting = {pid for pid, (o, _) in (await outcomes(session, campaign)).items() if o == "waiting"}
        campaign.winner_variant_id, campaign.status = campaign.variants[1]["id"], "running"
        before = dict(campaign.progress)
        recipients = await delivery.plan_waiting(session, campaign, people, waiting, EventBuffer())
        unsent = {r.exposure_id: ("unsent", LOGIN) for r in recipients}
        await delivery.apply_results(session, campaign, recipients, unsent, EventBuffer())
        assert {pid for pid, (o, _) in (await outcomes(session, campaign)).items() if o == "waiting"} == waiting
        assert {k: v for k, v in campaign.progress.items() if v} == before and campaign.status == "paused"

    async def test_triggered_profiles_stay_queued_and_the_campaign_active(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session, schedule={"type": "on_entry"})
        campaign.status = "active"
        entered = utcnow() - timedelta(minutes=5)
        session.add(TriggerRequest(campaign_id=campaign.id, profile_id="p1", segment_id="s", at=entered))
        [recipient] = await delivery.plan_chunk(session, campaign, [profile(1)], {"p1": "s"}, EventBuffer())
        unsent = {recipient.exposure_id: ("unsent", LOGIN)}
        await delivery.apply_results(session, campaign, [recipient], unsent, EventBuffer())
        request = await session.get(TriggerRequest, (campaign.id, "p1"))
        assert await outcomes(session, campaign) == {} and request is not None and request.segment_id == "s"
        assert request.at == entered  # its place in the queue is kept
        assert (campaign.status, campaign.last_error) == ("active", LOGIN)  # the next look tries again

    async def test_a_triggered_request_is_done_with_its_recorded_mail(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session, schedule={"type": "on_entry"})
        campaign.status, campaign.last_error = "active", LOGIN
        session.add(TriggerRequest(campaign_id=campaign.id, profile_id="p1", segment_id="s", at=utcnow()))
        [recipient] = await delivery.plan_chunk(session, campaign, [profile(1)], {"p1": "s"}, EventBuffer())
        assert await session.get(TriggerRequest, (campaign.id, "p1")) is not None  # pending: not done yet
        await delivery.apply_results(
            session, campaign, [recipient], {recipient.exposure_id: ("sent", "")}, EventBuffer()
        )
        assert await session.get(TriggerRequest, (campaign.id, "p1")) is None and campaign.last_error is None


async def mail_out(session: AsyncSession, campaign: Campaign, people: list[dict[str, Any]], port: int) -> None:
    """One chunk of a run: plan (the profiles not yet exposed), send over SMTP, record."""
    todo = [p for p in people if p["id"] not in await delivery.exposed(session, campaign.id)]
    recipients = await delivery.plan_chunk(session, campaign, todo, {}, EventBuffer())
    mails = [(r.exposure_id, compose(to=r.email or "", sender="s@shop.example", variant=r.variant, traits=r.traits,
                                     links=LinkSigner("http://t.example", "k", campaign.id, r.variant["id"],
                                                      r.profile_id))) for r in recipients]  # fmt: skip
    found = {d.key: (d.outcome, d.detail) for d in await deliver(SmtpConfig("127.0.0.1", port, concurrency=2), mails)}
    await delivery.apply_results(session, campaign, recipients, found, EventBuffer())


class TestAServerThatRefusesUs:
    async def test_pauses_the_campaign_then_a_resumed_run_mails_everyone_once(self, session: AsyncSession) -> None:
        people = [profile(f"r{i}") for i in range(8)]
        campaign = await make_campaign(session)
        await service.launch(session, campaign.id)
        with smtp_sink() as (server, port):
            server.refuse_sender, server.bounce = True, {"pr1@example.com"}
            await mail_out(session, campaign, people, port)
            assert campaign.status == "paused" and "sender address" in (campaign.last_error or "")
            assert await delivery.exposed(session, campaign.id) == set() and server.messages == []
            server.refuse_sender = False
            await service.launch(session, campaign.id)
            await mail_out(session, campaign, people, port)
        assert campaign.status == "running" and campaign.last_error is None
        assert sorted(m["To"] for m in server.messages) == sorted(f"pr{i}@example.com" for i in range(8) if i != 1)
        assert (campaign.progress["sent"], campaign.progress["failed"], campaign.progress["processed"]) == (7, 1, 8)
        suppressed = (await session.scalars(select(Suppression.email_sha256))).all()
        assert suppressed == [delivery.sha256_hex("pr1@example.com")]  # the recipient who refused, nobody else


def tracked(name: str, *, at: Any = None, **fields: Any) -> dict[str, Any]:
    """An event as tracking publishes it."""
    moment = (at or utcnow()).isoformat()
    return {"type": "track", "event": name, "messageId": uuid.uuid4().hex, "timestamp": moment, "receivedAt": moment,
            "sourceId": "s", **fields}  # fmt: skip


class TestMeasurement:
    async def test_opens_clicks_and_orders_of_recipients_reach_the_results(self, session: AsyncSession) -> None:
        campaign = await make_campaign(session, holdout_percent=50.0)
        people = [profile(i) for i in range(40)]
        recipients = await delivery.plan_chunk(session, campaign, people, {p["id"]: "s" for p in people}, EventBuffer())
        await delivery.apply_results(
            session, campaign, recipients, {r.exposure_id: ("sent", "") for r in recipients}, EventBuffer()
        )
        first = recipients[0]
        later = utcnow() + timedelta(minutes=5)
        email_props = {"campaign_id": campaign.id, "variant_id": first.variant["id"]}
        open_event = tracked("Email Opened", at=later, anonymousId=f"profile:{first.profile_id}",
                             properties=email_props | {"machine_open": False}, context={"profileId": first.profile_id})  # fmt: skip
        order = tracked("Order Completed", at=later, userId=f"user-{first.profile_id[1:]}", properties={"revenue": 30})
        stranger = tracked("Order Completed", at=later, userId="nobody", properties={"revenue": 99})
        await measurement.record_events(
            session, tracked_events([open_event, order, stranger, open_event, tracked("page")])
        )
        body = await results.campaign_results(session, campaign)
        arm = next(v for v in body["variants"] if v["variant_id"] == first.variant["id"])
        assert (arm["human_opens"], arm["conversions"], arm["revenue"]) == (1, 1, 30.0)
        assert body["attributed"] == {"model": "last_touch", "window_days": 7, "conversions": 1.0, "revenue": 30.0}
        assert body["holdout"]["users"] + sum(v["users"] for v in body["variants"]) == 40
        assert body["versus_holdout"]["incremental_conversions"] > 0
