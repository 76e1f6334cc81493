"""Explanations of membership and a catalogue of what the feature replica has seen (for rule editors)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation import retention
from services.segmentation.insight.explain import Explained, explain
from services.segmentation.lifetime import order_days
from services.segmentation.models import PastMembership, ProfileFeatures, SegmentMembership
from services.segmentation.rules import Features, parse_definition
from services.segmentation.segments import get_segment
from shared.errors import NotFound

SAMPLE = 10_000  # profiles read for suggestions: enough to see every common key
CACHE_SECONDS = 60.0
EXAMPLES = 3
_cache: dict[str, tuple[float, list[tuple[Any, Any]]]] = {}


async def explain_membership(session: AsyncSession, segment_id: str, profile_id: str, today: date) -> dict[str, Any]:
    """The segment's rule tree evaluated for one profile, next to whether it is a member now."""
    segment = await get_segment(session, segment_id)
    row = await session.get(ProfileFeatures, profile_id)
    if row is None:
        raise NotFound(f"Segmentation has no features for profile '{profile_id}'.")
    query = select(SegmentMembership.segment_id).where(SegmentMembership.profile_id == profile_id)
    memberships = frozenset((await session.scalars(query)).all())
    features = Features(row.traits, row.computed, row.scores, memberships)
    tree: Explained = explain(parse_definition(segment.definition), segment.definition, features, today)
    return {"segment_id": segment.id, "profile_id": profile_id, "member": segment.id in memberships,
            "matches": tree.result, "as_of": row.updated_at, "tree": tree}  # fmt: skip


async def trait_keys(session: AsyncSession, prefix: str) -> dict[str, Any]:
    """Trait and computed keys starting with `prefix`, most common first, with example trait values."""
    rows = await _sample(session)
    traits, computed, examples = Counter[str](), Counter[str](), dict[str, list[Any]]()
    for trait_values, computed_values in rows:
        for key, value in (trait_values or {}).items():
            traits[key] += 1
            seen = examples.setdefault(key, [])
            if len(seen) < EXAMPLES and _scalar(value) and value not in seen:
                seen.append(value)
        computed.update((computed_values or {}).keys())
    return {"traits": _top(traits, prefix, examples), "computed": _top(computed, prefix, {}),
            "sampled_profiles": len(rows)}  # fmt: skip


async def trait_values(session: AsyncSession, key: str, prefix: str) -> dict[str, Any]:
    """The most common values of a trait (scalars only) starting with `prefix`."""
    rows = await _sample(session)
    counts = Counter(v for traits, _ in rows if _scalar(v := (traits or {}).get(key)) and str(v).startswith(prefix))
    values = [{"value": value, "profiles": n} for value, n in counts.most_common(50)]
    return {"key": key, "values": values, "sampled_profiles": len(rows)}


async def event_names(session: AsyncSession) -> dict[str, Any]:
    """Event names in the profiles' daily counts (the last 90 days), most common first."""
    rows = await _sample(session)
    counts = Counter(name for _, computed in rows for name in ((computed or {}).get("daily_counts") or {}))
    names = [{"name": name, "profiles": n} for name, n in counts.most_common(200)]
    return {"names": names, "sampled_profiles": len(rows)}


async def _sample(session: AsyncSession) -> list[tuple[Any, Any]]:
    """Traits and computed traits of up to SAMPLE profiles, cached for a minute per database (an editor asks on
    every keystroke; a minute-old catalogue of keys is fresh enough for suggestions)."""
    url = str(session.get_bind().engine.url)
    hit = _cache.get(url)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    # The most recently changed profiles: what an editor is likely to be looking for, and a fixed cost at any size.
    query = select(ProfileFeatures.traits, ProfileFeatures.computed).order_by(ProfileFeatures.updated_at.desc())
    query = query.limit(SAMPLE)
    rows = [(t, c) for t, c in await session.execute(query)]
    _cache[url] = (time.monotonic() + CACHE_SECONDS, rows)
    return rows


def _top(counts: Counter[str], prefix: str, examples: dict[str, list[Any]]) -> list[dict[str, Any]]:
    wanted: Iterable[tuple[str, int]] = ((k, n) for k, n in counts.most_common() if k.startswith(prefix))
    return [{"key": k, "profiles": n, "examples": examples.get(k, [])} for k, n in list(wanted)[:100]]


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and not (isinstance(value, str) and len(value) > 200)


