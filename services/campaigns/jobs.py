"""Campaign runs as background jobs: audience from segmentation, contacts from profiles, mail over SMTP, chunk by
chunk (`sending`); scheduled launches, A/B winners and triggered sends. Work is done once across replicas: one
process at a time sends for a campaign (it holds the campaign's lock, `shared.db.try_lock`), a campaign moves only
from the status a run expects (`UPDATE … WHERE status = …`), and work is marked done only once its mail is sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import delivery, exports
from services.campaigns.models import Campaign, Exposure, SegmentMember, TriggerRequest
from services.campaigns.results import winner_of
from services.campaigns.sending import (
    Planned,
    chunk_size,
    commit,
    deliver_and_record,
    load_campaign,
    plan,
    prepare,
    process_chunk,
    release,
)
from services.campaigns.service import scheduled_time
from shared.bus import EventBuffer
from shared.db import try_lock, utcnow
from shared.errors import describe_error
from shared.runtime import Runtime

log = structlog.get_logger(__name__)
Begin = Callable[[Runtime, str], Awaitable[None]]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def collect_audience(session: AsyncSession, campaign: Campaign) -> dict[str, str]:
    """profile → the first target segment it is in, less the members of the exclusion segments, from campaigns' own
    copy of the memberships (the one source for audiences, sizes and triggers)."""
    audience: dict[str, str] = {}
    for segment_id in campaign.target_segments:  # the first segment the campaign names wins
        members = select(SegmentMember.profile_id).where(SegmentMember.segment_id == segment_id)
        for profile_id in (await session.scalars(members)).all():
            audience.setdefault(profile_id, segment_id)
    excluded = select(SegmentMember.profile_id).where(SegmentMember.segment_id.in_(campaign.exclude_segments))
    for profile_id in (await session.scalars(excluded)).all():
        audience.pop(profile_id, None)
    return audience


@asynccontextmanager
async def sending_for(runtime: Runtime, campaign_id: str) -> AsyncIterator[bool]:
    """Whether this process may send for the campaign until the block ends: False while another run holds it, in
    this process or another replica (a crashed holder lets go with its connection or process)."""
    async with try_lock(runtime.engine, f"campaigns:send:{campaign_id}") as held:
        yield held


async def run_campaign(runtime: Runtime, campaign_id: str) -> None:
    """Send a running campaign to its audience (resuming: already exposed profiles are never processed again)."""
    await _claimed_run(runtime, campaign_id)


async def launch_due(runtime: Runtime, campaign_id: str) -> None:
    """Start a scheduled campaign whose time has come (`scheduled` becomes `running` once) and send it."""
    await _claimed_run(runtime, campaign_id, _start_if_due)


async def pick_winner(runtime: Runtime, campaign_id: str) -> None:
    """End an A/B test: the variant best on its metric wins and goes to the rest of the audience."""
    await _claimed_run(runtime, campaign_id, _choose_winner)


async def _claimed_run(runtime: Runtime, campaign_id: str, begin: Begin | None = None) -> None:
    async with sending_for(runtime, campaign_id) as held:
        if not held:
            return  # the run holding it sends what this one would have
        if begin is not None:
            await begin(runtime, campaign_id)
        try:
            await _run(runtime, campaign_id)
        except Exception as exc:
            error = describe_error(exc)  # the exception's text can quote SQL parameters: names, addresses
            log.error("campaign_run_failed", campaign_id=campaign_id, error=error)
            await _set_error(runtime, campaign_id, error, status="paused")


async def _start_if_due(runtime: Runtime, campaign_id: str) -> None:
    async with runtime.sessions() as session:
        campaign = await load_campaign(session, campaign_id)
        at = scheduled_time(campaign)
        if campaign.status == "scheduled" and at is not None and at <= utcnow():
            await _move(session, campaign_id, "scheduled", "running")
            await session.commit()


async def _choose_winner(runtime: Runtime, campaign_id: str) -> None:
    async with runtime.sessions() as session:
        campaign = await load_campaign(session, campaign_id)
        if campaign.status == "testing":
            winner = await winner_of(session, campaign)
            await _move(session, campaign_id, "testing", "running", winner_variant_id=winner)
            await session.commit()


async def _move(session: Any, campaign_id: str, old: str, new: str, **values: Any) -> None:
    """Move a campaign from status `old` to `new` only if it is still in `old` (a pause may have moved it)."""
    query = update(Campaign).where(Campaign.id == campaign_id, Campaign.status == old)
    values |= {"status": new, "updated_at": utcnow()}
    await session.execute(query.values(**values).execution_options(synchronize_session=False))


async def _run(runtime: Runtime, campaign_id: str) -> None:
    async with runtime.sessions() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or campaign.status != "running":
            return
        await delivery.mark_interrupted(session, campaign_id)  # no other run holds the campaign: they are a dead one's
        await session.commit()
    if campaign.channel == "audience_export":
        done = await _run_export(runtime, campaign)
    elif campaign.winner_variant_id:
        done = await _send_waiting(runtime, campaign_id)
    else:
        done = await _send_audience(runtime, campaign)
    if done:
        await _finish(runtime, campaign_id)


async def _send_audience(runtime: Runtime, campaign: Campaign) -> bool:
    """Send to every profile of the audience not exposed yet; True when all of it went through."""
    async with runtime.sessions() as session:
        audience = await collect_audience(session, campaign)
        done = await delivery.exposed(session, campaign.id)
    todo = sorted(set(audience) - done)
    await _progress(runtime, campaign.id, audience=len(audience))
    return await _pipeline(runtime, campaign.id, [list(c) for c in _chunks(todo, chunk_size(runtime))], audience)


async def _pipeline(runtime: Runtime, campaign_id: str, chunks: list[list[str]], segment_of: dict[str, str]) -> bool:
    """Plan and render the next chunk while the current one is on the wire (SMTP would otherwise sit idle); True when
    every chunk was sent (not paused, and the mail server never refused us)."""
    ahead: asyncio.Task[Planned | None] | None = None
    try:
        for i in range(len(chunks)):
            planned = await ahead if ahead else await _plan_running(runtime, campaign_id, chunks[i], segment_of)
            ahead = None
            if planned is None:
                return False  # paused
            if i + 1 < len(chunks):
                ahead = asyncio.create_task(_plan_running(runtime, campaign_id, chunks[i + 1], segment_of))
            if await deliver_and_record(runtime, planned):
                return False
        return True
    finally:
        if ahead is not None:
            await _release_planned(runtime, campaign_id, ahead)


async def _plan_running(
    runtime: Runtime, campaign_id: str, chunk: list[str], segment_of: dict[str, str]
) -> Planned | None:
    """The chunk planned, unless the campaign stopped running (None)."""
    if not await _still(runtime, campaign_id, "running"):
        return None
    return await plan(runtime, campaign_id, chunk, segment_of)


async def _release_planned(runtime: Runtime, campaign_id: str, ahead: asyncio.Task[Planned | None]) -> None:
    """A chunk planned ahead whose run stopped before sending it never left: it becomes sendable again (awaited,
    never cancelled mid-commit; if even this fails, its exposures stay pending and a resumed run marks them unknown)."""
    with contextlib.suppress(Exception):
        planned = await ahead
        if planned is not None:
            await release(runtime, campaign_id, planned.recipients)


async def _run_export(runtime: Runtime, campaign: Campaign) -> bool:
    """Upload the whole current audience (hashed), recording what was added and removed since the last export."""
    async with runtime.sessions() as session:
        audience = await collect_audience(session, campaign)
    await _progress(runtime, campaign.id, audience=len(audience), processed=0, sent=0, held_out=0, skipped=0)
    for chunk in _chunks(sorted(audience), chunk_size(runtime)):
        profiles = await runtime.extras["peers"].profiles(list(chunk))
        buffer = EventBuffer()
        async with runtime.sessions() as session:
            current = await load_campaign(session, campaign.id, lock=True)
            recipients = await delivery.plan_export(session, current, profiles, audience, buffer)
            await exports.add_to_pending_export(session, current, recipients)
            await commit(runtime, session, buffer)
    return True


async def _send_waiting(runtime: Runtime, campaign_id: str) -> bool:
    """After an A/B test the winning variant goes to everyone still waiting; True when nobody is left waiting."""
    while await _still(runtime, campaign_id, "running"):
        async with runtime.sessions() as session:
            query = select(Exposure.profile_id).where(
                Exposure.campaign_id == campaign_id, Exposure.outcome == "waiting"
            )
            query = query.order_by(Exposure.id).limit(chunk_size(runtime))
            waiting = set((await session.scalars(query)).all())
        if not waiting:
            return True
        profiles = await runtime.extras["peers"].profiles(sorted(waiting))
        buffer = EventBuffer()
        async with runtime.sessions() as session:
            campaign = await load_campaign(session, campaign_id, lock=True)
            recipients = await delivery.plan_waiting(session, campaign, profiles, waiting, buffer)
            await commit(runtime, session, buffer)
        if await deliver_and_record(runtime, await prepare(runtime, campaign, recipients)):
            return False
    return False


async def _finish(runtime: Runtime, campaign_id: str) -> None:
    async with runtime.sessions() as session:
        campaign = await load_campaign(session, campaign_id)
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


async def process_triggers(runtime: Runtime) -> None:
    """Send triggered campaigns to the profiles queued since the last look. A request stays queued until its
    profile's exposure is final, so what a look could not send (the mail server refused us, a failure part-way)
    waits for the next look."""
    async with runtime.sessions() as session:
        query = select(TriggerRequest.campaign_id).join(Campaign, Campaign.id == TriggerRequest.campaign_id)
        campaign_ids = (await session.scalars(query.where(Campaign.status == "active").distinct())).all()
    for campaign_id in campaign_ids:
        async with sending_for(runtime, campaign_id) as held:
            if held:
                await _send_triggered(runtime, campaign_id)


async def _send_triggered(runtime: Runtime, campaign_id: str) -> None:
    try:
        async with runtime.sessions() as session:
            await delivery.mark_interrupted(session, campaign_id)  # no other run holds the campaign
            await session.commit()
        while await _still(runtime, campaign_id, "active"):
            batch = await _next_triggered(runtime, campaign_id)
            if batch is None or (batch and await process_chunk(runtime, campaign_id, sorted(batch), batch)):
                return  # the queue is empty, or the mail server took none of it
    except Exception as exc:
        error = describe_error(exc)
        log.error("triggered_send_failed", campaign_id=campaign_id, error=error)
        await _set_error(runtime, campaign_id, error)  # still active: the requests wait for the next look


async def _next_triggered(runtime: Runtime, campaign_id: str) -> dict[str, str] | None:
    """The oldest queued requests (profile → segment), less those whose profile was exposed already (their
    requests are done now); None when nothing is queued."""
    async with runtime.sessions() as session:
        query = select(TriggerRequest.profile_id, TriggerRequest.segment_id).where(
            TriggerRequest.campaign_id == campaign_id
        )
        query = query.order_by(TriggerRequest.at, TriggerRequest.profile_id).limit(chunk_size(runtime))
        rows = (await session.execute(query)).all()
        done = await delivery.exposed(session, campaign_id, among=[profile_id for profile_id, _ in rows])
        await delivery.settle_triggers(session, campaign_id, done)
        await session.commit()
    return {str(p): str(s) for p, s in rows if p not in done} if rows else None


async def run_due(runtime: Runtime) -> None:
    """One look at everything time-driven: scheduled launches, A/B test ends, interrupted runs, triggered sends;
    each is done by the process that holds its campaign, and the others pass."""
    now = utcnow()
    async with runtime.sessions() as session:
        query = select(Campaign).where(Campaign.status.in_(("scheduled", "testing", "running")))
        campaigns = (await session.scalars(query)).all()
    for c in campaigns:
        at = scheduled_time(c)
        if c.status == "scheduled" and at is not None and at <= now:
            await launch_due(runtime, c.id)
        elif c.status == "testing" and c.test_ends_at is not None and c.test_ends_at <= now:
            await pick_winner(runtime, c.id)
        elif c.status == "running":
            await run_campaign(runtime, c.id)
    await process_triggers(runtime)


async def _still(runtime: Runtime, campaign_id: str, status: str) -> bool:
    async with runtime.sessions() as session:
        return await session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) == status


async def _progress(runtime: Runtime, campaign_id: str, **values: int) -> None:
    async with runtime.sessions() as session:
        campaign = await load_campaign(session, campaign_id, lock=True)
        campaign.progress = dict(campaign.progress or {}) | values
        await session.commit()


async def _set_error(runtime: Runtime, campaign_id: str, error: str | None, status: str | None = None) -> None:
    async with runtime.sessions() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is not None:
            campaign.status = status or campaign.status
            campaign.last_error, campaign.updated_at = error, utcnow()
            await session.commit()
