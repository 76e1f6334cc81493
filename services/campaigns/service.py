"""Campaigns' domain: campaign definitions and their life cycle, and the replica of segment memberships."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import outbound
from services.campaigns.models import Campaign, Exposure, SegmentMember, TriggerRequest, membership_changes
from services.campaigns.templates import check_template
from shared.db import new_id, utcnow
from shared.errors import Conflict, Invalid, NotFound, field_error
from shared.events import SegmentEntered
from shared.membership import apply_memberships, parse_segment_messages

# Templates are rendered once against this profile when saved: a template that fails here would fail on send.
SAMPLE_TRAITS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "city": "London",
    "plan": "pro",
    "age": 36,
}
EDITABLE = ("draft", "scheduled", "paused")
NULLABLE = ("frequency_cap", "webhook_url", "ab_test")  # null clears these; other fields always have a value


async def apply_segment_messages(session: AsyncSession, values: Sequence[Any]) -> list[SegmentEntered]:
    """Enter and exit memberships (replays and late messages change nothing); return the entries, for triggered
    campaigns."""
    messages = parse_segment_messages(values)
    return await apply_memberships(session, SegmentMember.__table__, membership_changes, messages)


async def queue_triggers(session: AsyncSession, entered: Sequence[SegmentEntered]) -> int:
    """Queue each entry into a target segment of an active triggered campaign (once per campaign and profile)."""
    if not entered:
        return 0
    active = (await session.scalars(select(Campaign).where(Campaign.status == "active"))).all()
    queued = 0
    for message in entered:
        for campaign in active:
            key = (campaign.id, message.profile_id)
            if message.segment_id in campaign.target_segments and await session.get(TriggerRequest, key) is None:
                session.add(
                    TriggerRequest(
                        campaign_id=key[0], profile_id=key[1], segment_id=message.segment_id, at=message.occurred_at
                    )
                )
                queued += 1
    await session.flush()
    return queued


async def segment_size(session: AsyncSession, segment_id: str) -> int:
    """How many profiles campaigns knows to be in a segment."""
    query = select(func.count()).select_from(SegmentMember).where(SegmentMember.segment_id == segment_id)
    return int(await session.scalar(query) or 0)


def check_variants(variants: list[dict[str, Any]]) -> None:
    """422 naming the variant and template that does not render against a sample profile."""
    for i, variant in enumerate(variants):
        for field, kind in (("subject", "text"), ("body", "html")):
            issues = check_template(variant.get(field, ""), SAMPLE_TRAITS, kind=kind)  # type: ignore[arg-type]
            if issues:
                where = f" (line {issues[0].line})" if issues[0].line else ""
                raise Invalid(
                    f"Variant {variant['name']!r}: the {field} template does not render{where}.",
                    fields=[field_error(f"variants[{i}].{field}", f"{issues[0].message}{where}")],
                )


async def _variants(raw: list[dict[str, Any]], old: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Variants with ids; a variant keeps its id when its name is kept (results stay joined)."""
    ids = {v["name"]: v["id"] for v in old or []}
    variants = [{"id": ids.get(v["name"]) or new_id()[:12], **v} for v in raw]
    await asyncio.to_thread(check_variants, variants)  # rendering is CPU work within a budget: off the event loop
    return variants


async def check_webhook_url(url: str | None, allowed: Sequence[outbound.Network]) -> None:
    """422 naming `webhook_url` when its host resolves into our own networks, or not at all."""
    if url and (problem := await outbound.url_problem(url, allowed)):
        raise Invalid(f"webhook_url is refused: {problem}.", fields=[field_error("webhook_url", problem)])


