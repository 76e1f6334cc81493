"""Multi-touch attribution: share one conversion's credit and revenue among a profile's earlier campaign touches.

Pure functions over dataclasses, no I/O. A touch counts when it happened inside the attribution window ending at
the conversion, both ends inclusive: `conversion.at - window <= touch.at <= conversion.at`. Touches are ordered by
time; ties keep their input order, so with equal timestamps the first given is the "first touch" and the last
given the "last touch". All datetimes must be comparable (use timezone-aware UTC throughout).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

AttributionModel = Literal["last_touch", "first_touch", "linear", "position_based", "time_decay"]
MODELS: tuple[str, ...] = get_args(AttributionModel)

# Industry defaults (Google Ads uses the same 30-day click window and 7-day time-decay half-life).
DEFAULT_WINDOW = timedelta(days=30)
DEFAULT_HALF_LIFE = timedelta(days=7)

# Position-based ("U-shaped") shares for the first and the last touch; the middle touches split the rest.
_ENDPOINT_SHARE = 0.4


@dataclass(frozen=True)
class Touch:
    """One exposure of a profile to a campaign variant (send, open, click …) at a point in time."""

    campaign_id: str
    variant_id: str | None
    at: datetime


@dataclass(frozen=True)
class Conversion:
    """A profile's conversion: when it happened and the revenue it brought."""

    at: datetime
    revenue: float


@dataclass(frozen=True)
class Credit:
    """The fraction of a conversion credited to one touch, and the matching share of its revenue."""

    touch: Touch
    credit: float
    revenue: float


def eligible_touches(touches: Sequence[Touch], conversion: Conversion, *, window: timedelta) -> list[Touch]:
    """Return the touches inside the window before the conversion, oldest first."""
    if window < timedelta(0):
        raise ValueError("attribution window must not be negative")
    start = conversion.at - window
    return sorted((t for t in touches if start <= t.at <= conversion.at), key=lambda t: t.at)


def attribute(
    conversion: Conversion,
    touches: Sequence[Touch],
    *,
    model: AttributionModel = "last_touch",
    window: timedelta = DEFAULT_WINDOW,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> list[Credit]:
    """Split the conversion's credit (summing to 1) and revenue among eligible touches; [] when there are none."""
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}; expected one of {', '.join(MODELS)}")
    if half_life <= timedelta(0):
        raise ValueError("half-life must be positive")
    eligible = eligible_touches(touches, conversion, window=window)
    if not eligible:
        return []
    if model == "time_decay":
        weights = _time_decay_weights(eligible, half_life=half_life)
    else:
        weights = _POSITIONAL_WEIGHTS[model](len(eligible))
    return [Credit(touch=t, credit=w, revenue=w * conversion.revenue) for t, w in zip(eligible, weights, strict=True)]


def _last_touch_weights(n: int) -> list[float]:
    """All credit to the most recent of n touches."""
    return [0.0] * (n - 1) + [1.0]


def _first_touch_weights(n: int) -> list[float]:
    """All credit to the earliest of n touches."""
    return [1.0] + [0.0] * (n - 1)


def _linear_weights(n: int) -> list[float]:
    """Equal credit to each of n touches."""
    return [1.0 / n] * n


def _position_based_weights(n: int) -> list[float]:
    """40% to the first and last touch, 20% split among the middle; 50/50 for two touches, 100% for one."""
    if n == 1:
        return [1.0]
    if n == 2:
        return [0.5, 0.5]
    middle = (1.0 - 2 * _ENDPOINT_SHARE) / (n - 2)
    return [_ENDPOINT_SHARE] + [middle] * (n - 2) + [_ENDPOINT_SHARE]


def _time_decay_weights(touches: Sequence[Touch], *, half_life: timedelta) -> list[float]:
    """Weight each touch by 2^(-age / half_life), age counted back from the conversion, normalised to sum to 1."""
    # Ages are measured from the newest touch (same result once normalised) so old touches cannot all underflow to 0.
    newest = max(t.at for t in touches)
    raw = [2.0 ** (-((newest - t.at) / half_life)) for t in touches]
    total = sum(raw)
    return [w / total for w in raw]


_POSITIONAL_WEIGHTS: dict[str, Callable[[int], list[float]]] = {
    "last_touch": _last_touch_weights,
    "first_touch": _first_touch_weights,
    "linear": _linear_weights,
    "position_based": _position_based_weights,
}
