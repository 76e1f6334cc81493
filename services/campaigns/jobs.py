"""Campaign runs as background jobs: audience from segmentation, contacts from profiles, mail over SMTP, chunk by
chunk with a commit before and after each send; scheduled launches, A/B winners and triggered sends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete, select

from services.campaigns import delivery, exports
from services.campaigns.clients import Platform
from services.campaigns.delivery import Recipient
from services.campaigns.mailer import UNSENT, SmtpConfig, deliver
from services.campaigns.messages import LinkSigner, Mail, compose
from services.campaigns.models import Campaign, Exposure, TriggerRequest
from services.campaigns.results import winner_of
from services.campaigns.service import scheduled_time
from services.campaigns.templates import TemplateError
from shared.bus import EventBuffer
from shared.db import utcnow
from shared.errors import describe_error
from shared.outbox import stage
from shared.runtime import Runtime

log = structlog.get_logger(__name__)
CHUNK = 500
Results = dict[int, tuple[str, str]]


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def collect_audience(platform: Platform, campaign: Campaign) -> dict[str, str]:
    """profile → the first target segment it is in, less the members of the exclusion segments."""
    audience: dict[str, str] = {}
    for segment_id in campaign.target_segments:
        async for profile_id in platform.segment_members(segment_id):
            audience.setdefault(profile_id, segment_id)
    for segment_id in campaign.exclude_segments:
        async for profile_id in platform.segment_members(segment_id):
            audience.pop(profile_id, None)
    return audience


async def run_campaign(runtime: Runtime, campaign_id: str) -> None:
    """Send a running campaign to its audience (resuming: already exposed profiles are never processed again)."""
    running: set[str] = runtime.extras.setdefault("running", set())
    if campaign_id in running:
        return
    running.add(campaign_id)
    try:
        await _run(runtime, campaign_id)
    except Exception as exc:
        error = describe_error(exc)  # the exception's text can quote SQL parameters: names, addresses
        log.error("campaign_run_failed", campaign_id=campaign_id, error=error)
        await _set_status(runtime, campaign_id, "paused", error)
    finally:
        running.discard(campaign_id)


async def _run(runtime: Runtime, campaign_id: str) -> None:
    async with runtime.sessions() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or campaign.status != "running":
            return
        await delivery.mark_interrupted(session, campaign_id)
        await session.commit()
    if campaign.channel == "audience_export":
        await _run_export(runtime, campaign)
    elif campaign.winner_variant_id:
        await _send_waiting(runtime, campaign_id)
    else:
        audience = await collect_audience(runtime.extras["platform"], campaign)
        async with runtime.sessions() as session:
            done = await delivery.exposed(session, campaign_id)
        todo = sorted(set(audience) - done)
        await _progress(runtime, campaign_id, audience=len(audience))
        await _pipeline(runtime, campaign_id, [list(c) for c in _chunks(todo)], audience)
    await _finish(runtime, campaign_id)


@dataclass
class Planned:
    """A chunk whose exposures are committed, with its mail rendered (email) or not (other channels)."""

    recipients: list[Recipient]
    mails: list[tuple[int, Mail]] = field(default_factory=list)
    failed: Results = field(default_factory=dict)


async def _pipeline(runtime: Runtime, campaign_id: str, chunks: list[list[str]], segment_of: dict[str, str]) -> None:
    """Plan and render the next chunk while the current one is on the wire (SMTP would otherwise sit idle)."""
    ready: asyncio.Queue[Planned | Exception | None] = asyncio.Queue(maxsize=1)

    async def plan_all() -> None:
        try:
            for chunk in chunks:
                if not await _still(runtime, campaign_id, "running"):
                    break
                await ready.put(await _plan(runtime, campaign_id, chunk, segment_of))
        except Exception as exc:  # handed to the sending side, which stops the run with it
            await ready.put(exc)
            return
        await ready.put(None)

    planner = asyncio.create_task(plan_all())
    stopped = False
    try:
        while (item := await ready.get()) is not None:
            if isinstance(item, Exception):
                raise item
            if stopped:  # the mail server refused us: what was planned meanwhile never left
                await _release(runtime, campaign_id, item.recipients)
            else:
                stopped = await _deliver_and_record(runtime, campaign_id, item)
    finally:
        planner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await planner


async def _plan(runtime: Runtime, campaign_id: str, profile_ids: list[str], segment_of: dict[str, str]) -> Planned:
    profiles = await runtime.extras["platform"].profiles(profile_ids)
    buffer = EventBuffer()
    async with runtime.sessions() as session:
        campaign = await _campaign(session, campaign_id)
        recipients = await delivery.plan_chunk(session, campaign, profiles, segment_of, buffer)
        await _commit(runtime, session, buffer)
    if campaign.channel != "email" or not recipients:
        return Planned(recipients)
    mails, failed = await asyncio.to_thread(_compose_all, runtime.settings, campaign, recipients)
    return Planned(recipients, mails, failed)


async def _deliver_and_record(runtime: Runtime, campaign_id: str, planned: Planned) -> bool:
    """Send a planned chunk and record the results; True when the mail server refused us (the campaign paused)."""
    async with runtime.sessions() as session:
        campaign = await _campaign(session, campaign_id)
    if campaign.channel == "email":
        results = dict(planned.failed)
        for delivered in await deliver(_smtp_config(runtime.settings), planned.mails):
            results[delivered.key] = (delivered.outcome, delivered.detail)
    else:
        results = await send(runtime, campaign, planned.recipients) if planned.recipients else {}
    return await _record(runtime, campaign_id, planned.recipients, results)


async def _run_export(runtime: Runtime, campaign: Campaign) -> None:
    """Upload the whole current audience (hashed), recording what was added and removed since the last export."""
    audience = await collect_audience(runtime.extras["platform"], campaign)
    await _progress(runtime, campaign.id, audience=len(audience), processed=0, sent=0, held_out=0, skipped=0)
    for chunk in _chunks(sorted(audience)):
        profiles = await runtime.extras["platform"].profiles(list(chunk))
        buffer = EventBuffer()
        async with runtime.sessions() as session:
            current = await _campaign(session, campaign.id)
            recipients = await delivery.plan_export(session, current, profiles, audience, buffer)
            await exports.add_to_pending_export(session, current, recipients)
            await _commit(runtime, session, buffer)


async def process_chunk(runtime: Runtime, campaign_id: str, profile_ids: list[str], segment_of: dict[str, str]) -> None:
    """Plan a chunk (exposures committed), send it, record the results (committed)."""
    await _deliver_and_record(runtime, campaign_id, await _plan(runtime, campaign_id, profile_ids, segment_of))


async def _send_and_record(runtime: Runtime, campaign_id: str, recipients: list[Recipient]) -> None:
    async with runtime.sessions() as session:
        campaign = await _campaign(session, campaign_id)
    results = await send(runtime, campaign, recipients) if recipients else {}
    await _record(runtime, campaign_id, recipients, results)


async def _record(runtime: Runtime, campaign_id: str, recipients: list[Recipient], results: Results) -> bool:
    """Apply a chunk's results; True when some mail was never taken (the campaign is then paused)."""
    buffer = EventBuffer()
    async with runtime.sessions() as session:
        campaign = await _campaign(session, campaign_id)
        await delivery.apply_results(session, campaign, recipients, results, buffer)
        await _commit(runtime, session, buffer)
    return any(outcome == UNSENT for outcome, _ in results.values())


