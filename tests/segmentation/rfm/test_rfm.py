"""RFM quintile scores, segment names and per-segment summaries."""

from __future__ import annotations

import numpy as np
import pytest

from services.segmentation.rfm.model import (
    DEFAULT_SEGMENT_MAP,
    fm_score,
    name_segments,
    quintile_scores,
    score_rfm,
    summarise_segments,
)

SEGMENTS = {
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
}


def _skewed_frequency(n: int = 1000) -> np.ndarray:
    """60% of customers with one order, the rest spread over 2-20."""
    rng = np.random.default_rng(7)
    return np.concatenate([np.ones(int(n * 0.6)), rng.integers(2, 21, n - int(n * 0.6))])


class TestQuintileScores:
    def test_balanced_even_when_most_values_tie(self) -> None:
        scores = quintile_scores(_skewed_frequency())
        assert np.bincount(scores, minlength=6)[1:].tolist() == [200] * 5

    def test_uneven_sizes_differ_by_at_most_one(self) -> None:
        counts = np.bincount(quintile_scores(np.zeros(13)), minlength=6)[1:]
        assert counts.sum() == 13 and counts.max() - counts.min() <= 1

    def test_higher_values_never_score_lower(self) -> None:
        values = _skewed_frequency()
        scores = quintile_scores(values)
        order = np.argsort(values, kind="stable")
        assert np.all(np.diff(scores[order]) >= 0)

    def test_deterministic_and_ties_broken_by_input_order(self) -> None:
        values = np.ones(10)
        assert quintile_scores(values).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        assert quintile_scores(values).tolist() == quintile_scores(values.copy()).tolist()

    def test_empty_input(self) -> None:
        assert quintile_scores([]).size == 0


class TestScoreRfm:
    def test_recent_customers_score_high_on_recency(self) -> None:
        scores = score_rfm([1, 400, 30, 90, 200], [1, 1, 1, 1, 1], [10, 20, 30, 40, 50])
        assert scores.r.tolist() == [5, 1, 4, 3, 2]
        assert scores.m.tolist() == [1, 2, 3, 4, 5]

    def test_scores_in_range(self) -> None:
        rng = np.random.default_rng(1)
        scores = score_rfm(rng.integers(0, 365, 500), _skewed_frequency(500), rng.gamma(2.0, 30.0, 500))
        for column in (scores.r, scores.f, scores.m):
            assert column.min() == 1 and column.max() == 5


class TestNameSegments:
    def test_default_map_covers_every_cell_with_the_eleven_segments(self) -> None:
        assert set(DEFAULT_SEGMENT_MAP) == {(r, fm) for r in range(1, 6) for fm in range(1, 6)}
        assert set(DEFAULT_SEGMENT_MAP.values()) == SEGMENTS

    @pytest.mark.parametrize(
        ("r", "f", "m", "segment"),
        [
            (5, 5, 5, "Champions"),
            (4, 4, 3, "Champions"),  # FM rounds 3.5 up to 4
            (3, 5, 4, "Loyal"),
            (5, 1, 1, "New"),
            (4, 1, 1, "Promising"),
            (5, 2, 3, "Potential Loyalist"),
            (3, 3, 3, "Need Attention"),
            (3, 1, 2, "About To Sleep"),
            (2, 4, 3, "At Risk"),
            (1, 5, 5, "Can't Lose Them"),
            (2, 1, 1, "Hibernating"),
            (1, 1, 1, "Lost"),
        ],
    )
    def test_default_grid(self, r: int, f: int, m: int, segment: str) -> None:
        assert name_segments([r], [f], [m]) == [segment]

    def test_edited_map_and_default_for_missing_cells(self) -> None:
        mapping = {**DEFAULT_SEGMENT_MAP, (5, 1): "First Timers"}
        del mapping[(1, 1)]
        assert name_segments([5, 1, 5], [1, 1, 5], [1, 1, 5], mapping, default="Unmapped") == [
            "First Timers",
            "Unmapped",
            "Champions",
        ]

    def test_fm_rounds_half_up(self) -> None:
        assert fm_score([1, 1, 2, 5], [1, 2, 2, 4]).tolist() == [1, 2, 2, 5]


class TestSummariseSegments:
    def test_counts_shares_and_means_largest_first(self) -> None:
        summaries = summarise_segments(["Lost", "New", "Lost"], [300, 2, 100], [1, 1, 3], [10.0, 20.0, 30.0])
        assert [(s.segment, s.customers, s.share) for s in summaries] == [("Lost", 2, 2 / 3), ("New", 1, 1 / 3)]
        lost = summaries[0]
        assert (lost.mean_recency_days, lost.mean_frequency, lost.mean_monetary) == (200, 2, 20)

    def test_end_to_end_from_scores(self) -> None:
        rng = np.random.default_rng(3)
        recency, frequency, monetary = rng.integers(0, 365, 300), _skewed_frequency(300), rng.gamma(2.0, 30.0, 300)
        scores = score_rfm(recency, frequency, monetary)
        segments = name_segments(scores.r, scores.f, scores.m)
        summaries = summarise_segments(segments, recency, frequency, monetary)
        assert sum(s.customers for s in summaries) == 300
        assert {s.segment for s in summaries} <= SEGMENTS
