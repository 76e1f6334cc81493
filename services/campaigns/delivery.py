"""A campaign run, one chunk of recipients at a time: eligibility (consent, bounces, frequency cap) before
assignment, so holdout and variants are comparable; exposures recorded before any mail leaves (a `pending` row
left by a crash is never sent again); SMTP results applied after (mail the server never took is sendable again)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.assignment import Variant, assign, bucket
from services.campaigns.audiences import sha256_hex
from services.campaigns.eligibility import email_of, phone_of, skip_reasons
from services.campaigns.models import Campaign, Exposure, KnownIdentity, Suppression, TriggerRequest
from shared.bus import EventBuffer
from shared.db import insert_many, upsert, utcnow
from shared.events import CAMPAIGNS, CampaignExposure

IDENTITY_KINDS = ("user_id", "anonymous_id", "email")


@dataclass(frozen=True)
class Recipient:
    """A profile about to be sent to: where its mail goes, its traits, and its variant."""

    exposure_id: int
    profile_id: str
    email: str | None
    traits: dict[str, Any]
    variant: dict[str, Any]
    segment_id: str | None
    phone: str | None = None


async def mark_interrupted(session: AsyncSession, campaign_id: str) -> None:
    """Pending exposures of an interrupted run may or may not have been mailed: never send them again."""
    await session.execute(
        update(Exposure)
        .where(Exposure.campaign_id == campaign_id, Exposure.outcome == "pending")
        .values(outcome="unknown", reason="interrupted while sending")
    )


async def exposed(session: AsyncSession, campaign_id: str, among: Collection[str] | None = None) -> set[str]:
    """Profiles this campaign already did something with (they are never processed again), of `among` if given."""
    query = select(Exposure.profile_id).where(Exposure.campaign_id == campaign_id)
    if among is not None:
        query = query.where(Exposure.profile_id.in_(list(among)))
    return set((await session.scalars(query)).all())


def triggered(campaign: Campaign) -> bool:
    """Whether the campaign sends to each profile entering its segments (from queued trigger requests)."""
    return campaign.schedule.get("type") == "on_entry"


async def settle_triggers(session: AsyncSession, campaign_id: str, profile_ids: Collection[str]) -> None:
    """These profiles' trigger requests are done: their exposure is final, or was there already."""
    if profile_ids:
        where = TriggerRequest.campaign_id == campaign_id, TriggerRequest.profile_id.in_(list(profile_ids))
        await session.execute(delete(TriggerRequest).where(*where))


def arm_of(campaign: Campaign, profile_id: str) -> tuple[str, str | None]:
    """("held_out", None), ("waiting", None) for the rest of an A/B test, or ("pending", variant id)."""
    variants = [Variant(v["id"], v["weight"]) for v in campaign.variants]
    if campaign.winner_variant_id:
        variants = [Variant(campaign.winner_variant_id, 1.0)]
    chosen = assign(campaign.id, profile_id, variants, holdout_percent=campaign.holdout_percent)
    if chosen.holdout:
        return "held_out", None
    test = campaign.ab_test
    if (
        test
        and not campaign.winner_variant_id
        and bucket(f"{campaign.id}:test", profile_id) >= test["test_percent"] / 100
    ):
        return "waiting", None
    return "pending", chosen.variant_id


async def plan_chunk(
    session: AsyncSession,
    campaign: Campaign,
    profiles: Sequence[dict[str, Any]],
    segment_of: dict[str, str],
    events: EventBuffer,
) -> list[Recipient]:
    """Record an exposure per profile (skipped with its reason, held out, waiting or pending) and return the
    pending ones to send; the caller commits before sending."""
    now = utcnow()
    rows, recipients = [], []
    reasons = await skip_reasons(session, campaign, profiles, now)
    for profile in profiles:
        reason = reasons[profile["id"]]
        outcome, variant_id = ("skipped", None) if reason else arm_of(campaign, profile["id"])
        rows.append(_exposure_row(campaign, profile["id"], segment_of, outcome, variant_id, reason, now))
    await insert_many(session, Exposure.__table__, rows)
    await _remember_identities(session, [p for p, r in zip(profiles, rows, strict=True) if r["outcome"] != "skipped"])
    ids = await _exposure_ids(session, campaign.id, [r["profile_id"] for r in rows])
    variants = {v["id"]: v for v in campaign.variants}
    for profile, row in zip(profiles, rows, strict=True):
        if row["outcome"] == "pending":
            recipients.append(
                Recipient(
                    ids[profile["id"]],
                    profile["id"],
                    email_of(profile),
                    profile.get("traits", {}),
                    variants[row["variant_id"]],
                    row["segment_id"],
                    phone_of(profile),
                )
            )
        elif row["outcome"] in ("skipped", "held_out"):
            _publish(events, campaign.id, profile["id"], row["outcome"], None, row["reason"], now)
    _count(campaign, [r["outcome"] for r in rows])
    return recipients


