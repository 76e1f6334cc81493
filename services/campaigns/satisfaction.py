"""Pure satisfaction arithmetic: CSAT, NPS and CES of a set of survey answers with their 95 % intervals, and the
before/after difference of two sets (Welch's t-test). No database, no I/O.

- CSAT = 100 · share of answers 4–5 on 1–5; interval p ± z·√(p(1−p)/n).
- NPS = 100 · (p_P − p_D), promoters 9–10 and detractors 0–6 on 0–10; the answer is a trinomial draw, so
  var(NPS/100) = (p_P + p_D − (p_P − p_D)²) / n and the interval is NPS ± z·100·√var.
- CES = mean of answers on 1–7; interval mean ± t(n−1)·s/√n.
- Before/after: each answer becomes its value (CSAT 0 or 100, NPS −100, 0 or 100, CES the score); the difference
  after − before of the means is tested with Welch's t-test (unequal variances, Welch–Satterthwaite df).
Intervals are clipped to the scale's range."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scipy.stats import norm, t

from shared.events import SURVEY_SCALES

Kind = Literal["csat", "nps", "ces"]
SCALES = SURVEY_SCALES
BOUNDS: dict[str, tuple[float, float]] = {"csat": (0.0, 100.0), "nps": (-100.0, 100.0), "ces": (1.0, 7.0)}
CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class Score:
    """One kind's figure for a set of answers, its interval, and the shares behind it."""

    kind: str
    responses: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    std_error: float | None
    promoters: float | None = None  # NPS: shares of 9–10, 7–8 and 0–6
    passives: float | None = None
    detractors: float | None = None
    satisfied: float | None = None  # CSAT: share of 4–5


@dataclass(frozen=True, slots=True)
class Difference:
    """after − before, its interval and two-sided p-value (Welch's t-test), and each side's figure."""

    before: Score
    after: Score
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    std_error: float | None
    dof: float | None
    t_statistic: float | None
    p_value: float | None
    significant: bool


def check_score(kind: str, score: int) -> str | None:
    """Why `score` is not an answer on `kind`'s scale, or None when it is."""
    low, high = SCALES[kind]
    return None if low <= score <= high else f"must be a whole number from {low} to {high}"


def value_of(kind: str, score: float) -> float:
    """What one answer counts for in the kind's figure: CSAT 0/100, NPS −100/0/100, CES the score."""
    if kind == "csat":
        return 100.0 if score >= 4 else 0.0
    if kind == "nps":
        return 100.0 if score >= 9 else -100.0 if score <= 6 else 0.0
    return float(score)


def _clip(kind: str, value: float) -> float:
    low, high = BOUNDS[kind]
    return min(max(value, low), high)


def _interval(kind: str, value: float, std_error: float, quantile: float) -> tuple[float, float]:
    return _clip(kind, value - quantile * std_error), _clip(kind, value + quantile * std_error)


def _share(part: int, whole: int) -> float:
    return part / whole


def score(kind: str, scores: Sequence[float], *, confidence: float = CONFIDENCE) -> Score:
    """The CSAT, NPS or CES of these answers with its interval (None figures when there are none)."""
    n = len(scores)
    if n == 0:
        return Score(kind, 0, None, None, None, None)
    z = float(norm.ppf(0.5 + confidence / 2))
    if kind == "nps":
        return _nps(scores, z)
    if kind == "csat":
        p = _share(sum(s >= 4 for s in scores), n)
        se = 100.0 * math.sqrt(p * (1 - p) / n)
        return Score(kind, n, 100.0 * p, *_interval(kind, 100.0 * p, se, z), se, satisfied=p)
    mean = statistics.fmean(scores)
    if n < 2:
        return Score(kind, n, mean, None, None, None)
    se = statistics.stdev(scores) / math.sqrt(n)
    return Score(kind, n, mean, *_interval(kind, mean, se, float(t.ppf(0.5 + confidence / 2, n - 1))), se)


def _nps(scores: Sequence[float], z: float) -> Score:
    n = len(scores)
    promoters, detractors = _share(sum(s >= 9 for s in scores), n), _share(sum(s <= 6 for s in scores), n)
    value = 100.0 * (promoters - detractors)
    variance = (promoters + detractors - (promoters - detractors) ** 2) / n
    se = 100.0 * math.sqrt(max(variance, 0.0))
    low, high = _interval("nps", value, se, z)
    passives = 1.0 - promoters - detractors
    return Score("nps", n, value, low, high, se, promoters, passives, detractors)


def compare(
    kind: str, before: Sequence[float], after: Sequence[float], *, confidence: float = CONFIDENCE
) -> Difference:
    """after − before of the kind's figure, with Welch's interval and test on the answers' values."""
    sides = score(kind, before, confidence=confidence), score(kind, after, confidence=confidence)
    a, b = [value_of(kind, s) for s in before], [value_of(kind, s) for s in after]
    if len(a) < 2 or len(b) < 2:
        return Difference(*sides, None, None, None, None, None, None, None, False)
    estimate = statistics.fmean(b) - statistics.fmean(a)
    se2_a, se2_b = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    std_error = math.sqrt(se2_a + se2_b)
    if std_error == 0:
        return Difference(*sides, estimate, estimate, estimate, 0.0, None, None, None, False)
    dof = (se2_a + se2_b) ** 2 / (se2_a**2 / (len(a) - 1) + se2_b**2 / (len(b) - 1))
    statistic = estimate / std_error
    width = float(t.ppf(0.5 + confidence / 2, dof)) * std_error
    p_value = 2 * float(t.sf(abs(statistic), dof))
    return Difference(*sides, estimate, estimate - width, estimate + width, std_error, dof, statistic, p_value,
                      p_value < 1 - confidence)  # fmt: skip
