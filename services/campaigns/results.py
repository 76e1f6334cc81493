"""Campaign results: delivery and engagement per arm, conversions inside the attribution window, lift against
the holdout and tests between variants (`stats`, checked against gbstats), attributed credit (`attribution`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import stats
from services.campaigns.attribution import Conversion as Converted
from services.campaigns.attribution import Touch, attribute
from services.campaigns.models import Campaign, Conversion, Exposure, Interaction

HOLDOUT = "holdout"
CHUNK = 1000


@dataclass
class Arm:
    """What one arm (a variant, the holdout, or a segment's share of one) did."""

    users: int = 0  # assigned to the arm: sent or failed for variants, held out for the holdout
    sent: int = 0
    failed: int = 0
    human_opens: int = 0
    machine_opens: int = 0
    clicks: int = 0
    unsubscribes: int = 0
    conversions: int = 0
    revenue: float = 0.0
    revenue_squares: float = 0.0
    profiles: set[str] = field(default_factory=set)

    def add(self, outcome: str, acts: set[str], converted: bool, revenue: float) -> None:
        """Count one profile of this arm."""
        self.users += 1
        self.sent += outcome == "sent"
        self.failed += outcome == "failed"
        for kind in ("human_open", "machine_open", "click", "unsubscribe"):
            if kind in acts:
                setattr(self, _COUNTERS[kind], getattr(self, _COUNTERS[kind]) + 1)
        self.conversions += converted
        self.revenue += revenue
        self.revenue_squares += revenue * revenue

    def report(self) -> dict[str, Any]:
        """The arm's figures and rates (rates over delivered mail, conversions over assigned users)."""
        body = {k: v for k, v in asdict(self).items() if k not in ("profiles", "revenue_squares")}
        return body | {
            "delivered": self.sent,
            "open_rate": _rate(self.human_opens, self.sent),
            "click_rate": _rate(self.clicks, self.sent),
            "conversion_rate": _rate(self.conversions, self.users),
            "revenue": round(self.revenue, 2),
            "revenue_per_recipient": _rate(self.revenue, self.users),
        }


_COUNTERS = {
    "human_open": "human_opens",
    "machine_open": "machine_opens",
    "click": "clicks",
    "unsubscribe": "unsubscribes",
}


def _rate(count: float, total: int) -> float | None:
    return round(count / total, 6) if total else None


async def _exposures(session: AsyncSession, campaign_id: str) -> list[Exposure]:
    query = select(Exposure).where(
        Exposure.campaign_id == campaign_id, Exposure.outcome.in_(("sent", "failed", "held_out"))
    )
    return list((await session.scalars(query)).all())


async def _acts(session: AsyncSession, campaign_id: str) -> dict[str, set[str]]:
    query = select(Interaction.profile_id, Interaction.kind).where(Interaction.campaign_id == campaign_id)
    acts: dict[str, set[str]] = defaultdict(set)
    for profile_id, kind in await session.execute(query):
        acts[profile_id].add(kind)
    return acts


async def _conversions(session: AsyncSession, event: str, profile_ids: list[str]) -> dict[str, list[Conversion]]:
    found: dict[str, list[Conversion]] = defaultdict(list)
    for start in range(0, len(profile_ids), CHUNK):
        query = select(Conversion).where(
            Conversion.event == event, Conversion.profile_id.in_(profile_ids[start : start + CHUNK])
        )
        for row in await session.scalars(query):
            found[row.profile_id].append(row)
    return found


async def campaign_results(
    session: AsyncSession, campaign: Campaign, *, by: str = "variant", sequential: bool = False,
    attribution: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Figures per variant (or per target segment) and the holdout, lift with intervals, tests between variants;
    `attribution` (model, window_days) credits conversions by another model than the campaign's, to compare."""
    exposures = await _exposures(session, campaign.id)
    acts = await _acts(session, campaign.id)
    conversions = await _conversions(session, campaign.goal_event, sorted({e.profile_id for e in exposures}))
    window = timedelta(days=campaign.attribution.get("window_days", 7))
    arms: dict[str, Arm] = defaultdict(Arm)
    segments: dict[str, dict[str, Arm]] = defaultdict(lambda: defaultdict(Arm))
    for e in exposures:
        inside = [c for c in conversions.get(e.profile_id, []) if e.at <= c.at <= e.at + window]
        revenue = sum(c.revenue for c in inside)
        key = HOLDOUT if e.outcome == "held_out" else str(e.variant_id)
        arms[key].add(e.outcome, acts.get(e.profile_id, set()), bool(inside), revenue)
        segments[e.segment_id or "none"]["treated" if key != HOLDOUT else HOLDOUT].add(
            e.outcome, acts.get(e.profile_id, set()), bool(inside), revenue
        )
    names = {v["id"]: v["name"] for v in campaign.variants}
    result: dict[str, Any] = {
        "campaign_id": campaign.id,
        "goal_event": campaign.goal_event,
        "by": by,
        "attribution": campaign.attribution,
        "sequential": sequential,
    }
    if by == "segment":
        result["segments"] = [
            {
                "segment_id": sid,
                **_versus_holdout(pair.get("treated", Arm()), pair.get(HOLDOUT, Arm()), sequential),
                "treated": pair.get("treated", Arm()).report(),
                "holdout": pair.get(HOLDOUT, Arm()).report(),
            }
            for sid, pair in sorted(segments.items())
        ]
        return result
    variants = [{"variant_id": vid, "name": names.get(vid, vid), **arms.get(vid, Arm()).report()} for vid in names]
    treated = _pooled([arms.get(v, Arm()) for v in names])
    result |= {
        "variants": variants,
        "holdout": arms.get(HOLDOUT, Arm()).report() if campaign.holdout_percent else None,
        "versus_holdout": _versus_holdout(treated, arms[HOLDOUT], sequential) if campaign.holdout_percent else None,
        "between_variants": _between(campaign, arms, names, sequential),
        "sample_ratio": _srm(campaign, arms, names),
        "attributed": await _attributed(session, campaign, exposures, conversions, attribution),
    }
    return result


async def link_clicks(session: AsyncSession, campaign_id: str) -> list[dict[str, Any]]:
    """Clicks per link of a campaign's mail (human clicks through tracking's redirect), most clicked first."""
    people = func.count(distinct(Interaction.profile_id))
    query = (select(Interaction.url, func.count(), people).where(Interaction.campaign_id == campaign_id,
             Interaction.kind == "click").group_by(Interaction.url).order_by(func.count().desc()))  # fmt: skip
    return [{"url": url, "clicks": n, "people": p} for url, n, p in await session.execute(query)]


def summary_of(campaign: Campaign, results: dict[str, Any]) -> dict[str, Any]:
    """A campaign's line in the list: status, audience, sends, human opens, clicks, conversions, lift, last error."""
    variants = results.get("variants", [])
    totals = {key: sum(v.get(key) or 0 for v in variants) for key in ("sent", "human_opens", "clicks", "conversions")}
    versus = results.get("versus_holdout") or {}
    lift = (versus.get("conversion_rate") or {}).get("relative")
    return {"id": campaign.id, "name": campaign.name, "status": campaign.status, "channel": campaign.channel,
            "audience": (campaign.progress or {}).get("audience"), **totals, "lift": lift,
            "last_error": campaign.last_error, "launched_at": campaign.launched_at}  # fmt: skip


def _pooled(arms: list[Arm]) -> Arm:
    pooled = Arm()
    for arm in arms:
        for name in (
            "users",
            "sent",
            "failed",
            "human_opens",
            "machine_opens",
            "clicks",
            "unsubscribes",
            "conversions",
        ):
            setattr(pooled, name, getattr(pooled, name) + getattr(arm, name))
        pooled.revenue += arm.revenue
        pooled.revenue_squares += arm.revenue_squares
    return pooled


def _proportion(arm: Arm) -> stats.ProportionArm:
    return stats.ProportionArm(users=arm.users, conversions=arm.conversions)


def _mean(arm: Arm) -> stats.MeanArm:
    return stats.MeanArm(users=arm.users, sum=arm.revenue, sum_squares=arm.revenue_squares)


def _test(control: stats.Arm, variant: stats.Arm, relative: bool, sequential: bool) -> dict[str, Any]:
    test = stats.sequential_test if sequential else stats.frequentist_test
    return _rounded(asdict(test(control, variant, relative=relative)))


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in values.items()}


def _versus_holdout(treated: Arm, holdout: Arm, sequential: bool) -> dict[str, Any]:
    """Lift of everyone sent to against the holdout: conversion rate and revenue per user, absolute and relative."""
    if not holdout.users or not treated.users:
        return {"computable": False, "reason": "the campaign has no holdout or no recipients yet"}
    rate_t, rate_h = treated.conversions / treated.users, holdout.conversions / holdout.users
    rpu_t, rpu_h = treated.revenue / treated.users, holdout.revenue / holdout.users
    return {
        "conversion_rate": {
            "relative": _test(_proportion(holdout), _proportion(treated), True, sequential),
            "absolute": _test(_proportion(holdout), _proportion(treated), False, sequential),
        },
        "revenue_per_user": {
            "relative": _test(_mean(holdout), _mean(treated), True, sequential),
            "absolute": _test(_mean(holdout), _mean(treated), False, sequential),
        },
        "incremental_conversions": round((rate_t - rate_h) * treated.users, 3),
        "incremental_revenue": round((rpu_t - rpu_h) * treated.users, 2),
    }


def _between(campaign: Campaign, arms: dict[str, Arm], names: dict[str, str], sequential: bool) -> list[dict[str, Any]]:
    """Each variant against the first (control): relative lift of conversion rate, chance to beat it and risk."""
    ids = list(names)
    if len(ids) < 2:
        return []
    control = arms.get(ids[0], Arm())
    rows = []
    for vid in ids[1:]:
        arm = arms.get(vid, Arm())
        bayes = _rounded(asdict(stats.bayesian_test(_proportion(control), _proportion(arm))))
        rows.append(
            {
                "control": ids[0],
                "variant_id": vid,
                "conversion_rate": _test(_proportion(control), _proportion(arm), True, sequential),
                "chance_to_beat_control": bayes["chance_to_win"],
                "risk": {"control": bayes["risk_control"], "variant": bayes["risk_variant"]},
                "bayesian": bayes,
            }
        )
    return rows


def _srm(campaign: Campaign, arms: dict[str, Arm], names: dict[str, str]) -> dict[str, Any]:
    """Do the arms' sizes match the configured shares? (flagged below p = 0.001)"""
    if campaign.ab_test:
        return {"computable": False, "reason": "an A/B test sends the winner to the rest: shares differ by design"}
    total = sum(v["weight"] for v in campaign.variants)
    share = 1 - campaign.holdout_percent / 100
    keys = ([HOLDOUT] if campaign.holdout_percent else []) + list(names)
    weights = ([campaign.holdout_percent / 100] if campaign.holdout_percent else []) + [
        share * v["weight"] / total for v in campaign.variants
    ]
    if len(keys) < 2:
        return {"computable": False, "reason": "one variant and no holdout: there are no shares to compare"}
    users = [arms.get(k, Arm()).users for k in keys]
    if sum(users) == 0:
        return {"computable": False, "reason": "nobody assigned yet"}
    result = stats.check_srm(users, weights)
    return {
        "computable": True,
        "arms": keys,
        "users": users,
        "expected_shares": [round(w, 6) for w in weights],
        "p_value": round(result.p_value, 6),
        "mismatch": result.mismatch,
    }


async def _attributed(
    session: AsyncSession, campaign: Campaign, exposures: list[Exposure], conversions: dict[str, list[Conversion]],
    chosen: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Conversions and revenue credited to this campaign by its attribution model, among every campaign's sends."""
    sent = sorted({e.profile_id for e in exposures if e.outcome == "sent"})
    touches: dict[str, list[Touch]] = defaultdict(list)
    for start in range(0, len(sent), CHUNK):
        query = select(Exposure.profile_id, Exposure.campaign_id, Exposure.variant_id, Exposure.at).where(
            Exposure.profile_id.in_(sent[start : start + CHUNK]), Exposure.outcome == "sent"
        )
        for profile_id, campaign_id, variant_id, at in await session.execute(query):
            touches[profile_id].append(Touch(campaign_id, variant_id, at))
    settings = campaign.attribution | (chosen or {})
    model, window = settings.get("model", "last_touch"), timedelta(days=settings.get("window_days", 7))
    credit = revenue = 0.0
    for profile_id in sent:
        ordered = sorted(touches[profile_id], key=lambda t: t.at)
        for conversion in conversions.get(profile_id, []):
            for share in attribute(Converted(conversion.at, conversion.revenue), ordered, model=model, window=window):  # type: ignore[arg-type]
                if share.touch.campaign_id == campaign.id:
                    credit += share.credit
                    revenue += share.revenue
    return {"model": model, "window_days": window.days, "conversions": round(credit, 4), "revenue": round(revenue, 2)}


async def winner_of(session: AsyncSession, campaign: Campaign) -> str:
    """The variant with the best rate on the A/B test's metric among its test sends (the first on a tie)."""
    results = await campaign_results(session, campaign)
    metric = (campaign.ab_test or {}).get("metric", "click_rate")
    best = max(results["variants"], key=lambda v: (v[metric] or 0.0, -results["variants"].index(v)))
    return str(best["variant_id"])