def _exposure_row(
    campaign: Campaign, profile_id: str, segment_of: dict[str, str], outcome: str, variant_id: str | None,
    reason: str | None, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """An `exposures` row for one profile of a chunk."""
    return {"campaign_id": campaign.id, "profile_id": profile_id, "segment_id": segment_of.get(profile_id),
            "outcome": outcome, "variant_id": variant_id, "reason": reason, "channel": campaign.channel,
            "at": now}  # fmt: skip


async def _exposure_ids(session: AsyncSession, campaign_id: str, profile_ids: list[str]) -> dict[str, int]:
    query = select(Exposure.profile_id, Exposure.id).where(
        Exposure.campaign_id == campaign_id, Exposure.profile_id.in_(profile_ids)
    )
    return {str(pid): int(eid) for pid, eid in (await session.execute(query)).all()}


async def _remember_identities(session: AsyncSession, profiles: Sequence[dict[str, Any]]) -> None:
    """Identities of recipients, so their later orders (by user id, anonymous id or email) are recognised."""
    rows = {
        (i["kind"], i["value"]): p["id"]
        for p in profiles
        for i in p.get("identities", [])
        if i["kind"] in IDENTITY_KINDS
    }
    rows |= {("profile", p["id"]): p["id"] for p in profiles}
    values = [{"kind": k, "value": v[:500], "profile_id": pid} for (k, v), pid in rows.items()]
    await upsert(session, KnownIdentity.__table__, values, keys=["kind", "value"], replace=("profile_id",))


def _publish(
    events: EventBuffer,
    campaign_id: str,
    profile_id: str,
    outcome: str,
    variant_id: str | None,
    reason: str | None,
    at: datetime,
) -> None:
    exposure = CampaignExposure(
        campaign_id=campaign_id,
        profile_id=profile_id,
        outcome=outcome,  # type: ignore[arg-type]
        variant_id=variant_id,
        reason=reason,
        occurred_at=at,
    )
    events.add(CAMPAIGNS, exposure, key=profile_id)


def _count(campaign: Campaign, outcomes: Sequence[str]) -> None:
    progress = dict(campaign.progress or {})
    progress["processed"] = progress.get("processed", 0) + len(outcomes)
    for outcome in outcomes:
        key = "sending" if outcome == "pending" else outcome
        progress[key] = progress.get(key, 0) + 1
    campaign.progress = progress


async def apply_results(
    session: AsyncSession,
    campaign: Campaign,
    recipients: Sequence[Recipient],
    results: dict[int, tuple[str, str]],
    events: EventBuffer,
) -> None:
    """Set each pending exposure to sent or failed (a bounce also suppresses the address) and publish it; a triggered
    profile's request is done with it. Mail the server never took (`unsent`: it refused us, not the recipient) is
    sendable again, and the campaign stops sending (`stop_sending`)."""
    now = utcnow()
    unsent = [r for r in recipients if results.get(r.exposure_id, ("",))[0] == "unsent"]
    taken = [r for r in recipients if results.get(r.exposure_id, ("",))[0] != "unsent"]
    found = [results.get(r.exposure_id, ("failed", "not attempted")) for r in taken]
    await _record_outcomes(session, taken, found, now)
    bounced = [(r.email, detail) for r, (outcome, detail) in zip(taken, found, strict=True) if outcome == "bounced"]
    await _suppress(session, [(email, detail) for email, detail in bounced if email], now)
    for recipient, (outcome, _) in zip(taken, found, strict=True):
        reason = None if outcome == "sent" else "bounced" if outcome == "bounced" else "failed"
        published = "sent" if outcome == "sent" else "skipped"
        _publish(events, campaign.id, recipient.profile_id, published, recipient.variant["id"], reason, now)
    _count_results(campaign, [outcome for outcome, _ in found])
    if triggered(campaign):
        await settle_triggers(session, campaign.id, [r.profile_id for r in taken])
    if unsent:
        await release(session, campaign, unsent)
        stop_sending(campaign, results[unsent[0].exposure_id][1])
    elif triggered(campaign) and taken:
        campaign.last_error = None  # the mail server takes our mail again


def _count_results(campaign: Campaign, outcomes: Sequence[str]) -> None:
    progress = dict(campaign.progress or {})
    progress["sending"] = max(progress.get("sending", 0) - len(outcomes), 0)
    for outcome in outcomes:
        key = "sent" if outcome == "sent" else "failed"
        progress[key] = progress.get(key, 0) + 1
    campaign.progress = progress


async def _record_outcomes(
    session: AsyncSession, recipients: Sequence[Recipient], found: Sequence[tuple[str, str]], now: datetime
) -> None:
    sent = [r.exposure_id for r, (outcome, _) in zip(recipients, found, strict=True) if outcome == "sent"]
    for start in range(0, len(sent), 1000):  # one statement for the usual case
        query = update(Exposure).where(Exposure.id.in_(sent[start : start + 1000]))
        await session.execute(query.values(outcome="sent", reason=None, at=now))
    for recipient, (outcome, detail) in zip(recipients, found, strict=True):
        if outcome != "sent":
            query = update(Exposure).where(Exposure.id == recipient.exposure_id)
            await session.execute(query.values(outcome="failed", reason=detail[:200] or None, at=now))


async def _suppress(session: AsyncSession, bounced: Sequence[tuple[str, str]], now: datetime) -> None:
    """Addresses whose own server refused them for good are never mailed again."""
    rows = [{"email_sha256": sha256_hex(email), "reason": detail[:500], "at": now} for email, detail in bounced]
    await upsert(session, Suppression.__table__, rows, keys=["email_sha256"], replace=("reason", "at"))


async def release(session: AsyncSession, campaign: Campaign, recipients: Sequence[Recipient]) -> None:
    """Exposures whose mail provably never left become sendable again, so a resumed run mails them once: waiting
    ones wait for the winner again; the others are forgotten, and a triggered profile stays queued."""
    if not recipients:
        return
    ids = [r.exposure_id for r in recipients]
    progress = dict(campaign.progress or {})
    progress["sending"] = max(progress.get("sending", 0) - len(ids), 0)
    if campaign.winner_variant_id:
        values = {"outcome": "waiting", "variant_id": None, "reason": None}
        await session.execute(update(Exposure).where(Exposure.id.in_(ids)).values(**values))
        progress["waiting"] = progress.get("waiting", 0) + len(ids)
    else:
        await session.execute(delete(Exposure).where(Exposure.id.in_(ids)))
        progress["processed"] = max(progress.get("processed", 0) - len(ids), 0)
        if triggered(campaign):
            await _trigger_again(session, campaign, recipients)
    campaign.progress = progress


async def _trigger_again(session: AsyncSession, campaign: Campaign, recipients: Sequence[Recipient]) -> None:
    """Queue these profiles again unless they still are (a queued request keeps its time of entry, so its place)."""
    rows = [{"campaign_id": campaign.id, "profile_id": r.profile_id, "at": utcnow(),
             "segment_id": r.segment_id or campaign.target_segments[0]} for r in recipients]  # fmt: skip
    await upsert(session, TriggerRequest.__table__, rows, keys=["campaign_id", "profile_id"], replace=("segment_id",))


def stop_sending(campaign: Campaign, reason: str) -> None:
    """A campaign whose mail the server refuses says why: a run pauses (launching again resumes); a triggered
    campaign stays active, and its queued profiles are tried again at the next look."""
    campaign.last_error, campaign.updated_at = reason, utcnow()
    if not triggered(campaign):
        campaign.status = "paused"


async def plan_waiting(
    session: AsyncSession,
    campaign: Campaign,
    profiles: Sequence[dict[str, Any]],
    waiting: set[str],
    events: EventBuffer,
) -> list[Recipient]:
    """Turn waiting exposures into pending ones with the winning variant (or skipped, if no longer eligible). Only
    rows still waiting change: those another run took meanwhile are its own, and left out here."""
    now, found = utcnow(), {p["id"]: p for p in profiles}
    winner = next(v for v in campaign.variants if v["id"] == campaign.winner_variant_id)
    reasons = await skip_reasons(session, campaign, list(found.values()), now)
    skips = {pid: reasons[pid] if pid in found else "profile_gone" for pid in waiting}
    send = [pid for pid, reason in skips.items() if not reason]
    taken = await _take_waiting(session, campaign.id, send, now, outcome="pending", variant_id=winner["id"])
    skipped = 0
    for reason in sorted({r for r in skips.values() if r}):
        ids = [pid for pid, r in skips.items() if r == reason]
        for profile_id in await _take_waiting(session, campaign.id, ids, now, outcome="skipped", reason=reason):
            _publish(events, campaign.id, profile_id, "skipped", None, reason, now)
            skipped += 1
    recipients = [Recipient(taken[pid], pid, email_of(found[pid]), found[pid].get("traits", {}), winner, None,
                            phone_of(found[pid])) for pid in sorted(taken)]  # fmt: skip
    progress = dict(campaign.progress or {})
    progress["waiting"] = max(progress.get("waiting", 0) - len(recipients) - skipped, 0)
    progress["sending"] = progress.get("sending", 0) + len(recipients)
    progress["skipped"] = progress.get("skipped", 0) + skipped
    campaign.progress = progress
    return recipients


async def _take_waiting(
    session: AsyncSession, campaign_id: str, profile_ids: list[str], now: datetime, **values: Any
) -> dict[str, int]:
    """Set these profiles' exposures that are still waiting (`UPDATE … WHERE outcome = 'waiting' RETURNING`): the
    exposure id of each row this run took."""
    if not profile_ids:
        return {}
    query = (update(Exposure)
             .where(Exposure.campaign_id == campaign_id, Exposure.profile_id.in_(profile_ids),
                    Exposure.outcome == "waiting")
             .values(at=now, **({"reason": None, "variant_id": None} | values))
             .returning(Exposure.profile_id, Exposure.id)
             .execution_options(synchronize_session=False))  # fmt: skip
    return {str(pid): int(eid) for pid, eid in (await session.execute(query)).all()}


async def plan_export(
    session: AsyncSession, campaign: Campaign, profiles: Sequence[dict[str, Any]], segment_of: dict[str, str],
    events: EventBuffer,
) -> list[Recipient]:  # fmt: skip
    """An audience export's chunk: every current member is (re)recorded as uploaded, held out or skipped (ads
    consent), and the uploaded ones are returned; exports run again and again, so exposures are upserted."""
    now, rows, recipients = utcnow(), [], []
    reasons = await skip_reasons(session, campaign, profiles, now)
    for profile in profiles:
        reason = reasons[profile["id"]]
        outcome, variant_id = ("skipped", None) if reason else arm_of(campaign, profile["id"])
        outcome = "sent" if outcome == "pending" else outcome
        rows.append(_exposure_row(campaign, profile["id"], segment_of, outcome, variant_id, reason, now))
        if outcome == "sent":
            recipients.append(
                Recipient(
                    0,
                    profile["id"],
                    email_of(profile),
                    {},
                    {"id": variant_id},
                    rows[-1]["segment_id"],
                    phone_of(profile),
                )
            )
        _publish(events, campaign.id, profile["id"], outcome, variant_id, reason, now)
    await upsert(
        session,
        Exposure.__table__,
        rows,
        keys=["campaign_id", "profile_id"],
        replace=("segment_id", "outcome", "variant_id", "reason", "at"),
    )
    await _remember_identities(session, [p for p, r in zip(profiles, rows, strict=True) if r["outcome"] != "skipped"])
    _count(campaign, [r["outcome"] for r in rows])
    return recipients
