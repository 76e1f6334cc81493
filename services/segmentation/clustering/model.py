"""Customer clustering: transform features, fit k-means or a Gaussian mixture, choose k, describe clusters.

Pure functions on arrays, no database or I/O. Fits are CPU-bound: callers run them off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

Method = Literal["kmeans", "gmm"]
AUTO_K = range(2, 11)
SKEW_THRESHOLD = 1.0  # |skewness| above which a non-negative feature is log1p-transformed
LARGE_N = 100_000  # above this, fits start from a solution found on a sample, then refine once on all rows
SEED_SAMPLE = 20_000  # rows used to find that starting solution
GMM_REG_COVAR = 1e-3  # on standardised data; point masses (e.g. zero spend) otherwise attract degenerate components
DESCRIBE_MIN_Z = 0.5  # a third feature is mentioned in a description only if it differs by at least this

# Feature names are free-form: a group matches a feature when all tokens of one of its patterns are in the name.
_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "monetary": (("revenue",), ("spend",), ("spent",), ("monetary",), ("value",), ("aov",), ("sales",)),
    "frequency": (("orders",), ("frequency",), ("purchases",), ("transactions",)),
    "recency": (("recency",), ("since", "last"), ("inactive",)),
    "tenure": (("tenure",), ("since", "first"), ("account", "age")),
    "social": (("social",), ("likes",), ("comments",), ("shares",), ("engagement",), ("reactions",)),
    "discount": (("discount",), ("coupon",), ("promo",), ("voucher",)),
}
# First rule whose every (group, direction, threshold) holds names the cluster; thresholds are in σ.
_RULES: tuple[tuple[str, tuple[tuple[str, str, float], ...]], ...] = (
    ("Lapsed customers", (("recency", ">", 0.8),)),
    ("New visitors", (("tenure", "<", -0.8),)),
    ("New visitors", (("frequency", "<", -0.8), ("recency", "<", -0.3))),
    ("Loyal big spenders", (("monetary", ">", 0.5), ("frequency", ">", 0.5))),
    ("Social fans", (("social", ">", 0.8),)),
    ("Bargain hunters", (("discount", ">", 0.8), ("monetary", "<", 0.5))),
)


@dataclass(frozen=True)
class Prepared:
    """Standardised feature matrix and the transforms that produced it."""

    data: np.ndarray
    feature_names: tuple[str, ...]
    logged: np.ndarray  # bool per feature: log1p applied before standardising
    mean: np.ndarray
    scale: np.ndarray

    def to_original(self, points: np.ndarray) -> np.ndarray:
        """Map standardised points back to the features' original units."""
        values = points * self.scale + self.mean
        values[..., self.logged] = np.expm1(values[..., self.logged])
        return values


@dataclass(frozen=True)
class ClusterSummary:
    """One cluster: its size, centre in original units, σ differences from the average, and a name."""

    index: int
    size: int
    share: float
    centroid: dict[str, float]
    z_scores: dict[str, float]
    description: str
    suggested_name: str


@dataclass(frozen=True)
class ClusteringResult:
    """Labels per row (0 = largest cluster), the cluster summaries and the silhouette score."""

    method: Method
    k: int
    labels: np.ndarray
    silhouette: float
    clusters: list[ClusterSummary]
    logged_features: list[str]
    k_scores: dict[int, float | None]  # k="auto": silhouette per k tried, None if a cluster was under min_share


def prepare(matrix: np.ndarray, feature_names: Sequence[str]) -> Prepared:
    """Log-transform skewed non-negative features, then standardise every feature."""
    values = _validated(matrix, feature_names)
    logged = _skewed(values)
    transformed = values.copy()
    transformed[:, logged] = np.log1p(values[:, logged])
    mean, scale = transformed.mean(axis=0), transformed.std(axis=0)
    scale[scale == 0] = 1.0
    return Prepared((transformed - mean) / scale, tuple(feature_names), logged, mean, scale)


