"""Clustering recovers planted personas and describes them in original units."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from services.segmentation.clustering.model import ClusteringResult, describe, fit, prepare, suggest_name
from tests.segmentation.personas import PERSONAS, generate

N = 4000


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Many tiny fits spin-wait in OpenMP when other processes share the cores; one thread keeps them fast."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def customers() -> tuple[np.ndarray, list[str], np.ndarray]:
    return generate(N, seed=7)


@pytest.fixture(scope="module")
def kmeans5(customers) -> ClusteringResult:
    matrix, names, _ = customers
    return fit(matrix, names, method="kmeans", k=5)


def majority_persona(result: ClusteringResult, personas: np.ndarray, cluster: int) -> int:
    return int(np.bincount(personas[result.labels == cluster]).argmax())


def cluster_of(result: ClusteringResult, personas: np.ndarray, persona_name: str):
    wanted = next(i for i, p in enumerate(PERSONAS) if p.name == persona_name)
    return next(c for c in result.clusters if majority_persona(result, personas, c.index) == wanted)


class TestRecoversPersonas:
    def test_kmeans_with_five_clusters(self, customers, kmeans5):
        assert adjusted_rand_score(customers[2], kmeans5.labels) >= 0.9

    def test_kmeans_auto_finds_five(self, customers):
        matrix, names, personas = customers
        result = fit(matrix, names, method="kmeans", k="auto")
        assert result.k == 5
        assert adjusted_rand_score(personas, result.labels) >= 0.9
        assert max(result.k_scores, key=lambda k: result.k_scores[k] or -1) == 5

    def test_gmm_with_five_clusters(self, customers):
        matrix, names, personas = customers
        result = fit(matrix, names, method="gmm", k=5)
        assert adjusted_rand_score(personas, result.labels) >= 0.9

    def test_gmm_auto_finds_five(self, customers):
        matrix, names, personas = customers
        result = fit(matrix, names, method="gmm", k="auto")
        assert result.k == 5 and adjusted_rand_score(personas, result.labels) >= 0.9

    def test_same_seed_same_labels(self, customers, kmeans5):
        matrix, names, _ = customers
        assert np.array_equal(fit(matrix, names, method="kmeans", k=5).labels, kmeans5.labels)


class TestSummaries:
    def test_sizes_and_shares_add_up_largest_first(self, kmeans5):
        sizes = [c.size for c in kmeans5.clusters]
        assert sum(sizes) == N and sizes == sorted(sizes, reverse=True)
        assert sum(c.share for c in kmeans5.clusters) == pytest.approx(1.0)

    def test_silhouette_is_reported(self, kmeans5):
        assert 0.3 < kmeans5.silhouette <= 1.0

    def test_centroids_in_original_units_near_persona_values(self, customers, kmeans5):
        for cluster in kmeans5.clusters:
            persona = PERSONAS[majority_persona(kmeans5, customers[2], cluster.index)]
            assert cluster.centroid["days_since_last_visit"] == pytest.approx(persona.days_since_last_visit, rel=0.25)
            assert cluster.centroid["tenure_days"] == pytest.approx(persona.tenure_days, rel=0.25)
            assert cluster.centroid["email_open_rate"] == pytest.approx(persona.email_open_rate, abs=0.03)

    def test_suggested_names_match_the_personas(self, customers, kmeans5):
        for cluster in kmeans5.clusters:
            persona = PERSONAS[majority_persona(kmeans5, customers[2], cluster.index)]
            assert cluster.suggested_name == persona.name

    @pytest.mark.parametrize(
        ("persona", "mention"),
        [
            ("Lapsed customers", "days since last visit +"),
            ("Social fans", "likes comments shares +"),
            ("New visitors", "tenure days \u2212"),
            ("Bargain hunters", "discount share +"),
            ("Loyal big spenders", "revenue +"),
        ],
    )
    def test_descriptions_mention_the_distinguishing_feature(self, customers, kmeans5, persona, mention):
        assert mention in cluster_of(kmeans5, customers[2], persona).description


class TestPrepare:
    def test_logs_skewed_counts_not_rates(self, customers):
        matrix, names, _ = customers
        logged = dict(zip(names, prepare(matrix, names).logged, strict=True))
        assert logged["revenue"] and logged["days_since_last_visit"]
        assert not logged["email_open_rate"]

    def test_standardised_and_invertible(self, customers):
        matrix, names, _ = customers
        prepared = prepare(matrix, names)
        assert np.allclose(prepared.data.mean(axis=0), 0) and np.allclose(prepared.data.std(axis=0), 1)
        assert np.allclose(prepared.to_original(prepared.data), matrix)

    def test_constant_feature_stays_finite(self):
        matrix = np.column_stack([np.arange(10.0), np.full(10, 3.0)])
        prepared = prepare(matrix, ["a", "b"])
        assert np.isfinite(prepared.data).all() and np.allclose(prepared.to_original(prepared.data), matrix)


class TestDescribeAndName:
    def test_two_largest_with_true_minus_sign(self):
        text = describe({"orders": 1.84, "days_since_last_visit": -1.2, "sessions": 0.1})
        assert text == "orders +1.8σ, days since last visit \u22121.2σ"

    def test_third_feature_when_it_matters(self):
        assert describe({"a": 2.0, "b": -1.5, "c": 0.7, "d": 0.1}) == "a +2.0σ, b \u22121.5σ, c +0.7σ"

    def test_unknown_features_fall_back_to_top_feature(self):
        assert suggest_name(3, {"basket_size": 1.3, "widgets": -0.4}) == "Cluster 3: high basket size"

    def test_keyword_matching_is_free_form(self):
        assert suggest_name(0, {"Total Spend": 1.2, "Purchases (12m)": 0.9}) == "Loyal big spenders"


class TestRejects:
    def test_k_not_below_row_count(self):
        with pytest.raises(ValueError, match="k must be"):
            fit(np.random.default_rng(0).normal(size=(5, 2)), ["a", "b"], k=5)

    def test_non_finite_features(self):
        with pytest.raises(ValueError, match="finite"):
            fit(np.array([[1.0, np.nan]] * 5), ["a", "b"], k=2)

    def test_unknown_method(self):
        with pytest.raises(ValueError, match="unknown method"):
            fit(np.random.default_rng(0).normal(size=(20, 2)), ["a", "b"], method="dbscan", k=2)  # type: ignore[arg-type]

    def test_auto_when_no_k_meets_the_minimum_share(self, customers):
        matrix, names, _ = customers
        with pytest.raises(ValueError, match="minimum share"):
            fit(matrix[:500], names, k="auto", min_share=0.5)
