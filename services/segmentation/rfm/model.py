"""RFM: recency, frequency and monetary scores 1-5 by quintiles of ranks, and named segments.

Pure numpy, no I/O. Scores are quintiles of ordinal ranks (ties broken by input order, like pandas'
``rank(method="first")``), so the five groups stay balanced even when most customers have one order.
Segments come from the customer's R score and FM score (the rounded-up mean of F and M) on this grid:

    R \\ FM   1               2                   3                   4                5
    5        New             Potential Loyalist  Potential Loyalist  Champions        Champions
    4        Promising       Potential Loyalist  Potential Loyalist  Champions        Champions
    3        About To Sleep  About To Sleep      Need Attention      Loyal            Loyal
    2        Hibernating     Hibernating         At Risk             At Risk          Can't Lose Them
    1        Lost            Hibernating         At Risk             At Risk          Can't Lose Them
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Scores = NDArray[np.int64]
SegmentMap = Mapping[tuple[int, int], str]

_GRID = (  # rows R = 5..1, columns FM = 1..5; see the module docstring
    ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    ("Promising", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    ("About To Sleep", "About To Sleep", "Need Attention", "Loyal", "Loyal"),
    ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    ("Lost", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
)
DEFAULT_SEGMENT_MAP: dict[tuple[int, int], str] = {
    (5 - row, fm + 1): name for row, names in enumerate(_GRID) for fm, name in enumerate(names)
}


@dataclass(frozen=True)
class RfmScores:
    """Recency, frequency and monetary scores, each 1 (worst) to 5 (best)."""

    r: Scores
    f: Scores
    m: Scores


@dataclass(frozen=True)
class SegmentSummary:
    """Size and average raw RFM values of one named segment."""

    segment: str
    customers: int
    share: float
    mean_recency_days: float
    mean_frequency: float
    mean_monetary: float


def quintile_scores(values: ArrayLike) -> Scores:
    """Score 1-5 by quintiles of ordinal ranks (ties broken by input order); higher value, higher score."""
    values = np.asarray(values, dtype=float)
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[np.argsort(values, kind="stable")] = np.arange(values.size)
    return ranks * 5 // max(values.size, 1) + 1


def score_rfm(recency_days: ArrayLike, frequency: ArrayLike, monetary: ArrayLike) -> RfmScores:
    """Score customers 1-5 on each of R, F and M; fewer days since the last order scores higher."""
    return RfmScores(
        r=6 - quintile_scores(recency_days),
        f=quintile_scores(frequency),
        m=quintile_scores(monetary),
    )


def fm_score(f: ArrayLike, m: ArrayLike) -> Scores:
    """Combined FM score: the mean of F and M, halves rounded up."""
    return (np.asarray(f, dtype=np.int64) + np.asarray(m, dtype=np.int64) + 1) // 2


def name_segments(
    r: ArrayLike, f: ArrayLike, m: ArrayLike, mapping: SegmentMap = DEFAULT_SEGMENT_MAP, default: str = "Other"
) -> list[str]:
    """Segment name per customer from the (R, FM) map; cells missing from the map get `default`."""
    fm = fm_score(f, m)
    return [mapping.get((int(ri), int(fmi)), default) for ri, fmi in zip(np.asarray(r), fm, strict=True)]


def summarise_segments(
    segments: Sequence[str], recency_days: ArrayLike, frequency: ArrayLike, monetary: ArrayLike
) -> list[SegmentSummary]:
    """Customers, share and mean raw R, F, M per segment, largest segment first."""
    names, index, counts = np.unique(np.asarray(segments, dtype=str), return_inverse=True, return_counts=True)
    means = [
        np.bincount(index, weights=np.asarray(v, dtype=float)) / counts for v in (recency_days, frequency, monetary)
    ]
    summaries = [
        SegmentSummary(str(name), int(count), float(count / len(segments)), *(float(mean[i]) for mean in means))
        for i, (name, count) in enumerate(zip(names, counts, strict=True))
    ]
    return sorted(summaries, key=lambda s: (-s.customers, s.segment))
