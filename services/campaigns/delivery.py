"""A campaign run, one chunk of recipients at a time: eligibility (consent, bounces, frequency cap) before
assignment, so holdout and variants are comparable; exposures recorded before any mail leaves (a `pending` row
left by a crash is never sent again); SMTP results applied after (mail the server never took is sendable again)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.assignment import Variant, assign, bucket
from services.campaigns.audiences import normalise_email, sha256_hex
from services.campaigns.models import Campaign, Exposure, KnownIdentity, Suppression, TriggerRequest
from shared.bus import EventBuffer
from shared.db import insert_many, upsert, utcnow
from shared.events import CAMPAIGNS, CampaignExposure

CONSENT_OF_CHANNEL = {"email": "email", "audience_export": "ads", "webhook": None}
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


def phone_of(profile: dict[str, Any]) -> str | None:
    """The profile's phone number as given (an identity, else a trait); normalised when hashed."""
    for identity in profile.get("identities", []):
        if identity["kind"] == "phone":
            return str(identity["value"])
    trait = profile.get("traits", {}).get("phone")
    return trait if isinstance(trait, str) else None


def email_of(profile: dict[str, Any]) -> str | None:
    """The profile's email address: its `email` identity, else its `email` trait."""
    for identity in profile.get("identities", []):
        if identity["kind"] == "email":
            return normalise_email(identity["value"])
    trait = profile.get("traits", {}).get("email")
    return normalise_email(trait) if isinstance(trait, str) else None


async def mark_interrupted(session: AsyncSession, campaign_id: str) -> None:
    """Pending exposures of an interrupted run may or may not have been mailed: never send them again."""
    await session.execute(
        update(Exposure)
        .where(Exposure.campaign_id == campaign_id, Exposure.outcome == "pending")
        .values(outcome="unknown", reason="interrupted while sending")
    )


async def exposed(session: AsyncSession, campaign_id: str) -> set[str]:
    """Profiles this campaign already did something with (they are never processed again)."""
    query = select(Exposure.profile_id).where(Exposure.campaign_id == campaign_id)
    return set((await session.scalars(query)).all())


async def skip_reasons(
    session: AsyncSession, campaign: Campaign, profiles: Sequence[dict[str, Any]], now: datetime
) -> dict[str, str | None]:
    """Why each profile may not be reached on the campaign's channel (None: it may), one query per check."""
    consent = CONSENT_OF_CHANNEL[campaign.channel]
    emails = {p["id"]: email_of(p) for p in profiles}
    bounced = await _suppressed(session, [e for e in emails.values() if e]) if campaign.channel == "email" else set()
    capped = await _capped(session, campaign, [p["id"] for p in profiles], now)
    reasons: dict[str, str | None] = {}
    for profile in profiles:
        email, pid = emails[profile["id"]], profile["id"]
        granted = (profile.get("consent", {}).get(consent) or {}).get("granted") if consent else True
        reasons[pid] = ("no_email" if campaign.channel == "email" and email is None else
                        f"no_{consent}_consent" if not granted else
                        "bounced" if email is not None and sha256_hex(email) in bounced else
                        "frequency_cap" if pid in capped else None)  # fmt: skip
    return reasons


async def _suppressed(session: AsyncSession, emails: list[str]) -> set[str]:
    hashes = [sha256_hex(e) for e in emails]
    query = select(Suppression.email_sha256).where(Suppression.email_sha256.in_(hashes))
    return set((await session.scalars(query)).all()) if hashes else set()


async def _capped(session: AsyncSession, campaign: Campaign, profile_ids: list[str], now: datetime) -> set[str]:
    """Profiles already sent `max` times on this channel within the cap's days (across campaigns)."""
    cap = campaign.frequency_cap
    if not cap or not profile_ids:
        return set()
    since = now - timedelta(days=cap["days"])
    query = (select(Exposure.profile_id)
             .where(Exposure.profile_id.in_(profile_ids), Exposure.channel == campaign.channel,
                    Exposure.outcome == "sent", Exposure.at > since)
             .group_by(Exposure.profile_id).having(func.count() >= cap["max"]))  # fmt: skip
    return set((await session.scalars(query)).all())


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
    """Set each pending exposure to sent or failed (a bounce also suppresses the address) and publish it. Mail the
    server never took (`unsent`: it refused us, not the recipient) is sendable again, and the campaign pauses."""
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
    progress = dict(campaign.progress or {})
    progress["sending"] = max(progress.get("sending", 0) - len(taken), 0)
    for outcome, _ in found:
        key = "sent" if outcome == "sent" else "failed"
        progress[key] = progress.get(key, 0) + 1
    campaign.progress = progress
    if unsent:
        await release(session, campaign, unsent)
        stop_sending(campaign, results[unsent[0].exposure_id][1])


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
    ones wait for the winner again; the others are forgotten, and a triggered profile is queued again."""
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
        if campaign.schedule.get("type") == "on_entry":
            await _trigger_again(session, campaign, recipients)
    campaign.progress = progress


async def _trigger_again(session: AsyncSession, campaign: Campaign, recipients: Sequence[Recipient]) -> None:
    rows = [{"campaign_id": campaign.id, "profile_id": r.profile_id, "at": utcnow(),
             "segment_id": r.segment_id or campaign.target_segments[0]} for r in recipients]  # fmt: skip
    await upsert(session, TriggerRequest.__table__, rows, keys=["campaign_id", "profile_id"], replace=("at",))


def stop_sending(campaign: Campaign, reason: str) -> None:
    """Pause a campaign that cannot send (the mail server refuses us), saying why; launching again resumes."""
    campaign.status, campaign.last_error, campaign.updated_at = "paused", reason, utcnow()


async def plan_waiting(
    session: AsyncSession,
    campaign: Campaign,
    profiles: Sequence[dict[str, Any]],
    waiting: set[str],
    events: EventBuffer,
) -> list[Recipient]:
    """Turn waiting exposures into pending ones with the winning variant (or skipped, if no longer eligible)."""
    now, recipients = utcnow(), []
    winner = next(v for v in campaign.variants if v["id"] == campaign.winner_variant_id)
    found = {p["id"]: p for p in profiles}
    ids = await _exposure_ids(session, campaign.id, sorted(waiting))
    reasons = await skip_reasons(session, campaign, list(found.values()), now)
    for profile_id in sorted(waiting):
        profile = found.get(profile_id)
        reason = "profile_gone" if profile is None else reasons[profile_id]
        outcome = "skipped" if reason else "pending"
        await session.execute(
            update(Exposure)
            .where(Exposure.id == ids[profile_id])
            .values(outcome=outcome, reason=reason, variant_id=None if reason else winner["id"], at=now)
        )
        if reason:
            _publish(events, campaign.id, profile_id, "skipped", None, reason, now)
        elif profile is not None:
            recipients.append(
                Recipient(
                    ids[profile_id],
                    profile_id,
                    email_of(profile),
                    profile.get("traits", {}),
                    winner,
                    None,
                    phone_of(profile),
                )
            )
    progress = dict(campaign.progress or {})
    progress["waiting"] = max(progress.get("waiting", 0) - len(waiting), 0)
    progress["sending"] = progress.get("sending", 0) + len(recipients)
    progress["skipped"] = progress.get("skipped", 0) + len(waiting) - len(recipients)
    campaign.progress = progress
    return recipients


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
