"""BG/NBD and Gamma-Gamma against Fader, Hardie & Lee (2005) on CDNOW, against the `lifetimes` package, and against
maximum-likelihood fits written here independently, on customers drawn from the models with orders worth 0."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import gammaln
from scipy.stats import betaprime

from services.segmentation.clv import model as clv
from services.segmentation.clv.model import (
    BgNbdFit,
    CustomerSummary,
    FitFailed,
    GammaGammaFit,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    summarise_transactions,
)
from tests.segmentation.clv_data import Orders, generate

CDNOW = Path(__file__).parents[2] / "data" / "CDNOW_sample.txt"
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

    def test_per_period_sum_without_discount_is_the_whole_horizon(self) -> None:
        x, t_x, T, m = _columns(CLV_CASES)
        whole = customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, x, t_x, T, m, 52, 0.0)
        per_period = customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, x, t_x, T, m, 52, 1e-15)
        np.testing.assert_allclose(per_period, whole, rtol=1e-9)

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


# ---------------------------------------------------------------- customers drawn from the models, orders worth 0

# lifetimes 0.11.3 (numpy 2.4.6, scipy 1.17.1, pandas 3.1.1, in a throwaway venv; not a dependency) on the summary
# of `generate(5000, seed=7, zero_share=0.05)` below, once:
#   BetaGeoFitter().fit(x, t_x, T).params_
#   GammaGammaFitter().fit(x[x > 0], m[x > 0])  -> ValueError: There exist non-positive (<= 0) values in the
#                                                  monetary_value vector.
#   GammaGammaFitter().fit(x[(x > 0) & (m > 0)], m[(x > 0) & (m > 0)]): params_, _negative_log_likelihood_ x 1991
LIFETIMES_BGNBD = {"r": 0.25128991748796964, "alpha": 4.606549105970454, "a": 0.9657404620507078,
                   "b": 3.02253166194778}  # fmt: skip
LIFETIMES_GG = {"p": 6.03556886335434, "q": 3.359992404380917, "gamma": 13.614389550619903}
LIFETIMES_GG_LOG_LIKELIHOOD = -4.318291820675574 * 1991


@pytest.fixture(scope="module")
def drawn() -> tuple[Orders, CustomerSummary]:
    """5,000 CDNOW-like customers drawn from BG/NBD and Gamma-Gamma, 5% of their orders worth 0."""
    orders = generate(5000, seed=7, zero_share=0.05)
    return orders, summarise_transactions(orders.customer, orders.day, orders.amount, orders.calibration_end, "weeks")


def _repeat_spend_by_hand(orders: Orders) -> dict[int, float]:
    """Each repeat customer's spend on order days after the first, counted one order at a time."""
    by_day: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for customer, day, amount in zip(orders.customer.tolist(), orders.day.astype(str).tolist(),
                                     orders.amount.tolist(), strict=True):  # fmt: skip
        by_day[customer][day] += amount
    return {c: sum(spend for _, spend in sorted(days.items())[1:]) for c, days in by_day.items() if len(days) > 1}


def _gamma_gamma_reference(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, float]:
    """Gamma-Gamma by maximum likelihood written independently: the sum of x spends given nu is gamma(p x, nu) and
    nu is gamma(q, gamma), so the sum is beta-prime(p x, q) scaled by gamma, and the mean m = sum / x."""

    def negative(log_params: np.ndarray) -> float:
        p, q, gamma = np.exp(log_params)
        return -float(np.sum(betaprime.logpdf(m * x, p * x, q, scale=gamma) + np.log(x)))

    start = np.log([1.0, 2.0, float(np.mean(m))])
    result = minimize(
        negative, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20_000}
    )
    assert result.success, result.message
    return np.exp(result.x), -float(result.fun)


def _bgnbd_reference(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, float]:
    """BG/NBD by maximum likelihood as Fader, Hardie & Lee's note writes it: L = A1 A2 (A3 + [x > 0] A4)."""

    def negative(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        a4 = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x)
        return -float(np.sum(a1 + a2 + np.log(np.exp(a3) + np.where(x > 0, np.exp(a4), 0.0))))

    result = minimize(
        negative, np.zeros(4), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20_000}
    )
    assert result.success, result.message
    return np.exp(result.x), -float(result.fun)