async def _release(runtime: Runtime, campaign_id: str, recipients: list[Recipient]) -> None:
    async with runtime.sessions() as session:
        await delivery.release(session, await _campaign(session, campaign_id), recipients)
        await session.commit()


async def send(runtime: Runtime, campaign: Campaign, recipients: Sequence[Recipient]) -> Results:
    """Deliver over the campaign's channel; one (outcome, detail) per exposure id."""
    if campaign.channel == "email":
        return await _send_mail(runtime, campaign, recipients)
    if campaign.channel == "webhook":
        return await exports.post_to_webhook(runtime.extras["http"], campaign, recipients)
    return {r.exposure_id: ("sent", "") for r in recipients}  # audience exports: the export is the delivery


async def _send_mail(runtime: Runtime, campaign: Campaign, recipients: Sequence[Recipient]) -> Results:
    messages, results = await asyncio.to_thread(_compose_all, runtime.settings, campaign, recipients)
    for delivered in await deliver(_smtp_config(runtime.settings), messages):
        results[delivered.key] = (delivered.outcome, delivered.detail)
    return results


def _smtp_config(settings: Any) -> SmtpConfig:
    """Where and how the campaigns Settings say to send."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_username, password,
                      settings.smtp_starttls, settings.smtp_concurrency, settings.send_rate_per_second)  # fmt: skip


def _compose_all(
    settings: Any, campaign: Campaign, recipients: Sequence[Recipient]
) -> tuple[list[tuple[int, Mail]], Results]:
    """Render every mail (CPU-bound: run in a thread); a template that fails marks its exposure failed."""
    messages, failed = [], {}
    secret = settings.link_secret.get_secret_value()
    for r in recipients:
        links = LinkSigner(settings.tracking_public_url.rstrip("/"), secret, campaign.id, r.variant["id"], r.profile_id)
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


async def _send_waiting(runtime: Runtime, campaign_id: str) -> None:
    """After an A/B test: the winning variant goes to everyone still waiting."""
    while await _still(runtime, campaign_id, "running"):
        async with runtime.sessions() as session:
            query = select(Exposure.profile_id, Exposure.segment_id).where(
                Exposure.campaign_id == campaign_id, Exposure.outcome == "waiting"
            )
            waiting = dict((await session.execute(query.limit(CHUNK))).all())
        if not waiting:
            return
        profiles = await runtime.extras["platform"].profiles(list(waiting))
        buffer = EventBuffer()
        async with runtime.sessions() as session:
            campaign = await _campaign(session, campaign_id)
            recipients = await delivery.plan_waiting(session, campaign, profiles, set(waiting), buffer)
            await _commit(runtime, session, buffer)
        await _send_and_record(runtime, campaign_id, recipients)


async def _finish(runtime: Runtime, campaign_id: str) -> None:
    async with runtime.sessions() as session:
        campaign = await _campaign(session, campaign_id)
        if campaign.status != "running":
            return
        waiting = campaign.ab_test and not campaign.winner_variant_id and campaign.progress.get("waiting")
        if waiting:
            campaign.status = "testing"
            campaign.test_ends_at = utcnow() + timedelta(hours=campaign.ab_test["wait_hours"])  # type: ignore[index]
        else:
            campaign.status = "completed"
        if campaign.channel == "audience_export":
            await exports.close_pending_export(session, campaign, runtime.extras["http"])
        campaign.updated_at = utcnow()
        await session.commit()


async def pick_winner(runtime: Runtime, campaign_id: str) -> str | None:
    """End an A/B test: the variant best on its metric wins and goes to the rest of the audience."""
    async with runtime.sessions() as session:
        campaign = await _campaign(session, campaign_id)
        if campaign.status != "testing":
            return campaign.winner_variant_id
        campaign.winner_variant_id = await winner_of(session, campaign)
        campaign.status, campaign.updated_at = "running", utcnow()
        await session.commit()
    await run_campaign(runtime, campaign_id)
    return campaign.winner_variant_id


async def process_triggers(runtime: Runtime) -> None:
    """Send triggered campaigns to the profiles that entered their segments since the last look."""
    async with runtime.sessions() as session:
        query = (
            select(TriggerRequest)
            .join(Campaign, Campaign.id == TriggerRequest.campaign_id)
            .where(Campaign.status == "active")
        )
        requests = (await session.scalars(query.limit(CHUNK))).all()
        by_campaign: dict[str, dict[str, str]] = {}
        for r in requests:
            by_campaign.setdefault(r.campaign_id, {})[r.profile_id] = r.segment_id
        done = {c: await delivery.exposed(session, c) for c in by_campaign}
        for r in requests:
            await session.execute(
                delete(TriggerRequest).where(
                    TriggerRequest.campaign_id == r.campaign_id, TriggerRequest.profile_id == r.profile_id
                )
            )
        await session.commit()
    for campaign_id, segment_of in by_campaign.items():
        todo = sorted(set(segment_of) - done[campaign_id])
        if todo:
            await process_chunk(runtime, campaign_id, todo, segment_of)


async def run_due(runtime: Runtime) -> None:
    """One look at everything time-driven: scheduled launches, A/B test ends, interrupted runs, triggered sends."""
    now = utcnow()
    async with runtime.sessions() as session:
        campaigns = (
            await session.scalars(select(Campaign).where(Campaign.status.in_(("scheduled", "testing", "running"))))
        ).all()
        for c in campaigns:
            at = scheduled_time(c)
            if c.status == "scheduled" and at is not None and at <= now:
                c.status = "running"
        await session.commit()
    for c in campaigns:
        if c.status == "testing" and c.test_ends_at is not None and c.test_ends_at <= now:
            await pick_winner(runtime, c.id)
        elif c.status == "running":
            await run_campaign(runtime, c.id)
    await process_triggers(runtime)


async def _campaign(session: Any, campaign_id: str) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"campaign {campaign_id} is gone")
    return campaign  # type: ignore[no-any-return]


async def _commit(runtime: Runtime, session: Any, buffer: EventBuffer) -> None:
    await stage(session, runtime.outbox, buffer)
    await session.commit()
    runtime.relay.notify()


async def _still(runtime: Runtime, campaign_id: str, status: str) -> bool:
    async with runtime.sessions() as session:
        return await session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) == status


async def _progress(runtime: Runtime, campaign_id: str, **values: int) -> None:
    async with runtime.sessions() as session:
        campaign = await _campaign(session, campaign_id)
        campaign.progress = dict(campaign.progress or {}) | values
        await session.commit()


async def _set_status(runtime: Runtime, campaign_id: str, status: str, error: str | None) -> None:
    async with runtime.sessions() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is not None:
            campaign.status, campaign.last_error, campaign.updated_at = status, error, utcnow()
            await session.commit()
