"""Retention uplift of a campaign: the share of targeted and of held-out members who ordered within 30, 60 and 90
days of their send (or hold-out), the difference with its 95% interval and p-value (`stats.frequentist_test`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import stats
from services.campaigns.models import Campaign, Conversion, Exposure
from shared.db import utcnow

ORDER_EVENT = "Order Completed"
WINDOWS = (30, 60, 90)
TARGETED = ("sent", "failed")  # everyone assigned to a variant, as in the results (intention to treat)
CHUNK = 1000
_UNTESTABLE = {  # why stats declined to test, in words (the difference keeps its code)
    stats.BASELINE_ZERO: "nobody held out ordered in this window, so there is no baseline to compare with",
    stats.ZERO_VARIANCE: "every member of an arm did the same, so there is no variance to test",
}


@dataclass(frozen=True)
class Member:
    """One member of the campaign: when it was sent to (or held out) and whether it was targeted."""

    profile_id: str
    at: datetime
    targeted: bool


def active_counts(
    members: Sequence[Member], orders: dict[str, list[datetime]], days: int, now: datetime
) -> tuple[stats.ProportionArm, stats.ProportionArm]:
    """Holdout and targeted arms: members whose window (at, at + days] has ended, and those who ordered in it."""
    counts = {True: [0, 0], False: [0, 0]}
    window = timedelta(days=days)
    for m in members:
        if m.at + window > now:
            continue
        counts[m.targeted][0] += 1
        counts[m.targeted][1] += any(m.at < o <= m.at + window for o in orders.get(m.profile_id, ()))
    return stats.ProportionArm(*counts[False]), stats.ProportionArm(*counts[True])


def window_uplift(
    members: Sequence[Member], orders: dict[str, list[datetime]], days: int, now: datetime
) -> dict[str, Any]:
    """One window: who was measured, each arm's active share, and the absolute difference targeted − holdout."""
    holdout, targeted = active_counts(members, orders, days, now)
    complete_at = max((m.at for m in members), default=now) + timedelta(days=days)
    body: dict[str, Any] = {
        "days": days,
        "elapsed": bool(members) and complete_at <= now,
        "complete_at": complete_at if members else None,
        "members": len(members),
        "measured": holdout.users + targeted.users,
        "targeted": _arm(targeted),
        "holdout": _arm(holdout),
    }
    if not holdout.users or not targeted.users:
        return body | {"difference": None, "reason": _not_yet(members, days)}
    test = stats.frequentist_test(holdout, targeted, relative=False)
    difference = {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(test).items()}
    return body | {"difference": difference, "reason": _UNTESTABLE.get(test.reason, test.reason) or None}


def _arm(arm: stats.ProportionArm) -> dict[str, Any]:
    return {"users": arm.users, "active": arm.conversions, "rate": round(arm.mean, 6) if arm.users else None}


def _not_yet(members: Sequence[Member], days: int) -> str:
    if not any(m.targeted for m in members) or all(m.targeted for m in members):
        return "the campaign has no holdout or no recipients yet"
    return f"{days} days have not yet passed since the sends of both targeted and held-out members"


async def _members(session: AsyncSession, campaign_id: str) -> list[Member]:
    query = select(Exposure.profile_id, Exposure.at, Exposure.outcome).where(
        Exposure.campaign_id == campaign_id, Exposure.outcome.in_((*TARGETED, "held_out"))
    )
    return [Member(pid, at, outcome != "held_out") for pid, at, outcome in await session.execute(query)]


async def _orders(session: AsyncSession, profile_ids: list[str]) -> dict[str, list[datetime]]:
    found: dict[str, list[datetime]] = defaultdict(list)
    for start in range(0, len(profile_ids), CHUNK):
        query = select(Conversion.profile_id, Conversion.at).where(
            Conversion.event == ORDER_EVENT, Conversion.profile_id.in_(profile_ids[start : start + CHUNK])
        )
        for profile_id, at in await session.execute(query):
            found[profile_id].append(at)
    return found


async def retention_uplift(
    session: AsyncSession, campaign: Campaign, *, now: datetime | None = None, windows: Sequence[int] = WINDOWS
) -> dict[str, Any]:
    """Per window, the share of targeted and held-out members who ordered in it, and the difference's test."""
    now = now or utcnow()
    members = await _members(session, campaign.id)
    orders = await _orders(session, sorted({m.profile_id for m in members}))
    return {
        "campaign_id": campaign.id,
        "order_event": ORDER_EVENT,
        "as_of": now,
        "sent_from": min((m.at for m in members), default=None),
        "sent_to": max((m.at for m in members), default=None),
        "windows": [window_uplift(members, orders, days, now) for days in windows],
    }
