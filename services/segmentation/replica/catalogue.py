"""What the feature replica has seen, for rule editors: trait keys and values, event names (a sample, cached)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.replica.models import ProfileFeatures

SAMPLE = 10_000  # profiles read for suggestions: enough to see every common key
CACHE_SECONDS = 60.0
EXAMPLES = 3
_cache: dict[str, tuple[float, list[tuple[Any, Any]]]] = {}


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