async def create_campaign(
    session: AsyncSession, fields: dict[str, Any], *, allowed_networks: Sequence[outbound.Network] = ()
) -> Campaign:
    """A new draft campaign; its templates must render against a sample profile, its webhook be public."""
    await check_webhook_url(fields.get("webhook_url"), allowed_networks)
    variants = await _variants(fields["variants"])
    campaign = Campaign(**fields | {"variants": variants, "status": "draft", "progress": {}})
    session.add(campaign)
    await session.flush()
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: str) -> Campaign:
    """A campaign by id, or 404."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"Campaign '{campaign_id}' does not exist.")
    return campaign


async def list_campaigns(session: AsyncSession) -> Sequence[Campaign]:
    """Every campaign, newest first."""
    return (await session.scalars(select(Campaign).order_by(Campaign.created_at.desc()))).all()


async def update_campaign(
    session: AsyncSession, campaign_id: str, changes: dict[str, Any], *,
    allowed_networks: Sequence[outbound.Network] = (),
) -> Campaign:  # fmt: skip
    """Change a campaign that is not sending (draft, scheduled or paused)."""
    campaign = await get_campaign(session, campaign_id)
    if campaign.status not in EDITABLE:
        raise Conflict(f"A {campaign.status} campaign cannot be changed; pause it first.")
    nulled = sorted(k for k, v in changes.items() if v is None and k not in NULLABLE)
    if nulled:
        raise Invalid(f"{nulled[0]} cannot be null.", fields=[field_error(k, "must not be null") for k in nulled])
    await check_webhook_url(changes.get("webhook_url"), allowed_networks)
    if "variants" in changes:
        changes["variants"] = await _variants(changes["variants"], campaign.variants)
    for key, value in changes.items():
        setattr(campaign, key, value)
    campaign.updated_at = utcnow()
    return campaign


async def launch(session: AsyncSession, campaign_id: str) -> Campaign:
    """Start (or resume) a campaign: scheduled ones wait for their time, triggered ones become active."""
    campaign = await get_campaign(session, campaign_id)
    again = campaign.channel == "audience_export" and campaign.status == "completed"  # each run is a new export
    if campaign.status not in EDITABLE and not again:
        raise Conflict(f"The campaign is {campaign.status}; only draft, scheduled or paused campaigns launch.")
    kind, at = campaign.schedule.get("type", "now"), scheduled_time(campaign)
    waits = kind == "at" and at is not None and at > utcnow()
    campaign.status = "active" if kind == "on_entry" else "scheduled" if waits else "running"
    campaign.launched_at = campaign.launched_at or utcnow()
    campaign.last_error, campaign.updated_at = None, utcnow()
    return campaign


def scheduled_time(campaign: Campaign) -> datetime | None:
    """When a campaign scheduled `at` a time is due."""
    at = campaign.schedule.get("at")
    return datetime.fromisoformat(at) if isinstance(at, str) else None


async def pause(session: AsyncSession, campaign_id: str) -> Campaign:
    """Stop sending; a later launch resumes where it stopped, sending nobody twice."""
    campaign = await get_campaign(session, campaign_id)
    if campaign.status not in ("running", "scheduled", "active", "testing"):
        raise Conflict(f"A {campaign.status} campaign cannot be paused.")
    campaign.status, campaign.updated_at = "paused", utcnow()
    return campaign


async def end_test(session: AsyncSession, campaign_id: str) -> Campaign:
    """End a campaign's A/B test now (409 unless testing): due at once, so should the job started for it find the
    campaign busy, the scheduler's next look picks the winner."""
    campaign = await get_campaign(session, campaign_id)
    if campaign.status != "testing":
        raise Conflict(f"The campaign is {campaign.status}, not testing.")
    campaign.test_ends_at, campaign.updated_at = utcnow(), utcnow()
    return campaign


async def exposures_page(
    session: AsyncSession, campaign_id: str, *, outcome: str | None, after: int | None, limit: int
) -> list[Exposure]:
    """A campaign's exposures in id order after the cursor, optionally of one outcome."""
    await get_campaign(session, campaign_id)
    query = select(Exposure).where(Exposure.campaign_id == campaign_id)
    if outcome:
        query = query.where(Exposure.outcome == outcome)
    if after is not None:
        query = query.where(Exposure.id > after)
    return list((await session.scalars(query.order_by(Exposure.id).limit(limit))).all())
