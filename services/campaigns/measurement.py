"""What recipients did after a campaign reached them, from `tessera.events.v1`: opens (human or machine), clicks
and unsubscribes of its mail, and goal events (conversions) of profiles a campaign sent to or held out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.models import Campaign, Conversion, Interaction, KnownIdentity
from services.campaigns.retention import ORDER_EVENT
from shared.db import insert_many
from shared.events import dedup_key

EMAIL_EVENTS = {"Email Opened": "open", "Email Link Clicked": "click", "Unsubscribed": "unsubscribe"}


def _name(value: dict[str, Any]) -> str | None:
    return value.get("event") if value.get("type") == "track" else value.get("type")


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number and abs(number) < 1e12 else 0.0


def _at(value: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value.get("timestamp")))
    except ValueError:
        return None


async def goal_events(session: AsyncSession) -> set[str]:
    """The goal events of every campaign, and orders (retention uplift); conversions of other events are not kept."""
    return set((await session.scalars(select(Campaign.goal_event).distinct())).all()) | {ORDER_EVENT}


async def record_events(session: AsyncSession, values: Sequence[Any]) -> None:
    """Keep email interactions and recipients' goal events; everything else is passed over, replays too."""
    goals = await goal_events(session)
    wanted = [v for v in values if isinstance(v, dict) and (_name(v) in EMAIL_EVENTS or _name(v) in goals)]
    if not wanted:
        return
    unique = {message_key(v): v for v in wanted}  # a redelivery may repeat a message within one batch
    seen = await _seen(session, list(unique))
    fresh = {key: v for key, v in unique.items() if key not in seen and _at(v) is not None}
    profiles = await profiles_of(session, fresh)
    interactions, conversions = [], []
    for key, value in fresh.items():
        profile_id, at, name = profiles.get(key), _at(value), _name(value)
        properties = _mapping(value.get("properties"))
        if name in EMAIL_EVENTS and properties.get("campaign_id") and profile_id:
            kind = EMAIL_EVENTS[name]
            if kind == "open":
                kind = "machine_open" if properties.get("machine_open") else "human_open"
            interactions.append(
                {
                    "message_id": key,
                    "campaign_id": str(properties["campaign_id"])[:32],
                    "profile_id": profile_id,
                    "variant_id": _short(properties.get("variant_id")),
                    "kind": kind,
                    "url": _link(properties) if kind == "click" else None,
                    "at": at,
                }
            )
        elif name in goals and profile_id:
            revenue = _number(properties.get("revenue", properties.get("total")))
            conversions.append(
                {
                    "message_id": key,
                    "profile_id": profile_id,
                    "event": name,
                    "revenue": revenue,
                    "at": at,
                }
            )
    await insert_many(session, Interaction.__table__, interactions)
    await insert_many(session, Conversion.__table__, conversions)


def message_key(value: dict[str, Any]) -> str:
    """What duplicates of a tracked event are detected by: its message id within its source (`dedup_key`)."""
    return dedup_key(str(value.get("sourceId") or ""), str(value.get("messageId")))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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


async def profiles_of(session: AsyncSession, values: dict[str, dict[str, Any]]) -> dict[str, str]:
    """message key → the recipient profile it belongs to, through the identities campaigns remembered."""
    keys: dict[str, list[tuple[str, str]]] = {}
    for key, value in values.items():
        context = _mapping(value.get("context"))
        candidates = [
            ("profile", context.get("profileId")),
            ("user_id", value.get("userId")),
            ("anonymous_id", value.get("anonymousId")),
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
