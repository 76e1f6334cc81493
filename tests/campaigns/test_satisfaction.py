"""CSAT, NPS and CES with their intervals, and before/after, against computations written here and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from services.campaigns.satisfaction import compare, score, value_of

Z95 = 1.959963984540054
RNG = np.random.default_rng(17)


def _nps_independently(answers: list[int]) -> tuple[float, float, float]:
    """NPS as the mean of +100/0/−100 per answer; its interval from the population variance of those values."""
    values = np.array([100.0 if a >= 9 else -100.0 if a <= 6 else 0.0 for a in answers])
    se = float(np.sqrt(values.var(ddof=0) / len(values)))
    return float(values.mean()), float(values.mean()) - Z95 * se, float(values.mean()) + Z95 * se


class TestNps:
    def test_a_worked_example_by_hand(self) -> None:
        # 100 answers: 50 promoters, 30 passives, 20 detractors. NPS = 50 − 20 = 30;
        # var = (0.5 + 0.2 − 0.3²) / 100 = 0.0061, se = 7.8102 points, interval 30 ± 1.96 · 7.8102 = [14.6922, 45.3078].
        answers = [10] * 25 + [9] * 25 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10
        result = score("nps", answers)
        assert result.value == pytest.approx(30.0)
        assert result.std_error == pytest.approx(7.81025, abs=1e-5)
        assert (result.ci_low, result.ci_high) == (pytest.approx(14.6922, abs=1e-4), pytest.approx(45.3078, abs=1e-4))
        assert (result.promoters, result.passives, result.detractors) == pytest.approx((0.5, 0.3, 0.2))

    @pytest.mark.parametrize("size", [12, 150, 2000])
    def test_equals_the_mean_and_variance_of_the_trinomial_values(self, size: int) -> None:
        answers = [int(a) for a in RNG.integers(0, 11, size)]
        result = score("nps", answers)
        value, low, high = _nps_independently(answers)
        assert result.value == pytest.approx(value)
        assert result.ci_low == pytest.approx(max(low, -100.0)) and result.ci_high == pytest.approx(min(high, 100.0))

    def test_no_answers_has_no_figure(self) -> None:
        result = score("nps", [])
        assert result.responses == 0 and result.value is None and result.ci_low is None


class TestCsatAndCes:
    def test_csat_is_the_share_of_4_and_5_with_its_normal_interval(self) -> None:
        answers = [int(a) for a in RNG.integers(1, 6, 400)]
        p = sum(a >= 4 for a in answers) / 400
        result = score("csat", answers)
        assert result.value == pytest.approx(100 * p) and result.satisfied == pytest.approx(p)
        half = Z95 * 100 * np.sqrt(p * (1 - p) / 400)
        assert (result.ci_low, result.ci_high) == (pytest.approx(100 * p - half), pytest.approx(100 * p + half))

    def test_ces_is_the_mean_with_students_interval(self) -> None:
        answers = [int(a) for a in RNG.integers(1, 8, 60)]
        result = score("ces", answers)
        low, high = scipy_stats.t.interval(0.95, 59, loc=np.mean(answers), scale=scipy_stats.sem(answers))
        assert result.value == pytest.approx(np.mean(answers))
        assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))


class TestBeforeAfter:
    @pytest.mark.parametrize(("kind", "high"), [("nps", 11), ("csat", 6), ("ces", 8)])
    def test_equals_scipys_welch_test_on_the_same_answers(self, kind: str, high: int) -> None:
        low = 0 if kind == "nps" else 1
        before = [int(a) for a in RNG.integers(low, high, 180)]
        after = [int(min(a + RNG.integers(0, 2), high - 1)) for a in RNG.integers(low, high, 140)]
        result = compare(kind, before, after)
        a, b = [value_of(kind, s) for s in before], [value_of(kind, s) for s in after]
        reference = scipy_stats.ttest_ind(b, a, equal_var=False)
        interval = reference.confidence_interval(0.95)
        assert result.difference == pytest.approx(np.mean(b) - np.mean(a))
        assert result.difference == pytest.approx(result.after.value - result.before.value)  # type: ignore[operator]
        assert result.t_statistic == pytest.approx(reference.statistic)
        assert result.p_value == pytest.approx(reference.pvalue)
        assert result.dof == pytest.approx(reference.df)
        assert (result.ci_low, result.ci_high) == (pytest.approx(interval.low), pytest.approx(interval.high))
        assert result.significant == (reference.pvalue < 0.05)

    def test_an_obvious_improvement_is_significant(self) -> None:
        result = compare("csat", [1, 2, 3, 4, 2] * 20, [5, 4, 5, 4, 3] * 20)
        assert result.difference == pytest.approx(80 - 20) and result.significant and result.p_value < 1e-6

    def test_too_few_answers_on_one_side_give_no_test(self) -> None:
        result = compare("nps", [10], [1, 2, 3])
        assert result.difference is None and result.p_value is None and not result.significant
