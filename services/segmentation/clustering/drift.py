"""Drift between two clusterings: stable cluster matching, adjusted Rand index, PSI and a transition table.

Pure functions on label arrays, no database or I/O. Labels are non-negative cluster indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

PSI_EPSILON = 1e-4  # share given to an empty bin so the logarithm stays finite


@dataclass(frozen=True)
class DriftReport:
    """How a new clustering relates to the previous one."""

    matching: dict[int, int]  # new cluster -> old cluster it continues (keeps the old segment id)
    new_clusters: list[int]  # new clusters matching no old one (new segments)
    retired_clusters: list[int]  # old clusters no new one continues
    common_profiles: int
    adjusted_rand: float  # on the profiles common to both runs
    psi: float  # size shift over matched clusters, on each run's whole population
    transitions: list[list[int]]  # [old][new] number of common profiles that moved from old to new


def common_labels(
    old_ids: np.ndarray, old_labels: np.ndarray, new_ids: np.ndarray, new_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Old and new labels of the profiles present in both runs, aligned by profile id (ids unique per run)."""
    _, old_at, new_at = np.intersect1d(old_ids, new_ids, assume_unique=True, return_indices=True)
    return np.asarray(old_labels)[old_at], np.asarray(new_labels)[new_at]


def transition_table(old: np.ndarray, new: np.ndarray) -> list[list[int]]:
    """Counts of profiles per (old cluster, new cluster); rows old, columns new."""
    return _contingency(old, new).tolist()


def match_clusters(old: np.ndarray, new: np.ndarray) -> dict[int, int]:
    """New cluster -> old cluster maximising total overlap (Hungarian assignment); zero-overlap pairs dropped."""
    overlap = _contingency(old, new)
    rows, columns = linear_sum_assignment(overlap, maximize=True)
    return {int(c): int(r) for r, c in zip(rows, columns, strict=True) if overlap[r, c] > 0}


def adjusted_rand(old: np.ndarray, new: np.ndarray) -> float:
    """Adjusted Rand index of two labelings of the same profiles (1 = same partition, ~0 = chance)."""
    return float(adjusted_rand_score(old, new))


def population_stability_index(old_shares: np.ndarray, new_shares: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """PSI = Σ (newᵢ − oldᵢ) · ln(newᵢ / oldᵢ) over aligned bins, empty bins raised to epsilon.

    Rule of thumb: below 0.1 stable, 0.1–0.25 moderate shift, above 0.25 major shift.
    """
    old = np.maximum(np.asarray(old_shares, dtype=float), epsilon)
    new = np.maximum(np.asarray(new_shares, dtype=float), epsilon)
    return float(np.sum((new - old) * np.log(new / old)))


def drift_report(
    old_ids: np.ndarray, old_labels: np.ndarray, new_ids: np.ndarray, new_labels: np.ndarray
) -> DriftReport:
    """Match new clusters to old ones and measure the drift between the two runs."""
    old_common, new_common = common_labels(old_ids, old_labels, new_ids, new_labels)
    matching = match_clusters(old_common, new_common)
    old_shares, new_shares = _shares(old_labels), _shares(new_labels)
    old_bins, new_bins = _aligned_shares(matching, old_shares, new_shares)
    return DriftReport(
        matching=matching,
        new_clusters=[c for c in range(len(new_shares)) if c not in matching],
        retired_clusters=[c for c in range(len(old_shares)) if c not in matching.values()],
        common_profiles=len(old_common),
        adjusted_rand=adjusted_rand(old_common, new_common) if len(old_common) else 0.0,
        psi=population_stability_index(old_bins, new_bins),
        transitions=_contingency(old_common, new_common, len(old_shares), len(new_shares)).tolist(),
    )


def _contingency(old: np.ndarray, new: np.ndarray, n_old: int = 0, n_new: int = 0) -> np.ndarray:
    """Overlap counts, shape at least (max old label + 1, max new label + 1)."""
    old, new = np.asarray(old, dtype=int), np.asarray(new, dtype=int)
    rows = max(n_old, int(old.max()) + 1 if len(old) else 0)
    columns = max(n_new, int(new.max()) + 1 if len(new) else 0)
    return np.bincount(old * columns + new, minlength=rows * columns).reshape(rows, columns)


def _shares(labels: np.ndarray) -> np.ndarray:
    """Share of the population in each cluster 0..max(labels)."""
    counts = np.bincount(np.asarray(labels, dtype=int))
    return counts / counts.sum()


def _aligned_shares(
    matching: dict[int, int], old_shares: np.ndarray, new_shares: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shares per bin: one bin per matched pair, then retired old clusters (new 0), then new clusters (old 0)."""
    matched = sorted(matching.items())
    retired = [c for c in range(len(old_shares)) if c not in matching.values()]
    fresh = [c for c in range(len(new_shares)) if c not in matching]
    old = [old_shares[o] for _, o in matched] + [old_shares[o] for o in retired] + [0.0] * len(fresh)
    new = [new_shares[n] for n, _ in matched] + [0.0] * len(retired) + [new_shares[n] for n in fresh]
    return np.array(old), np.array(new)
