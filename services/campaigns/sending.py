"""One chunk of a campaign run: its exposures committed first (each `pending` one is the claim on its profile, and a
crash leaves it to become `unknown`, never sent again), then its mail sent, then the results committed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.campaigns import delivery, exports
from services.campaigns.delivery import Recipient
from services.campaigns.mailer import UNSENT, SmtpConfig, deliver
from services.campaigns.messages import LinkSigner, Mail, compose
from services.campaigns.models import Campaign
from services.campaigns.surveys import linked_surveys
from services.campaigns.templates import TemplateError
from shared.bus import EventBuffer
from shared.db import take_write_lock
from shared.outbox import stage
from shared.runtime import Runtime

Results = dict[int, tuple[str, str]]


@dataclass
class Planned:
    """A chunk whose exposures are committed, with its mail rendered (email) or not (other channels)."""

    campaign: Campaign
    recipients: list[Recipient]
    mails: list[tuple[int, Mail]] = field(default_factory=list)
    failed: Results = field(default_factory=dict)


def chunk_size(runtime: Runtime) -> int:
    """How many recipients are planned, sent and recorded together."""
    settings: Any = runtime.settings
    return int(settings.send_chunk_size)


async def process_chunk(runtime: Runtime, campaign_id: str, profile_ids: list[str], segment_of: dict[str, str]) -> bool:
    """Plan a chunk (exposures committed), send it, record the results (committed); True when the mail server
    refused us, so sending stops."""
    return await deliver_and_record(runtime, await plan(runtime, campaign_id, profile_ids, segment_of))


async def plan(runtime: Runtime, campaign_id: str, profile_ids: list[str], segment_of: dict[str, str]) -> Planned:
    """Record the chunk's exposures and render its mail. A triggered profile whose exposure is already final (held
    out, skipped) or who is gone is done with its request in the same transaction."""
    profiles = await runtime.extras["peers"].profiles(profile_ids)
    buffer = EventBuffer()
    async with runtime.sessions() as session:
        campaign = await load_campaign(session, campaign_id, lock=True)
        recipients = await delivery.plan_chunk(session, campaign, profiles, segment_of, buffer)
        if delivery.triggered(campaign):
            await delivery.settle_triggers(session, campaign_id, set(profile_ids) - {r.profile_id for r in recipients})
        await commit(runtime, session, buffer)
    return await prepare(runtime, campaign, recipients)


async def prepare(runtime: Runtime, campaign: Campaign, recipients: list[Recipient]) -> Planned:
    """A committed chunk with its mail rendered (email, off the event loop), so nothing but sending comes next."""
    if campaign.channel != "email" or not recipients:
        return Planned(campaign, recipients)
    async with runtime.sessions() as session:
        surveys = await linked_surveys(session, campaign.variants)
    mails, failed = await asyncio.to_thread(_compose_all, runtime.settings, campaign, recipients, surveys)
    return Planned(campaign, recipients, mails, failed)


async def deliver_and_record(runtime: Runtime, planned: Planned) -> bool:
    """Send a planned chunk and record the results; True when the mail server refused us (sending stops)."""
    if planned.campaign.channel == "email":
        results = dict(planned.failed)
        for delivered in await deliver(_smtp_config(runtime.settings), planned.mails):
            results[delivered.key] = (delivered.outcome, delivered.detail)
    else:
        results = await send(runtime, planned.campaign, planned.recipients) if planned.recipients else {}
    return await record(runtime, planned.campaign.id, planned.recipients, results)


async def send(runtime: Runtime, campaign: Campaign, recipients: Sequence[Recipient]) -> Results:
    """Deliver over a channel other than email; one (outcome, detail) per exposure id."""
    if campaign.channel == "webhook":
        return await exports.post_to_webhook(runtime.extras["http"], campaign, recipients)
    return {r.exposure_id: ("sent", "") for r in recipients}  # audience exports: the export is the delivery


async def record(runtime: Runtime, campaign_id: str, recipients: list[Recipient], results: Results) -> bool:
    """Apply a chunk's results; True when some mail was never taken (the campaign then stops sending)."""
    buffer = EventBuffer()
    async with runtime.sessions() as session:
        campaign = await load_campaign(session, campaign_id, lock=True)
        await delivery.apply_results(session, campaign, recipients, results, buffer)
        await commit(runtime, session, buffer)
    return any(outcome == UNSENT for outcome, _ in results.values())


async def release(runtime: Runtime, campaign_id: str, recipients: list[Recipient]) -> None:
    """A planned chunk that will not be sent becomes sendable again."""
    async with runtime.sessions() as session:
        await delivery.release(session, await load_campaign(session, campaign_id, lock=True), recipients)
        await session.commit()


def _smtp_config(settings: Any) -> SmtpConfig:
    """Where and how the campaigns Settings say to send."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_username, password,
                      settings.smtp_starttls, settings.smtp_concurrency, settings.send_rate_per_second)  # fmt: skip


def _compose_all(
    settings: Any, campaign: Campaign, recipients: Sequence[Recipient], surveys: dict[str, dict[str, Any]]
) -> tuple[list[tuple[int, Mail]], Results]:
    """Render every mail (CPU-bound: run in a thread); a template that fails marks its exposure failed."""
    messages, failed = [], {}
    secret = settings.link_secret.get_secret_value()
    for r in recipients:
        links = LinkSigner(settings.tracking_public_url.rstrip("/"), secret, campaign.id, r.variant["id"], r.profile_id,
                           surveys=surveys)  # fmt: skip
        try:
            messages.append(
                (
                    r.exposure_id,
                    compose(
                        to=r.email or "", sender=settings.mail_from, variant=r.variant, traits=r.traits, links=links
                    ),
                )
            )
        except TemplateError as exc:
            failed[r.exposure_id] = ("failed", f"template: {exc.message}"[:500])
    return messages, failed


async def load_campaign(session: Any, campaign_id: str, *, lock: bool = False) -> Campaign:
    """A campaign that must exist (a run whose campaign is gone fails); with `lock` its row stays locked until the
    transaction ends, because the planning of one chunk and the recording of the one before both count progress."""
    if lock:
        await take_write_lock(session, Campaign.__table__)
    campaign = await session.get(Campaign, campaign_id, with_for_update=lock)
    if campaign is None:
        raise LookupError(f"campaign {campaign_id} is gone")
    return campaign  # type: ignore[no-any-return]


async def commit(runtime: Runtime, session: Any, buffer: EventBuffer) -> None:
    """Commit with the buffered events staged in the outbox, then wake the relay."""
    await stage(session, runtime.outbox, buffer)
    await session.commit()
    runtime.relay.notify()
