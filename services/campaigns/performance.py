"""Segment performance against goals (seed 002 step 6): how targeted segments did against what they should do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.models import Campaign
from services.campaigns.results import campaign_results

if TYPE_CHECKING:  # the HTTP client is the caller's; domain code only calls it
    from services.campaigns.clients import PeerServices

METRICS = {
    "conversion_rate": "conversion_rate",
    "click_rate": "click_rate",
    "open_rate": "open_rate",
    "revenue_per_recipient": "revenue_per_recipient",
}


async def segments_performance(session: AsyncSession, peers: PeerServices) -> dict[str, Any]:
    """Per segment with a goal: each campaign that targeted it, the measured metric among those it sent to, and
    whether the goal is met (`met` is null until someone was sent to)."""
    goals = {s["id"]: s for s in await peers.segments() if s.get("goal")}
    campaigns = (await session.scalars(select(Campaign).where(Campaign.status != "draft"))).all()
    rows = []
    for segment_id, segment in goals.items():
        goal = segment["goal"]
        measured = []
        for campaign in (c for c in campaigns if segment_id in c.target_segments):
            by_segment = await campaign_results(session, campaign, by="segment")
            treated = next((s["treated"] for s in by_segment["segments"] if s["segment_id"] == segment_id), None)
            value = treated.get(METRICS[goal["metric"]]) if treated else None
            measured.append(
                {
                    "campaign_id": campaign.id,
                    "name": campaign.name,
                    "recipients": treated["users"] if treated else 0,
                    "value": value,
                    "met": _met(value, goal),
                }
            )
        rows.append(
            {
                "segment_id": segment_id,
                "name": segment["name"],
                "goal": goal,
                "campaigns": measured,
                "met": all(m["met"] for m in measured if m["met"] is not None)
                if any(m["met"] is not None for m in measured)
                else None,
            }
        )
    return {"segments": rows}


def _met(value: float | None, goal: dict[str, Any]) -> bool | None:
    if value is None:
        return None
    return (goal.get("min") is None or value >= goal["min"]) and (goal.get("max") is None or value <= goal["max"])
