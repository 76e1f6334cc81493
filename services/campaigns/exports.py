"""Audience exports (hashed identifiers for ad platforms' customer lists, incremental) and webhook deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.audiences import AdPlatform, customer_list_csv, diff_members, hash_email, hash_phone
from services.campaigns.delivery import Recipient
from services.campaigns.models import AudienceExport, Campaign
from services.campaigns.outbound_http import refused
from shared.db import utcnow
from shared.errors import Conflict, NotFound

TRIES, BACKOFF_SECONDS = 3, 0.5
UNREACHABLE = "unreachable"
BUILDING = "building"


def hashed_row(recipient: Recipient) -> list[str]:
    """[email hash, phone hash for Google Ads (E.164 with +), phone hash for Meta (digits)]; "" where absent."""
    return [
        hash_email(recipient.email) or "",
        hash_phone(recipient.phone, platform="google_ads") or "",
        hash_phone(recipient.phone, platform="meta") or "",
    ]


async def add_to_pending_export(session: AsyncSession, campaign: Campaign, recipients: Sequence[Recipient]) -> None:
    """Add recipients' hashed identifiers to the export this run is building."""
    export = await session.scalar(
        select(AudienceExport).where(AudienceExport.campaign_id == campaign.id, AudienceExport.pushed == BUILDING)
    )
    if export is None:
        export = AudienceExport(campaign_id=campaign.id, platform="all", rows=[], added=0, removed=[], pushed=BUILDING)
        session.add(export)
    rows = [row for row in map(hashed_row, recipients) if row[0] or row[1]]
    export.rows = [*export.rows, *rows]


async def close_pending_export(session: AsyncSession, campaign: Campaign, http: httpx.AsyncClient) -> None:
    """Finish this run's export: what was added and removed since the last one; push it if a webhook is set."""
    export = await session.scalar(
        select(AudienceExport).where(AudienceExport.campaign_id == campaign.id, AudienceExport.pushed == BUILDING)
    )
    if export is None:
        return
    previous = await session.scalar(
        select(AudienceExport)
        .where(
            AudienceExport.campaign_id == campaign.id, AudienceExport.id != export.id, AudienceExport.pushed != BUILDING
        )
        .order_by(AudienceExport.created_at.desc())
        .limit(1)
    )
    change = diff_members(map(tuple, previous.rows if previous else []), map(tuple, export.rows))
    export.added, export.removed = len(change.added), sorted(list(r) for r in change.removed)
    export.pushed, export.created_at = None, utcnow()
    if campaign.webhook_url:
        await _push(http, campaign, export, sorted(list(r) for r in change.added))


async def push_again(
    session: AsyncSession, campaign: Campaign, export_id: str, http: httpx.AsyncClient
) -> AudienceExport:
    """Push a finished export to the campaign's webhook again (after a failure); 409 without a webhook."""
    export = await session.get(AudienceExport, export_id)
    if export is None or export.campaign_id != campaign.id or export.pushed == BUILDING:
        raise NotFound(f"Export '{export_id}' of campaign '{campaign.id}' does not exist.")
    if not campaign.webhook_url:
        raise Conflict("The campaign has no webhook_url to push its exports to.")
    previous = await _previous(session, export)
    await _push(http, campaign, export, [r for r in export.rows if tuple(r) not in previous])
    return export


async def _push(http: httpx.AsyncClient, campaign: Campaign, export: AudienceExport, added: list[list[str]]) -> None:
    body = {"campaign_id": campaign.id, "export_id": export.id, "rows": export.rows, "added": added,
            "removed": export.removed}  # fmt: skip
    ok, detail = await post_with_retries(http, str(campaign.webhook_url), body)
    export.pushed, export.push_error = ("ok", None) if ok else ("failed", detail)


async def post_with_retries(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> tuple[bool, str]:
    """POST JSON; network errors, 429 and 5xx are retried with backoff; (succeeded, last error). A call that fails
    before an answer is only "unreachable": addresses, ports and error texts would map the network behind us."""
    detail = ""
    for attempt in range(TRIES):
        try:
            response = await http.post(url, json=body)
            if response.is_success:
                return True, ""
            detail = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                return False, detail
        except httpx.HTTPError as exc:
            detail = UNREACHABLE
            if refused(exc):
                return False, detail
        await asyncio.sleep(BACKOFF_SECONDS * 2**attempt)
    return False, detail


async def post_to_webhook(
    http: httpx.AsyncClient, campaign: Campaign, recipients: Sequence[Recipient]
) -> dict[int, tuple[str, str]]:
    """The webhook channel: one POST per recipient (ids and variant, no contact data)."""

    async def one(r: Recipient) -> tuple[int, tuple[str, str]]:
        body = {
            "campaign_id": campaign.id,
            "profile_id": r.profile_id,
            "variant_id": r.variant["id"],
            "variant": r.variant["name"],
            "segment_id": r.segment_id,
        }
        ok, detail = await post_with_retries(http, str(campaign.webhook_url), body)
        return r.exposure_id, ("sent", "") if ok else ("failed", detail)

    return dict(await asyncio.gather(*(one(r) for r in recipients)))


async def list_exports(session: AsyncSession, campaign_id: str) -> Sequence[AudienceExport]:
    """A campaign's finished exports, newest first."""
    query = select(AudienceExport).where(
        AudienceExport.campaign_id == campaign_id, AudienceExport.pushed.is_distinct_from(BUILDING)
    )
    return (await session.scalars(query.order_by(AudienceExport.created_at.desc()))).all()


async def export_csv(session: AsyncSession, campaign_id: str, export_id: str, platform: AdPlatform, part: str) -> str:
    """A customer-list CSV of an export for one platform: all rows, or only those added or removed."""
    export = await session.get(AudienceExport, export_id)
    if export is None or export.campaign_id != campaign_id or export.pushed == BUILDING:
        raise NotFound(f"Export '{export_id}' of campaign '{campaign_id}' does not exist.")
    rows = export.removed if part == "removed" else export.rows
    if part == "added":
        previous = await _previous(session, export)
        rows = [r for r in export.rows if tuple(r) not in previous]
    phone = 1 if platform == "google_ads" else 2
    return customer_list_csv(((r[0], r[phone]) for r in rows), platform=platform)


async def _previous(session: AsyncSession, export: AudienceExport) -> set[tuple[str, ...]]:
    query = select(AudienceExport.rows).where(
        AudienceExport.campaign_id == export.campaign_id,
        AudienceExport.created_at < export.created_at,
        AudienceExport.pushed.is_distinct_from(BUILDING),
    )
    rows = await session.scalar(query.order_by(AudienceExport.created_at.desc()).limit(1))
    return {tuple(r) for r in rows or []}