def fit(
    matrix: np.ndarray,
    feature_names: Sequence[str],
    *,
    method: Method = "kmeans",
    k: int | Literal["auto"] = "auto",
    min_share: float = 0.02,
    sample_size: int = 10_000,
    seed: int = 0,
) -> ClusteringResult:
    """Cluster the rows and summarise each cluster; k="auto" picks 2–10 by silhouette on a sample."""
    prepared = prepare(matrix, feature_names)
    sample = _sample_rows(len(prepared.data), sample_size, seed)
    k_scores = _score_ks(prepared.data[sample], method, min_share, seed) if k == "auto" else {}
    chosen = _best_k(k_scores) if k == "auto" else _checked_k(k, len(prepared.data))
    labels = _relabel_by_size(_fit_labels(prepared.data, method, chosen, seed))
    clusters = summarise(prepared, labels)
    silhouette = _silhouette(prepared.data[sample], labels[sample])
    logged = [name for name, flag in zip(prepared.feature_names, prepared.logged, strict=True) if flag]
    return ClusteringResult(method, len(clusters), labels, silhouette, clusters, logged, k_scores)


def summarise(prepared: Prepared, labels: np.ndarray) -> list[ClusterSummary]:
    """Size, original-unit centroid, z-scores, description and name of each cluster 0..max(labels)."""
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    sums = np.stack([np.bincount(labels, weights=column, minlength=k) for column in prepared.data.T], axis=1)
    z = sums / np.maximum(sizes, 1)[:, None]
    centroids = prepared.to_original(z)
    names = _unique_names([suggest_name(i, _by_name(prepared, z[i])) for i in range(k)])
    return [
        ClusterSummary(
            index=i,
            size=int(sizes[i]),
            share=float(sizes[i] / len(labels)),
            centroid=_by_name(prepared, centroids[i]),
            z_scores=_by_name(prepared, z[i]),
            description=describe(_by_name(prepared, z[i])),
            suggested_name=names[i],
        )
        for i in range(k)
    ]


def describe(z_scores: dict[str, float]) -> str:
    """The two or three features that differ most from the average, e.g. "orders +1.8σ, days since last visit −1.2σ"."""
    ranked = sorted(z_scores.items(), key=lambda item: -abs(item[1]))
    shown = ranked[:2] + [item for item in ranked[2:3] if abs(item[1]) >= DESCRIBE_MIN_Z]
    return ", ".join(f"{_label(name)} {_signed(value)}σ" for name, value in shown)


def suggest_name(index: int, z_scores: dict[str, float]) -> str:
    """A persona-like name from keyword rules on the z-scores, else "Cluster N: high <top feature>"."""
    scores = _group_scores(z_scores)
    for name, conditions in _RULES:
        if all(_holds(scores.get(group), direction, threshold) for group, direction, threshold in conditions):
            return name
    top, value = max(z_scores.items(), key=lambda item: abs(item[1]))
    return f"Cluster {index}: {'high' if value > 0 else 'low'} {_label(top)}"


def _validated(matrix: np.ndarray, feature_names: Sequence[str]) -> np.ndarray:
    """The matrix as a finite float 2-D array with one column per feature name."""
    values = np.asarray(matrix, dtype=float)
    if values.ndim != 2 or values.shape[1] != len(feature_names) or len(values) < 3:
        raise ValueError("expected a matrix of at least 3 rows with one column per feature name")
    if not np.isfinite(values).all():
        raise ValueError("features must be finite numbers")
    return values


def _skewed(values: np.ndarray) -> np.ndarray:
    """Per column: non-negative with |sample skewness| above SKEW_THRESHOLD."""
    centred = values - values.mean(axis=0)
    variance = (centred**2).mean(axis=0)
    third = (centred**3).mean(axis=0)
    skewness = np.divide(third, variance**1.5, out=np.zeros_like(third), where=variance > 0)
    return (values.min(axis=0) >= 0) & (np.abs(skewness) > SKEW_THRESHOLD)


def _sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of at most `size` rows drawn without replacement (all rows if fewer)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _score_ks(data: np.ndarray, method: Method, min_share: float, seed: int) -> dict[int, float | None]:
    """Silhouette of each candidate k fitted on `data`; None when its smallest cluster is under min_share."""
    scores: dict[int, float | None] = {}
    for k in (k for k in AUTO_K if k < len(data)):
        labels = _fit_labels(data, method, k, seed)
        smallest = np.bincount(labels, minlength=k).min() / len(labels)
        scores[k] = _silhouette(data, labels) if smallest >= min_share else None
    return scores


