"""Re-runs keep cluster identities by overlap and report drift."""

from __future__ import annotations

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from services.segmentation.clustering.drift import (
    common_labels,
    drift_report,
    match_clusters,
    population_stability_index,
    transition_table,
)
from services.segmentation.clustering.model import fit
from tests.segmentation.personas import PERSONAS, draw, generate

LAPSED = next(i for i, p in enumerate(PERSONAS) if p.name == "Lapsed customers")
BARGAIN = next(i for i, p in enumerate(PERSONAS) if p.name == "Bargain hunters")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Many tiny fits spin-wait in OpenMP when other processes share the cores; one thread keeps them fast."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 4, size=2000)


class TestIdenticalRuns:
    def test_nothing_drifts(self, labels):
        ids = np.arange(len(labels))
        report = drift_report(ids, labels, ids, labels)
        assert report.matching == {0: 0, 1: 1, 2: 2, 3: 3}
        assert report.adjusted_rand == 1.0 and report.psi == pytest.approx(0.0)
        assert report.new_clusters == [] and report.retired_clusters == [] and report.common_profiles == 2000

    def test_transitions_are_diagonal(self, labels):
        table = np.array(transition_table(labels, labels))
        assert np.array_equal(table, np.diag(np.bincount(labels)))


class TestPermutedLabels:
    def test_clusters_are_matched_back(self, labels):
        permutation = np.array([2, 0, 3, 1])
        ids = np.arange(len(labels))
        report = drift_report(ids, labels, ids, permutation[labels])
        assert report.matching == {int(permutation[old]): old for old in range(4)}
        assert report.adjusted_rand == 1.0 and report.psi == pytest.approx(0.0)

    def test_matching_uses_only_common_profiles_by_id(self, labels):
        ids = np.array([f"p{i}" for i in range(len(labels))])
        shuffled = np.random.default_rng(2).permutation(len(labels))[:1500]
        old, new = common_labels(ids, labels, ids[shuffled], (labels[shuffled] + 1) % 4)
        assert len(old) == 1500 and np.array_equal((old + 1) % 4, new)
        assert match_clusters(old, new) == {(c + 1) % 4: c for c in range(4)}


class TestChangedClusterCount:
    def test_split_cluster_is_new_and_zero_overlap_is_not_matched(self):
        old = np.array([0] * 40 + [1] * 30 + [2] * 30)
        new = np.array([0] * 40 + [1] * 30 + [2] * 20 + [3] * 10)
        report = drift_report(np.arange(100), old, np.arange(100), new)
        assert report.matching == {0: 0, 1: 1, 2: 2} and report.new_clusters == [3]
        assert match_clusters(np.zeros(4, dtype=int), np.array([0, 0, 1, 1])) == {0: 0}

    def test_vanished_cluster_is_retired(self):
        old = np.array([0] * 50 + [1] * 30 + [2] * 20)
        new = np.array([0] * 50 + [1] * 50)
        report = drift_report(np.arange(100), old, np.arange(100), new)
        assert report.retired_clusters == [2] and report.psi > 0.1


class TestPopulationStabilityIndex:
    def test_formula(self):
        expected = 0.4 * math.log(0.9 / 0.5) + (-0.4) * math.log(0.1 / 0.5)
        assert population_stability_index([0.5, 0.5], [0.9, 0.1]) == pytest.approx(expected)

    def test_empty_bin_stays_finite(self):
        assert math.isfinite(population_stability_index([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))


class TestShiftedPopulation:
    def test_reclustering_keeps_ids_and_reports_the_shift(self):
        matrix, names, personas = generate(3000, seed=11)
        moved = (personas == BARGAIN) & (np.random.default_rng(12).random(len(personas)) < 0.6)
        shifted = personas.copy()
        shifted[moved] = LAPSED
        after = matrix.copy()
        after[moved] = draw(shifted[moved], np.random.default_rng(13))
        before_fit, after_fit = fit(matrix, names, k=5), fit(after, names, k=5)
        ids = np.arange(len(personas))
        report = drift_report(ids, before_fit.labels, ids, after_fit.labels)
        names_before = {c.index: c.suggested_name for c in before_fit.clusters}
        assert {names_before[old]: after_fit.clusters[new].suggested_name for new, old in report.matching.items()} == {
            p.name: p.name for p in PERSONAS
        }
        assert report.psi > 0.1 and 0.5 < report.adjusted_rand < 0.95
