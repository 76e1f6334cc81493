"""Engagement scores of the replica's profiles at report time: profiles publish each score as its value at a
reference time with the half-life it decays by, so score(t) = value · 2^(−(t − at) / half-life) is exact at any t."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np

KEY = "engagement"  # computed[KEY] = {"value", "at" (ISO), "half_life_days"}, as profiles publishes it
DEFAULT_HALF_LIFE_DAYS = 30.0  # profiles' default, for a state published without its half-life
SECONDS_PER_DAY = 86_400.0
BINS = 20


def score_at(state: Any, when: datetime) -> float | None:
    """The decayed score at `when`, or None for a profile never scored (or a malformed state)."""
    if not isinstance(state, dict) or not isinstance(state.get("value"), int | float):
        return None
    try:
        elapsed = (when - datetime.fromisoformat(str(state["at"]))).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None
    half_life = state.get("half_life_days") or DEFAULT_HALF_LIFE_DAYS
    return float(state["value"]) * 2.0 ** (-elapsed / (float(half_life) * SECONDS_PER_DAY))


def distribution(states: Iterable[Any], when: datetime, *, bins: int = BINS) -> dict[str, Any]:
    """Mean, quartiles, 90th percentile and a histogram (0 to the 99th percentile, the rest in the last bin)."""
    found = (score_at(state, when) for state in states)
    values = np.array([v for v in found if v is not None], dtype=float)
    if not len(values):
        return {"scored_members": 0, "mean": None, "median": None, "p25": None, "p75": None, "p90": None,
                "max": None, "bins": [], "as_of": when}  # fmt: skip
    p25, median, p75, p90, top = (float(q) for q in np.quantile(values, [0.25, 0.5, 0.75, 0.9, 0.99]))
    counts, edges = np.histogram(np.minimum(values, top), bins=bins, range=(0.0, top or 1.0))
    return {
        "scored_members": len(values), "mean": float(values.mean()), "median": median, "p25": p25, "p75": p75,
        "p90": p90, "max": float(values.max()), "as_of": when,
        "bins": [{"low": float(edges[i]), "high": float(edges[i + 1]), "count": int(n)} for i, n in enumerate(counts)],
    }  # fmt: skip