def _best_k(k_scores: dict[int, float | None]) -> int:
    """The k with the best silhouette among those whose clusters all reach the minimum share."""
    eligible = {k: score for k, score in k_scores.items() if score is not None}
    if not eligible:
        raise ValueError("no k in 2..10 gives clusters that all reach the minimum share")
    return max(eligible, key=lambda k: (eligible[k], -k))


def _checked_k(k: int, n: int) -> int:
    """k itself, if it is a usable number of clusters for n rows."""
    if not 2 <= k < n:
        raise ValueError(f"k must be between 2 and {n - 1}")
    return k


def _fit_labels(data: np.ndarray, method: Method, k: int, seed: int) -> np.ndarray:
    """Cluster labels from k-means or a full-covariance Gaussian mixture."""
    if method == "kmeans":
        return _kmeans(data, k, seed)
    if method == "gmm":
        return _gmm(data, k, seed)
    raise ValueError(f"unknown method {method!r}")


def _kmeans(data: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means with 10 restarts; on large inputs the restarts run on a sample and one refit uses all rows."""
    if len(data) <= LARGE_N:
        return KMeans(k, n_init=10, random_state=seed).fit_predict(data)
    start = KMeans(k, n_init=10, random_state=seed).fit(data[_sample_rows(len(data), SEED_SAMPLE, seed)])
    return KMeans(k, init=start.cluster_centers_, n_init=1, random_state=seed).fit_predict(data)


def _gmm(data: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Gaussian mixture with 3 restarts; on large inputs the restarts run on a sample, then one EM on all rows."""
    if len(data) <= LARGE_N:
        return _mixture(k, seed, n_init=3).fit(data).predict(data)
    start = _mixture(k, seed, n_init=3).fit(data[_sample_rows(len(data), SEED_SAMPLE, seed)])
    model = _mixture(k, seed, weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_)
    return model.fit(data).predict(data)


def _mixture(k: int, seed: int, **options: Any) -> GaussianMixture:
    """A full-covariance Gaussian mixture regularised for standardised data."""
    return GaussianMixture(k, reg_covar=GMM_REG_COVAR, random_state=seed, **options)


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered so 0 is the largest cluster (ties by old label); empty clusters disappear."""
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels]


def _silhouette(data: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette, or -1 when fewer than two clusters are present."""
    if len(np.unique(labels)) < 2:
        return -1.0
    return float(silhouette_score(data, labels))


def _by_name(prepared: Prepared, row: np.ndarray) -> dict[str, float]:
    """One value per feature name."""
    return {name: float(value) for name, value in zip(prepared.feature_names, row, strict=True)}


def _group_scores(z_scores: dict[str, float]) -> dict[str, float]:
    """Mean z-score of the features matching each keyword group (groups without features are left out)."""
    scores = {}
    for group, patterns in _GROUPS.items():
        matched = [z for name, z in z_scores.items() if any(set(p) <= _tokens(name) for p in patterns)]
        if matched:
            scores[group] = float(np.mean(matched))
    return scores


def _holds(score: float | None, direction: str, threshold: float) -> bool:
    """Whether a group's score exists and lies beyond the threshold in the given direction."""
    if score is None:
        return False
    return score > threshold if direction == ">" else score < threshold


def _unique_names(names: list[str]) -> list[str]:
    """Names with " 2", " 3" … appended to repeats."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return unique


def _tokens(name: str) -> set[str]:
    """Lower-case words of a free-form feature name."""
    return set("".join(c if c.isalnum() else " " for c in name.lower()).split())


def _label(name: str) -> str:
    """A feature name as words."""
    return " ".join("".join(c if c.isalnum() else " " for c in name).split())


def _signed(value: float) -> str:
    """+1.8 / −1.2 with a true minus sign."""
    return f"{value:+.1f}".replace("-", "\u2212")
