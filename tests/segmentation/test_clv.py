"""BG/NBD and Gamma-Gamma against Fader, Hardie & Lee (2005) on CDNOW, and against the `lifetimes` package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.segmentation.clv import (
    BgNbdFit,
    CustomerSummary,
    GammaGammaFit,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    summarise_transactions,
)

CDNOW = Path(__file__).parents[1] / "data" / "CDNOW_sample.txt"
# Published estimates (Fader, Hardie & Lee 2005; Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").
PUBLISHED_BGNBD = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4)
PUBLISHED_GG = GammaGammaFit(p=6.25, q=3.74, gamma=15.44, log_likelihood=float("nan"))

# Reference values from lifetimes 0.11.3 with the published parameters set on its fitters:
#   python3 -m venv /tmp/ref && /tmp/ref/bin/pip install lifetimes
#   bg = BetaGeoFitter(); bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
#   gg = GammaGammaFitter(); gg.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})
#   bg.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T); bg.conditional_probability_alive(x, t_x, T)
#   gg.conditional_expected_average_profit(x, m)
#   bg.predict = bg.conditional_expected_number_of_purchases_up_to_time
#   gg.customer_lifetime_value(bg, x, t_x, T, m, time=52, discount_rate=0.002, freq="M")  # freq "M": one step per unit
HISTORIES = {  # (x, t_x, T): (expected purchases in the next 39 weeks, P(alive))
    (0, 0.0, 38.86): (0.19509805201125396, 1.0),
    (2, 30.43, 38.86): (1.226028174767135, 0.726578570080673),  # the paper's worked example: 1.226
    (1, 1.71, 38.86): (0.20318698707975183, 0.2121009853773791),
    (7, 29.43, 32.71): (4.970402248292412, 0.8446527607421425),
    (10, 20.0, 38.0): (0.3542754555720424, 0.04789755175052887),
}
SPEND = {(1, 20.0): 24.6384872080089, (4, 35.5): 35.47224224945926, (0, 0.0): 35.21897810218978}
CLV_CASES = {  # (x, t_x, T, m): CLV over 52 periods at 0.2% per period
    (0, 0.0, 38.86, 0.0): 8.443696155045638,
    (2, 30.43, 38.86, 25.0): 39.83874245359391,
    (7, 29.43, 32.71, 40.0): 235.56887266133862,
    (10, 20.0, 38.0, 12.5): 5.701896717488639,
}


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    ids, dates, amounts = np.loadtxt(CDNOW, usecols=(0, 2, 4), unpack=True)
    days = np.array([f"{d // 10000:04.0f}-{d // 100 % 100:02.0f}-{d % 100:02.0f}" for d in dates], "datetime64[D]")
    return summarise_transactions(ids.astype(int), days, amounts, "1997-09-30", "weeks")


def _columns(cases: dict) -> list[np.ndarray]:  # type: ignore[type-arg]
    return [np.array(column, dtype=float) for column in zip(*cases, strict=True)]


class TestSummariseTransactions:
    def test_cdnow_calibration_counts(self, cdnow: CustomerSummary) -> None:
        assert cdnow.customer_ids.size == 2357
        assert int((cdnow.x > 0).sum()) == 946
        assert cdnow.x.sum() == 2457
        assert cdnow.T.max() == pytest.approx(38.86, abs=0.01) and cdnow.T.min() >= 27

    def test_same_day_purchases_count_once_and_later_ones_are_ignored(self) -> None:
        days = np.array(
            ["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-15", "2024-02-01", "2024-01-10"], "datetime64[D]"
        )
        summary = summarise_transactions(
            ["a", "a", "a", "a", "a", "b"], days, [5, 5, 20, 40, 99, 7], "2024-01-29", "weeks"
        )
        assert summary.customer_ids.tolist() == ["a", "b"]
        assert summary.x.tolist() == [2, 0]
        assert summary.t_x.tolist() == [2, 0]
        assert summary.T.tolist() == [4, pytest.approx(19 / 7)]
        assert summary.monetary.tolist() == [30, 0]  # mean of repeat purchases only

    def test_days_as_unit(self) -> None:
        days = np.array(["2024-01-01", "2024-01-04"], "datetime64[D]")
        summary = summarise_transactions([1, 1], days, [1, 1], "2024-01-11", "days")
        assert (summary.x[0], summary.t_x[0], summary.T[0]) == (1, 3, 10)

    def test_nothing_before_calibration_end(self) -> None:
        days = np.array(["2024-02-01"], "datetime64[D]")
        summary = summarise_transactions(["a"], days, [10.0], "2024-01-01", "days")
        assert summary.customer_ids.size == summary.x.size == summary.T.size == 0


class TestFitBgNbd:
    def test_reproduces_published_cdnow_estimates(self, cdnow: CustomerSummary) -> None:
        fit = fit_bgnbd(cdnow.x, cdnow.t_x, cdnow.T)
        for name in ("r", "alpha", "a", "b", "log_likelihood"):
            assert getattr(fit, name) == pytest.approx(getattr(PUBLISHED_BGNBD, name), rel=0.01), name
        assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


class TestBgNbdPredictions:
    def test_match_lifetimes_reference(self) -> None:
        x, t_x, T = _columns(HISTORIES)
        expected, alive = np.array(list(HISTORIES.values())).T
        np.testing.assert_allclose(expected_purchases(PUBLISHED_BGNBD, 39, x, t_x, T), expected, rtol=1e-9)
        np.testing.assert_allclose(probability_alive(PUBLISHED_BGNBD, x, t_x, T), alive, rtol=1e-9)

    def test_no_repeat_purchase_means_alive(self) -> None:
        assert probability_alive(PUBLISHED_BGNBD, [0, 0], [0, 0], [1, 50]).tolist() == [1, 1]

    def test_alive_rises_with_recency_and_falls_with_silence(self) -> None:
        by_recency = probability_alive(PUBLISHED_BGNBD, 3, [5, 15, 30], 30)
        by_age = probability_alive(PUBLISHED_BGNBD, 3, 5, [10, 20, 30])
        assert np.all(np.diff(by_recency) > 0) and np.all(np.diff(by_age) < 0)

    def test_expected_purchases_grow_with_horizon(self) -> None:
        horizons = np.array([0, 1, 10, 52, 520])
        expected = expected_purchases(PUBLISHED_BGNBD, horizons, 2, 30.43, 38.86)
        assert expected[0] == 0 and np.all(np.diff(expected) > 0)


class TestGammaGamma:
    def test_reproduces_published_cdnow_estimates(self, cdnow: CustomerSummary) -> None:
        fit = fit_gamma_gamma(cdnow.x, cdnow.monetary)
        for name in ("p", "q", "gamma"):
            assert getattr(fit, name) == pytest.approx(getattr(PUBLISHED_GG, name), rel=0.01), name

    def test_expected_spend_matches_lifetimes_reference(self) -> None:
        x, m = _columns(SPEND)
        np.testing.assert_allclose(expected_spend(PUBLISHED_GG, x, m), list(SPEND.values()), rtol=1e-9)

    def test_expected_spend_shrinks_towards_population_mean(self) -> None:
        population = expected_spend(PUBLISHED_GG, 0, 0)
        few, many = expected_spend(PUBLISHED_GG, [1, 50], [100, 100])
        assert population < few < many < 100


class TestCustomerLifetimeValue:
    def test_matches_lifetimes_reference(self) -> None:
        x, t_x, T, m = _columns(CLV_CASES)
        clv = customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, x, t_x, T, m, 52, 0.002)
        np.testing.assert_allclose(clv, list(CLV_CASES.values()), rtol=1e-9)

    def test_undiscounted_is_expected_purchases_times_spend(self) -> None:
        clv = customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, 2, 30.43, 38.86, 25.0, 39, 0.0)
        purchases = expected_purchases(PUBLISHED_BGNBD, 39, 2, 30.43, 38.86)
        assert clv == pytest.approx(purchases * expected_spend(PUBLISHED_GG, 2, 25.0))

    def test_discounting_lowers_value(self) -> None:
        values = [
            customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, 2, 30.43, 38.86, 25.0, 52, d)
            for d in (0, 0.01, 0.05)
        ]
        assert values[0] > values[1] > values[2] > 0


def test_gamma_gamma_finds_the_maximum_when_spend_is_in_the_hundreds() -> None:
    """From (1, 1, 1) alone the search drifted towards p -> infinity on spend like this (found by the demo)."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=300).astype(float)
    nu = rng.gamma(17.0, 1 / 561.0, size=300)
    m = np.array([rng.gamma(6.6 * xi, 1 / (v * xi)) for xi, v in zip(x, nu, strict=True)])
    fit = fit_gamma_gamma(x, m)
    assert 4 < fit.p < 12 and 10 < fit.q < 25 and 300 < fit.gamma < 900
