"""A per-profile engagement score: every event adds its weight, and the whole score halves every `half_life_days`
(exponential decay). Kept as the decayed value at a reference time, so adding an event in any order and reading the
score at any time are exact without the history: score(t) = Σ weight(e) · 2^(−(t − t_e) / half-life)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KEY = "engagement"  # computed[KEY] = {"value": score at "at", "at": ISO time}
SECONDS_PER_DAY = 86_400.0
DEFAULT_HALF_LIFE_DAYS = 30.0
# Documented defaults (README): an order says most, a click more than a view; identify/alias say nothing.
DEFAULT_WEIGHTS: dict[str, float] = {
    "Order Completed": 10.0, "Product Added": 3.0, "Email Clicked": 3.0, "Email Opened": 1.0,
    "Review Submitted": 5.0, "Survey Responded": 3.0, "Post Shared": 2.0, "Comment Posted": 2.0, "page": 1.0,
    "screen": 1.0, "identify": 0.0, "alias": 0.0, "group": 0.0,
}  # fmt: skip
DEFAULT_OTHER_WEIGHT = 1.0  # any other track event


@dataclass(frozen=True)
class EngagementRule:
    """Weights per event name (`page`, `screen`, … for those types), the weight of any other event, the half-life."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    other: float = DEFAULT_OTHER_WEIGHT
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS

    def weight(self, name: str) -> float:
        """The weight of an event with this name (a track event's name, or its type)."""
        return float(self.weights.get(name, self.other))


def _decay(seconds: float, half_life_days: float) -> float:
    return float(2.0 ** (-seconds / (half_life_days * SECONDS_PER_DAY)))


def add(state: Any, weight: float, at: datetime, half_life_days: float) -> dict[str, Any]:
    """The state after an event of `weight` at `at`, whether it is newer or older than the reference time."""
    if not weight:
        return state if isinstance(state, dict) else {"value": 0.0, "at": at.isoformat()}
    if not isinstance(state, dict):
        return {"value": weight, "at": at.isoformat()}
    reference = datetime.fromisoformat(state["at"])
    if at >= reference:
        value = state["value"] * _decay((at - reference).total_seconds(), half_life_days) + weight
        return {"value": value, "at": at.isoformat()}
    return {"value": state["value"] + weight * _decay((reference - at).total_seconds(), half_life_days),
            "at": state["at"]}  # fmt: skip


def score_at(state: Any, when: datetime, half_life_days: float) -> float | None:
    """The score at `when` (None for a profile never scored)."""
    if not isinstance(state, dict):
        return None
    elapsed = (when - datetime.fromisoformat(state["at"])).total_seconds()
    return float(state["value"] * _decay(elapsed, half_life_days))


def combine(kept: Any, merged: Any, half_life_days: float, sign: int = 1) -> Any:
    """Two profiles' scores as one (sign 1: a merge) or one taken back out of the other (sign −1: an undo)."""
    if not isinstance(merged, dict):
        return kept
    if not isinstance(kept, dict):
        return merged if sign > 0 else kept
    at = max(datetime.fromisoformat(kept["at"]), datetime.fromisoformat(merged["at"]))
    value = (score_at(kept, at, half_life_days) or 0.0) + sign * (score_at(merged, at, half_life_days) or 0.0)
    return {"value": max(value, 0.0), "at": at.isoformat()}


def published(computed: Mapping[str, Any], half_life_days: float) -> dict[str, Any] | None:
    """The state as published to segmentation, with its half-life, so it decays there exactly as here."""
    state = computed.get(KEY)
    return {**state, "half_life_days": half_life_days} if isinstance(state, dict) else None
