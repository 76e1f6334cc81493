"""What recipients did after a campaign reached them, from `tessera.events.v1`: opens (human or machine), clicks
and unsubscribes of its mail, and goal events (conversions) of profiles a campaign sent to or held out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.models import Campaign, Conversion, Interaction, KnownIdentity
from services.campaigns.retention import ORDER_EVENT
from shared.db import insert_many
from shared.events import TrackedEvent

EMAIL_EVENTS = {"Email Opened": "open", "Email Link Clicked": "click", "Unsubscribed": "unsubscribe"}


async def goal_events(session: AsyncSession) -> set[str]:
    """The goal events of every campaign, and orders (retention uplift); conversions of other events are not kept."""
    return set((await session.scalars(select(Campaign.goal_event).distinct())).all()) | {ORDER_EVENT}


async def record_events(session: AsyncSession, events: Sequence[TrackedEvent]) -> None:
    """Keep email interactions and recipients' goal events; everything else is passed over, replays too."""
    goals = await goal_events(session)
    wanted = [e for e in events if e.event_name in EMAIL_EVENTS or e.event_name in goals]
    if not wanted:
        return
    unique = {e.dedup_key: e for e in wanted}  # a redelivery may repeat a message within one batch
    seen = await _seen(session, list(unique))
    fresh = {key: e for key, e in unique.items() if key not in seen}
    profiles = await profiles_of(session, fresh)
    interactions, conversions = [], []
    for key, event in fresh.items():
        profile_id, name, properties = profiles.get(key), event.event_name, event.properties
        if name in EMAIL_EVENTS and properties.get("campaign_id") and profile_id:
            interactions.append(_interaction(key, event, profile_id))
        elif name in goals and profile_id:
            conversions.append(
                {
                    "message_id": key,
                    "profile_id": profile_id,
                    "event": name,
                    "revenue": event.revenue,
                    "at": event.timestamp,
                }  # fmt: skip
            )
    await insert_many(session, Interaction.__table__, interactions)
    await insert_many(session, Conversion.__table__, conversions)


def _interaction(key: str, event: TrackedEvent, profile_id: str) -> dict[str, Any]:
    properties = event.properties
    kind = EMAIL_EVENTS[str(event.event_name)]
    if kind == "open":
        kind = "machine_open" if properties.get("machine_open") else "human_open"
    return {
        "message_id": key,
        "campaign_id": str(properties["campaign_id"])[:32],
        "profile_id": profile_id,
        "variant_id": _short(properties.get("variant_id")),
        "kind": kind,
        "url": _link(properties) if kind == "click" else None,
        "at": event.timestamp,
    }


def _link(properties: dict[str, Any]) -> str | None:
    url = properties.get("url")
    return url[:2000] if isinstance(url, str) else None


def _short(value: Any) -> str | None:
    return str(value)[:32] if value else None


async def _seen(session: AsyncSession, message_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for table in (Interaction, Conversion):
        query = select(table.message_id).where(table.message_id.in_(message_ids))
        found |= set((await session.scalars(query)).all())
    return found


async def profiles_of(session: AsyncSession, events: dict[str, TrackedEvent]) -> dict[str, str]:
    """message key → the recipient profile it belongs to, through the identities campaigns remembered."""
    keys: dict[str, list[tuple[str, str]]] = {}
    for key, event in events.items():
        candidates = [
            ("profile", event.context.get("profileId")),
            ("user_id", event.userId),
            ("anonymous_id", event.anonymousId),
        ]
        keys[key] = [(k, str(v)) for k, v in candidates if v]
    wanted = {pair for pairs in keys.values() for pair in pairs}
    known: dict[tuple[str, str], str] = {}
    for kind in {k for k, _ in wanted}:
        values_of_kind = [v for k, v in wanted if k == kind]
        query = select(KnownIdentity.value, KnownIdentity.profile_id).where(
            KnownIdentity.kind == kind, KnownIdentity.value.in_(values_of_kind)
        )
        known |= {(kind, v): p for v, p in await session.execute(query)}
    return {
        mid: next((known[p] for p in pairs if p in known), "")
        for mid, pairs in keys.items()
        if any(p in known for p in pairs)
    }