class TestOrdersWorthZero:
    def test_gamma_gamma_leaves_out_customers_whose_repeat_orders_are_worth_0_and_says_how_many(
        self, drawn: tuple[Orders, CustomerSummary]
    ) -> None:
        orders, summary = drawn
        by_hand = _repeat_spend_by_hand(orders)
        zero = sum(1 for spend in by_hand.values() if spend == 0)
        fit = fit_gamma_gamma(summary.x, summary.monetary)
        assert zero > 20 and (fit.excluded, fit.customers) == (zero, len(by_hand) - zero)

    def test_gamma_gamma_matches_an_independent_fit_and_lifetimes(self, drawn: tuple[Orders, CustomerSummary]) -> None:
        _, s = drawn
        positive = (s.x > 0) & (s.monetary > 0)
        (p, q, gamma), log_likelihood = _gamma_gamma_reference(s.x[positive], s.monetary[positive])
        fit = fit_gamma_gamma(s.x, s.monetary)
        np.testing.assert_allclose([fit.p, fit.q, fit.gamma], [p, q, gamma], rtol=1e-4)
        np.testing.assert_allclose([fit.p, fit.q, fit.gamma], list(LIFETIMES_GG.values()), rtol=1e-5)
        assert fit.log_likelihood == pytest.approx(log_likelihood, abs=1e-4)
        assert fit.log_likelihood == pytest.approx(LIFETIMES_GG_LOG_LIKELIHOOD, abs=1e-3)
        assert abs(fit.p / 6.25 - 1) < 0.1 and abs(fit.q / 3.74 - 1) < 0.2  # near what the customers were drawn from

    def test_bgnbd_counts_orders_worth_0_and_matches_an_independent_fit_and_lifetimes(
        self, drawn: tuple[Orders, CustomerSummary]
    ) -> None:
        _, s = drawn
        params, log_likelihood = _bgnbd_reference(s.x, s.t_x, s.T)
        fit = fit_bgnbd(s.x, s.t_x, s.T)
        np.testing.assert_allclose([fit.r, fit.alpha, fit.a, fit.b], params, rtol=1e-4)
        np.testing.assert_allclose([fit.r, fit.alpha, fit.a, fit.b], list(LIFETIMES_BGNBD.values()), rtol=1e-5)
        assert fit.log_likelihood == pytest.approx(log_likelihood, abs=1e-4)

    def test_customers_left_out_of_gamma_gamma_still_get_a_finite_lifetime_value(
        self, drawn: tuple[Orders, CustomerSummary]
    ) -> None:
        _, s = drawn
        value = customer_lifetime_value(fit_bgnbd(s.x, s.t_x, s.T), fit_gamma_gamma(s.x, s.monetary),
                                        s.x, s.t_x, s.T, s.monetary, 52, 0.01)  # fmt: skip
        zero = (s.x > 0) & (s.monetary == 0)
        assert np.isfinite(value).all() and (value >= 0).all()
        assert np.median(value[zero]) < np.median(value[(s.x > 0) & ~zero])


class TestFailedFits:
    """A fit that finds no maximum raises `FitFailed` naming why; it never returns the start or a runaway."""

    def test_spend_identical_for_everyone_has_a_likelihood_without_bound(self) -> None:
        x = np.tile([1.0, 2.0, 3.0, 5.0], 10)
        with pytest.raises(FitFailed, match=r"Gamma-Gamma log-likelihood is not finite: it grows without bound as "
                                            r"p → ∞, q → ∞"):  # fmt: skip
            fit_gamma_gamma(x, np.full(x.size, 25.0))

    def test_only_orders_worth_0_leaves_nothing_to_fit(self) -> None:
        with pytest.raises(FitFailed, match=r"nobody to fit: none of the 20 repeat customers spent more than 0"):
            fit_gamma_gamma(np.ones(20), np.zeros(20))

    def test_a_likelihood_rising_for_ever_is_not_finite(self) -> None:
        def unbounded(params: np.ndarray) -> tuple[float, np.ndarray]:
            return float(np.sum(np.log(params))), 1.0 / params

        with pytest.raises(FitFailed, match=r"test log-likelihood is not finite: it grows without bound as k → ∞"):
            clv._maximise(unbounded, ("k",), "test", 1)

    def test_a_likelihood_that_is_never_finite_is_a_failure(self) -> None:
        with pytest.raises(FitFailed, match=r"test log-likelihood is not finite at the optimiser's answer"):
            clv._maximise(lambda params: (-np.inf, np.zeros(2)), ("u", "v"), "test", 1)

    def test_an_optimiser_that_stops_on_a_slope_did_not_converge(self) -> None:
        def misleading(params: np.ndarray) -> tuple[float, np.ndarray]:
            return -float(np.sum((np.log(params) - 1) ** 2)), -1.0 / params  # the gradient points the wrong way

        with pytest.raises(FitFailed, match=r"test fit did not converge: the optimiser stopped \(ABNORMAL"):
            clv._maximise(misleading, ("u", "v"), "test", 1)

    def test_a_start_that_is_already_the_answer_is_not_trusted(self) -> None:
        with pytest.raises(FitFailed, match=r"never moved from its starting point"):
            clv._maximise(lambda params: (0.0, np.zeros(2)), ("u", "v"), "test", 1)


class TestBoundaryMaxima:
    """A maximum on the model's boundary (a limit model) is a result, and says so."""

    def test_no_spread_within_customers_is_p_at_infinity_and_each_keeps_their_own_average(self) -> None:
        x = np.tile([1.0, 2.0, 3.0, 5.0], 10)
        m = np.tile([10.0, 25.0, 25.0, 10.0, 10.0], 8)
        fit = fit_gamma_gamma(x, m)
        assert "p → ∞" in fit.boundary and np.isfinite(fit.log_likelihood)
        np.testing.assert_allclose(expected_spend(fit, x, m), m, rtol=1e-3)

    def test_an_interior_maximum_has_no_boundary(self, cdnow: CustomerSummary) -> None:
        assert fit_bgnbd(cdnow.x, cdnow.t_x, cdnow.T).boundary == ()
        assert fit_gamma_gamma(cdnow.x, cdnow.monetary).boundary == ()