async def membership_changes(
    session: AsyncSession, *, segment_id: str | None, since: datetime | None, before: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Entries and exits, newest first: current memberships' entries, and ended ones' entries and exits."""
    entered_now = select(SegmentMembership.segment_id, SegmentMembership.profile_id,
                         literal("entered").label("change"), SegmentMembership.entered_at.label("at"))  # fmt: skip
    entered_then = select(PastMembership.segment_id, PastMembership.profile_id, literal("entered").label("change"),
                          PastMembership.entered_at.label("at"))  # fmt: skip
    exited = select(PastMembership.segment_id, PastMembership.profile_id, literal("exited").label("change"),
                    PastMembership.exited_at.label("at"))  # fmt: skip
    changes = union_all(entered_now, entered_then, exited).subquery()
    query = select(changes).order_by(changes.c.at.desc(), changes.c.profile_id.desc()).limit(limit)
    if segment_id:
        query = query.where(changes.c.segment_id == segment_id)
    if since:
        query = query.where(changes.c.at >= since)
    if before:
        at, profile_id = before
        query = query.where(or_(changes.c.at < at, and_(changes.c.at == at, changes.c.profile_id < profile_id)))
    return [dict(row._mapping) for row in await session.execute(query)]


async def clv_distribution(session: AsyncSession, *, bins: int = 20) -> dict[str, Any]:
    """Histograms of CLV (0 to the 99th percentile, the rest in the last bin) and of P(alive) over scored profiles."""
    clv, alive = ProfileFeatures.scores["clv"].as_float(), ProfileFeatures.scores["p_alive"].as_float()
    rows = (await session.execute(select(clv, alive).where(clv.is_not(None)))).all()
    values = np.array([r[0] for r in rows], dtype=float)
    chances = np.array([r[1] for r in rows if r[1] is not None], dtype=float)
    top = float(np.quantile(values, 0.99)) if len(values) else 0.0
    return {"customers": len(values), "clv": _histogram(np.minimum(values, top), bins, 0.0, top or 1.0),
            "p_alive": _histogram(chances, bins, 0.0, 1.0),
            "clv_total": float(values.sum()), "clv_mean": float(values.mean()) if len(values) else None}  # fmt: skip


async def top_customers(session: AsyncSession, *, limit: int) -> list[dict[str, Any]]:
    """The customers with the highest CLV: their scores and the traits that name them."""
    clv = ProfileFeatures.scores["clv"].as_float()
    query = select(ProfileFeatures).where(clv.is_not(None)).order_by(clv.desc(), ProfileFeatures.profile_id)
    rows = (await session.scalars(query.limit(limit))).all()
    return [{"profile_id": r.profile_id, "scores": r.scores, "name": _name(r.traits)} for r in rows]


def _histogram(values: Any, bins: int, low: float, high: float) -> list[dict[str, float | int]]:
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    return [{"low": float(edges[i]), "high": float(edges[i + 1]), "count": int(n)} for i, n in enumerate(counts)]


def _name(traits: dict[str, Any]) -> str | None:
    parts = [str(traits[k]) for k in ("first_name", "last_name") if isinstance(traits.get(k), str)]
    return " ".join(parts) or (traits.get("name") if isinstance(traits.get("name"), str) else None)


async def retention_report(session: AsyncSession, segment_id: str | None, as_of: date, threshold: float
                           ) -> dict[str, Any]:  # fmt: skip
    """The cohort matrix, repeat-purchase rate and churn over every customer with an order, or a segment's members."""
    members = await _members(session, segment_id) if segment_id else None
    days = [(str(p), date.fromisoformat(str(d))) for p, d, _ in map(tuple, await order_days(session))
            if members is None or p in members]  # fmt: skip
    query = select(ProfileFeatures.profile_id, ProfileFeatures.scores).where(ProfileFeatures.scores.is_not(None))
    alive = [scores["p_alive"] for p, scores in await session.execute(query)
             if isinstance(scores, dict) and isinstance(scores.get("p_alive"), int | float)
             and (members is None or p in members)]  # fmt: skip
    cohorts = retention.cohort_matrix(days, as_of)
    return {"segment_id": segment_id, "as_of": as_of, "customers": sum(c.customers for c in cohorts),
            "repeat_purchase_rate": retention.repeat_purchase_rate(days),
            "cohorts": [asdict(c) for c in cohorts], "churn": asdict(retention.churn(alive, threshold))}  # fmt: skip


async def _members(session: AsyncSession, segment_id: str) -> set[str]:
    await get_segment(session, segment_id)  # 404 for an unknown segment
    query = select(SegmentMembership.profile_id).where(SegmentMembership.segment_id == segment_id)
    return set((await session.scalars(query)).all())
