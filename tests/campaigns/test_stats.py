"""services/campaigns/stats.py against GrowthBook gbstats 0.8.0 (reference/gbstats_0_8_0.json) and the issue's checkpoint."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from services.campaigns.stats import (
    Arm,
    BayesianResult,
    GaussianPrior,
    LiftResult,
    MeanArm,
    ProportionArm,
    bayesian_test,
    check_srm,
    frequentist_test,
    sequential_test,
)

REFERENCE = json.loads((Path(__file__).parent / "reference" / "gbstats_0_8_0.json").read_text())
CASES = {case["name"]: case for case in REFERENCE["cases"]}
ENGINES = [
    f"{engine}_{difference}{label}"
    for difference in ("relative", "absolute")
    for engine, label in [
        ("frequentist", ""),
        ("sequential", ""),
        ("bayesian", ""),
        ("bayesian", "_proper"),
        ("bayesian", "_inverse"),
    ]
]
REL_TOL = 1e-4
ABS_TOL = 1e-12  # lets p-values and risks that are ~0 in both agree


def make_arm(metric: str, data: dict[str, float]) -> Arm:
    if metric == "proportion":
        return ProportionArm(users=int(data["users"]), conversions=int(data["conversions"]))
    return MeanArm(users=int(data["users"]), sum=data["sum"], sum_squares=data["sum_squares"])


def run(engine: str, case: dict[str, Any]) -> LiftResult | BayesianResult:
    control, variant = make_arm(case["metric"], case["control"]), make_arm(case["metric"], case["variant"])
    kind, difference, *label = engine.split("_")
    relative = difference == "relative"
    if kind == "frequentist":
        return frequentist_test(control, variant, relative=relative)
    if kind == "sequential":
        return sequential_test(control, variant, relative=relative)
    prior = GaussianPrior(mean=0.0, stddev=0.1) if label == ["proper"] else None
    return bayesian_test(control, variant, relative=relative, prior=prior, inverse=label == ["inverse"])


def comparable(result: LiftResult | BayesianResult) -> dict[str, float]:
    values = {"expected": result.lift, "ci_low": result.ci_low, "ci_high": result.ci_high, "stddev": result.std_error}
    if isinstance(result, LiftResult):
        return values | {"p_value": result.p_value}
    return values | {
        "chance_to_win": result.chance_to_win,
        "risk_control": result.risk_control,
        "risk_variant": result.risk_variant,
    }


def reference_values(expected: dict[str, Any]) -> dict[str, float]:
    values = {k: v for k, v in expected.items() if k not in ("ci", "risk", "error_message")}
    values |= {"ci_low": expected["ci"][0], "ci_high": expected["ci"][1]}
    if "risk" in expected:
        values |= {"risk_control": expected["risk"][0], "risk_variant": expected["risk"][1]}
    return values


class TestIssueCheckpoint:
    control = ProportionArm(users=10000, conversions=1000)
    variant = ProportionArm(users=10000, conversions=1100)

    def test_relative_lift_ci_and_p_value(self) -> None:
        result = frequentist_test(self.control, self.variant)
        assert result.computable and result.relative
        assert result.lift == pytest.approx(0.1, abs=1e-12)
        assert result.ci_low == pytest.approx(0.01086, abs=5e-6)
        assert result.ci_high == pytest.approx(0.18914, abs=5e-6)
        assert result.p_value == pytest.approx(0.02789, abs=5e-6)

    def test_chance_to_win(self) -> None:
        result = bayesian_test(self.control, self.variant)
        assert result.chance_to_win == pytest.approx(0.98606, abs=5e-6)
        assert result.risk_variant < result.risk_control


class TestAgainstGbstats:
    @pytest.mark.parametrize("engine", ENGINES)
    @pytest.mark.parametrize("name", list(CASES))
    def test_matches_reference(self, name: str, engine: str) -> None:
        expected = CASES[name]["results"][engine]
        result = run(engine, CASES[name])
        want = reference_values(expected)
        got = comparable(result)
        assert got.keys() == want.keys()
        for field, value in want.items():
            assert math.isclose(got[field], value, rel_tol=REL_TOL, abs_tol=ABS_TOL), (field, got[field], value)

    @pytest.mark.parametrize("engine", ENGINES)
    @pytest.mark.parametrize("name", list(CASES))
    def test_flags_what_gbstats_cannot_compute(self, name: str, engine: str) -> None:
        error = CASES[name]["results"][engine]["error_message"]
        result = run(engine, CASES[name])
        assert result.computable is (error is None)
        assert result.reason == (error or "")

    def test_reference_covers_the_briefed_cases(self) -> None:
        assert REFERENCE["gbstats"] == "0.8.0"
        needed = {"checkpoint", "small_counts", "losing_variant", "large_counts", "revenue_means"}
        needed |= {"near_zero_lift", "unequal_arms_holdout", "srm_split"}
        assert needed <= CASES.keys()


class TestSampleRatioMismatch:
    @pytest.mark.parametrize("case", REFERENCE["srm"], ids=lambda case: case["name"])
    def test_matches_reference(self, case: dict[str, Any]) -> None:
        result = check_srm(case["users"], case["weights"])
        assert math.isclose(result.p_value, case["p_value"], rel_tol=REL_TOL, abs_tol=ABS_TOL)
        assert result.mismatch is (case["p_value"] < 0.001)

    def test_flags_a_skewed_split(self) -> None:
        assert check_srm([10000, 10480], [0.5, 0.5]).mismatch
        assert not check_srm([10000, 10100], [0.5, 0.5]).mismatch

    def test_rejects_mismatched_lists(self) -> None:
        with pytest.raises(ValueError):
            check_srm([100, 100, 100], [0.5, 0.5])


class TestEdgeCases:
    @pytest.mark.parametrize("engine", ENGINES)
    @pytest.mark.parametrize("name", list(CASES))
    def test_every_field_is_finite(self, name: str, engine: str) -> None:
        result = run(engine, CASES[name])
        numbers = [v for v in dataclasses.asdict(result).values() if isinstance(v, float)]
        assert all(math.isfinite(v) for v in numbers)

    def test_not_computable_result_uses_gbstats_defaults(self) -> None:
        empty = ProportionArm(users=0, conversions=0)
        lift = frequentist_test(empty, empty)
        posterior = bayesian_test(empty, empty)
        assert (lift.computable, lift.reason, lift.lift, lift.p_value) == (
            False,
            "ZERO_NEGATIVE_BASELINE_VARIATION",
            0,
            1,
        )
        assert (posterior.computable, posterior.chance_to_win, posterior.risk_control) == (False, 0.5, 0)

    def test_absolute_prior_around_zero_baseline_is_not_computable(self) -> None:
        control = MeanArm(users=10, sum=0.0, sum_squares=40.0)
        variant = MeanArm(users=10, sum=5.0, sum_squares=40.0)
        result = bayesian_test(control, variant, relative=False, prior=GaussianPrior())
        assert (result.computable, result.reason) == (False, "ZERO_NEGATIVE_BASELINE_VARIATION")
        assert bayesian_test(control, variant, relative=False).computable

    def test_huge_effect_sequential_p_value_underflows_to_zero(self) -> None:
        result = sequential_test(ProportionArm(10**7, 10**5), ProportionArm(10**7, 3 * 10**5))
        assert result.computable and result.p_value == 0.0

    @pytest.mark.parametrize(
        "build",
        [
            lambda: ProportionArm(users=10, conversions=11),
            lambda: ProportionArm(users=-1, conversions=0),
            lambda: MeanArm(users=-5, sum=0.0, sum_squares=0.0),
            lambda: GaussianPrior(stddev=0.0),
        ],
    )
    def test_malformed_input_raises(self, build: Any) -> None:
        with pytest.raises(ValueError):
            build()
