"""Record GrowthBook gbstats 0.8.0 results that tests/campaigns/test_stats.py checks services/campaigns/stats.py against.

Re-run (from the repo root) with a separate venv, because gbstats 0.8.0 pins numpy<2:
    python3.11 -m venv /tmp/gbvenv && /tmp/gbvenv/bin/pip install "gbstats==0.8.0"
    /tmp/gbvenv/bin/python tests/campaigns/reference/record_gbstats.py
It rewrites gbstats_0_8_0.json beside this file.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import FrequentistConfig, SequentialConfig, SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

OUT = Path(__file__).with_name("gbstats_0_8_0.json")

# (name, metric, control, variant); proportion arms are {users, conversions}, mean arms {users, sum, sum_squares}.
CASES: list[tuple[str, str, dict[str, float], dict[str, float]]] = [
    ("checkpoint", "proportion", {"users": 10000, "conversions": 1000}, {"users": 10000, "conversions": 1100}),
    ("small_counts", "proportion", {"users": 40, "conversions": 3}, {"users": 38, "conversions": 7}),
    ("losing_variant", "proportion", {"users": 4000, "conversions": 520}, {"users": 4000, "conversions": 455}),
    ("large_counts", "proportion", {"users": 2000000, "conversions": 81234}, {"users": 2001000, "conversions": 82790}),
    ("near_zero_lift", "proportion", {"users": 50000, "conversions": 2500}, {"users": 50000, "conversions": 2501}),
    ("unequal_arms_holdout", "proportion", {"users": 9000, "conversions": 450}, {"users": 1000, "conversions": 60}),
    ("srm_split", "proportion", {"users": 10000, "conversions": 830}, {"users": 10480, "conversions": 905}),
    (
        "revenue_means",
        "mean",
        {"users": 5000, "sum": 62150.75, "sum_squares": 9084512.3},
        {"users": 5050, "sum": 66010.2, "sum_squares": 9610233.9},
    ),
    (
        "revenue_means_small",
        "mean",
        {"users": 120, "sum": 1830.4, "sum_squares": 96210.5},
        {"users": 118, "sum": 1622.9, "sum_squares": 71044.8},
    ),
    (
        "revenue_negative_lift_large",
        "mean",
        {"users": 250000, "sum": 3125000.0, "sum_squares": 480000000.0},
        {"users": 249000, "sum": 3050250.0, "sum_squares": 470000000.0},
    ),
    # Edge cases: gbstats returns its uninformative default output with an error message.
    ("zero_conversions_both", "proportion", {"users": 500, "conversions": 0}, {"users": 500, "conversions": 0}),
    ("zero_control_conversions", "proportion", {"users": 500, "conversions": 0}, {"users": 500, "conversions": 5}),
    ("zero_users_both", "proportion", {"users": 0, "conversions": 0}, {"users": 0, "conversions": 0}),
    ("zero_variant_users", "proportion", {"users": 1000, "conversions": 100}, {"users": 0, "conversions": 0}),
    ("all_converted_variant", "proportion", {"users": 200, "conversions": 20}, {"users": 50, "conversions": 50}),
    (
        "zero_variance_mean",
        "mean",
        {"users": 10, "sum": 50.0, "sum_squares": 250.0},
        {"users": 12, "sum": 70.0, "sum_squares": 520.0},
    ),
    (
        "single_user_mean",
        "mean",
        {"users": 1, "sum": 9.0, "sum_squares": 81.0},
        {"users": 30, "sum": 250.0, "sum_squares": 4100.0},
    ),
]

SRM_CASES: list[tuple[str, list[int], list[float]]] = [
    ("balanced", [10000, 10000], [0.5, 0.5]),
    ("srm_split", [10000, 10480], [0.5, 0.5]),
    ("holdout_90_10", [9000, 1000], [0.9, 0.1]),
    ("holdout_mismatch", [9120, 880], [0.9, 0.1]),
    ("three_arms", [3300, 3350, 3180], [1 / 3, 1 / 3, 1 / 3]),
    ("unnormalised_weights", [2050, 1010], [2.0, 1.0]),
    ("zero_weight_arm", [5000, 5100, 20], [0.5, 0.5, 0.0]),
    ("no_users", [0, 0], [0.5, 0.5]),
]


def statistic(metric: str, arm: dict[str, float]) -> ProportionStatistic | SampleMeanStatistic:
    if metric == "proportion":
        return ProportionStatistic(n=int(arm["users"]), sum=arm["conversions"])
    return SampleMeanStatistic(n=int(arm["users"]), sum=arm["sum"], sum_squares=arm["sum_squares"])


def frequentist(result: Any) -> dict[str, Any]:
    return {
        "expected": float(result.expected),
        "ci": [float(x) for x in result.ci],
        "p_value": float(result.p_value),
        "stddev": float(result.uplift.stddev),
        "error_message": result.error_message,
    }


def bayesian(result: Any) -> dict[str, Any]:
    return {
        "expected": float(result.expected),
        "ci": [float(x) for x in result.ci],
        "chance_to_win": float(result.chance_to_win),
        "risk": [float(x) for x in result.risk],
        "stddev": float(result.uplift.stddev),
        "error_message": result.error_message,
    }


def run_case(metric: str, control: dict[str, float], variant: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    proper = GaussianPrior(mean=0, variance=0.1**2, proper=True)  # gbstats' metric default prior_stddev=0.1
    for difference in ("relative", "absolute"):
        a, b = statistic(metric, control), statistic(metric, variant)
        out[f"frequentist_{difference}"] = frequentist(
            TwoSidedTTest(a, b, FrequentistConfig(difference_type=difference)).compute_result()
        )
        a, b = statistic(metric, control), statistic(metric, variant)
        out[f"sequential_{difference}"] = frequentist(
            SequentialTwoSidedTTest(a, b, SequentialConfig(difference_type=difference)).compute_result()
        )
        for label, prior, inverse in (
            ("", GaussianPrior(), False),
            ("_proper", proper, False),
            ("_inverse", GaussianPrior(), True),
        ):
            a, b = statistic(metric, control), statistic(metric, variant)
            config = EffectBayesianConfig(
                difference_type=difference, prior_effect=prior, inverse=inverse, prior_type="relative"
            )
            out[f"bayesian_{difference}{label}"] = bayesian(EffectBayesianABTest(a, b, config).compute_result())
    return out


def main() -> None:
    cases = [
        {
            "name": name,
            "metric": metric,
            "control": control,
            "variant": variant,
            "results": run_case(metric, control, variant),
        }
        for name, metric, control, variant in CASES
    ]
    srm = [
        {"name": name, "users": users, "weights": weights, "p_value": float(check_srm(users, weights))}
        for name, users, weights in SRM_CASES
    ]
    doc = {
        "gbstats": importlib.metadata.version("gbstats"),
        "numpy": importlib.metadata.version("numpy"),
        "scipy": importlib.metadata.version("scipy"),
        "cases": cases,
        "srm": srm,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
