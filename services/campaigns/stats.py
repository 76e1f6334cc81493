"""Campaign measurement statistics, formula for formula as GrowthBook's gbstats 0.8.0 (pure: numpy/scipy only).

Every lift is variant versus control: relative ((variant - control) / control, delta-method variance) or
absolute (variant - control). Results never carry None or NaN. When gbstats would decline to analyse a
comparison (no users, a zero baseline, zero variance) the result has ``computable=False``, ``reason`` set to
gbstats' error code (``ZERO_NEGATIVE_BASELINE_VARIATION``, ``NO_UNITS_IN_VARIATION``,
``ZERO_NEGATIVE_VARIANCE``) and gbstats' uninformative defaults: lift 0, interval (0, 0), standard error 0,
p-value 1, chance to win 0.5, risks 0. Malformed input (negative counts, more conversions than users,
mismatched SRM lists) raises ValueError instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import chi2, norm, t

SRM_THRESHOLD = 0.001
SEQUENTIAL_TUNING = 5000.0

BASELINE_ZERO = "ZERO_NEGATIVE_BASELINE_VARIATION"
NO_UNITS = "NO_UNITS_IN_VARIATION"
ZERO_VARIANCE = "ZERO_NEGATIVE_VARIANCE"


@dataclass(frozen=True)
class ProportionArm:
    """One arm of a conversion metric: `conversions` out of `users` (gbstats ProportionStatistic)."""

    users: int
    conversions: int

    def __post_init__(self) -> None:
        if self.users < 0 or self.conversions < 0 or self.conversions > self.users:
            raise ValueError(f"need 0 <= conversions <= users, got {self.conversions}/{self.users}")

    @property
    def mean(self) -> float:
        return self.conversions / self.users if self.users else 0.0

    @property
    def variance(self) -> float:
        return self.mean * (1.0 - self.mean)


@dataclass(frozen=True)
class MeanArm:
    """One arm of a per-user mean metric such as revenue: users, sum, sum of squares (gbstats SampleMeanStatistic)."""

    users: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        if self.users < 0:
            raise ValueError(f"users must be >= 0, got {self.users}")

    @property
    def mean(self) -> float:
        return self.sum / self.users if self.users else 0.0

    @property
    def variance(self) -> float:
        if self.users <= 1:
            return 0.0
        return (self.sum_squares - self.sum**2 / self.users) / (self.users - 1)


Arm = ProportionArm | MeanArm


@dataclass(frozen=True)
class GaussianPrior:
    """A proper normal prior on the relative lift (gbstats' metric default is mean 0, stddev 0.1)."""

    mean: float = 0.0
    stddev: float = 0.1

    def __post_init__(self) -> None:
        if not self.stddev > 0:
            raise ValueError(f"prior stddev must be > 0, got {self.stddev}")


@dataclass(frozen=True)
class LiftResult:
    """A frequentist lift estimate with its confidence interval and two-sided p-value."""

    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float
    relative: bool
    computable: bool = True
    reason: str = ""


@dataclass(frozen=True)
class BayesianResult:
    """A posterior for the lift: mean, credible interval, chance to beat control and each arm's risk."""

    lift: float
    ci_low: float
    ci_high: float
    std_error: float
    chance_to_win: float
    risk_control: float
    risk_variant: float
    relative: bool
    computable: bool = True
    reason: str = ""


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch check: chi-squared p-value and whether it is below the threshold."""

    p_value: float
    mismatch: bool


def frequentist_test(control: Arm, variant: Arm, *, relative: bool = True, alpha: float = 0.05) -> LiftResult:
    """Welch t-test on the relative or absolute lift, as gbstats' TwoSidedTTest."""
    reason = _frequentist_blocker(control, variant)
    if reason:
        return _no_lift(relative, reason)
    estimate, variance = _difference(control, variant, relative)
    std_error = math.sqrt(variance)
    dof = _welch_dof(control, variant)
    width = float(t.ppf(1 - alpha / 2, dof)) * std_error
    p_value = 2 * float(t.sf(abs(estimate) / std_error, dof))
    return LiftResult(estimate, estimate - width, estimate + width, p_value, std_error, relative)


def sequential_test(
    control: Arm,
    variant: Arm,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    tuning: float = SEQUENTIAL_TUNING,
) -> LiftResult:
    """Always-valid confidence sequence and p-value, as gbstats' SequentialTwoSidedTTest."""
    reason = _frequentist_blocker(control, variant)
    if reason:
        return _no_lift(relative, reason)
    estimate, variance = _difference(control, variant, relative)
    n = control.users + variant.users
    # Waudby-Smith et al. 2023 (arXiv 2103.06476v7): rho from eq 161, width from eq 9, e-value from eq 155.
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    growth = n * rho2 + 1
    width = math.sqrt(variance * n) * math.sqrt(2 * growth * math.log(math.sqrt(growth) / alpha) / (n**2 * rho2))
    st2 = estimate**2 * n / variance
    # p = min(1, 1 / e-value), taken in logs so that a huge e-value underflows to 0 instead of overflowing.
    p_value = min(1.0, math.exp(0.5 * math.log(growth) - rho2 * st2 / (2 * growth)))
    return LiftResult(estimate, estimate - width, estimate + width, p_value, math.sqrt(variance), relative)


def bayesian_test(
    control: Arm,
    variant: Arm,
    *,
    relative: bool = True,
    prior: GaussianPrior | None = None,
    inverse: bool = False,
    alpha: float = 0.05,
) -> BayesianResult:
    """Gaussian posterior on the lift with chance to win and risk, as gbstats' EffectBayesianABTest."""
    reason = _bayesian_blocker(control, variant, relative, prior)
    if reason:
        return _no_posterior(relative, reason)
    estimate, variance = _difference(control, variant, relative)
    mean, sd = _posterior(estimate, variance, _scaled_prior(prior, control, relative))
    chance = float(norm.sf(0.0, mean, sd))
    low, high = (float(x) for x in norm.ppf([alpha / 2, 1 - alpha / 2], mean, sd))
    risk_control, risk_variant = _risks(mean, sd)
    if inverse:
        # a lower value is better: "winning" means the lift is negative, and the arms' risks swap
        chance, risk_control, risk_variant = 1.0 - chance, risk_variant, risk_control
    return BayesianResult(mean, low, high, sd, chance, risk_control, risk_variant, relative)


def check_srm(users: Sequence[int], weights: Sequence[float], *, threshold: float = SRM_THRESHOLD) -> SrmResult:
    """Chi-squared goodness of fit of arm counts to expected weights, as gbstats' check_srm."""
    if len(users) != len(weights) or len(users) < 2:
        raise ValueError("need one weight per arm and at least two arms")
    total_users, total_weight = sum(users), sum(weights)
    if not total_users:
        return SrmResult(1.0, False)
    statistic = 0.0
    for observed, weight in zip(users, weights, strict=True):
        if weight <= 0:
            # like gbstats: an arm expected to be empty adds nothing (but still counts towards the dof)
            continue
        expected = weight / total_weight * total_users
        statistic += (observed - expected) ** 2 / expected
    p_value = float(chi2.sf(statistic, len(users) - 1))
    return SrmResult(p_value, p_value < threshold)


def _difference(control: Arm, variant: Arm, relative: bool) -> tuple[float, float]:
    """Lift and its variance: gbstats' frequentist_diff and frequentist_variance (delta method when relative)."""
    mean_a, mean_b = control.mean, variant.mean
    var_a, var_b = control.variance, variant.variance
    n_a, n_b = control.users, variant.users
    if relative:
        return (mean_b - mean_a) / mean_a, var_b / (mean_a**2 * n_b) + var_a * mean_b**2 / (mean_a**4 * n_a)
    return mean_b - mean_a, var_b / n_b + var_a / n_a


def _welch_dof(control: Arm, variant: Arm) -> float:
    """Welch-Satterthwaite degrees of freedom from the arms' raw (not delta-method) variances."""
    se2_a = control.variance / control.users
    se2_b = variant.variance / variant.users
    return (se2_a + se2_b) ** 2 / (se2_b**2 / (variant.users - 1) + se2_a**2 / (control.users - 1))


def _has_zero_variance(control: Arm, variant: Arm) -> bool:
    # users <= 1 already means zero variance in gbstats; checking it too keeps the dof finite for any input
    return min(control.variance, variant.variance) <= 0 or min(control.users, variant.users) <= 1


def _frequentist_blocker(control: Arm, variant: Arm) -> str:
    # gbstats' TTest refuses a zero baseline for absolute lifts as well as relative ones
    if control.mean == 0:
        return BASELINE_ZERO
    if _has_zero_variance(control, variant):
        return ZERO_VARIANCE
    return ""


def _bayesian_blocker(control: Arm, variant: Arm, relative: bool, prior: GaussianPrior | None) -> str:
    if relative and control.mean == 0:
        return BASELINE_ZERO
    if control.users == 0 or variant.users == 0:
        return NO_UNITS
    if _has_zero_variance(control, variant):
        return ZERO_VARIANCE
    if prior is not None and control.mean == 0:
        # a relative prior cannot be rescaled to an absolute one around a zero baseline (gbstats divides by zero)
        return BASELINE_ZERO
    return ""


def _scaled_prior(prior: GaussianPrior | None, control: Arm, relative: bool) -> GaussianPrior | None:
    """The prior on the scale of the lift: gbstats rescales a relative prior by the baseline mean for absolute lifts."""
    if prior is None or relative:
        return prior
    scale = abs(control.mean)
    return GaussianPrior(prior.mean * scale, prior.stddev * scale)


def _posterior(estimate: float, variance: float, prior: GaussianPrior | None) -> tuple[float, float]:
    """Normal-normal update; with no prior (gbstats' improper default) the posterior is the data likelihood."""
    if prior is None:
        return estimate, math.sqrt(variance)
    prior_variance = prior.stddev**2
    precision = 1 / variance + 1 / prior_variance
    mean = (estimate / variance + prior.mean / prior_variance) / precision
    return mean, math.sqrt(1 / precision)


def _risks(mean: float, sd: float) -> tuple[float, float]:
    """Expected loss of shipping control, E[max(d, 0)], and of shipping the variant, E[max(-d, 0)], for d ~ N."""
    # closed forms of gbstats' get_risk, which multiplies tail probabilities by truncated-normal means
    z = mean / sd
    density = sd * float(norm.pdf(z))
    risk_control = mean * float(norm.cdf(z)) + density
    risk_variant = density - mean * float(norm.cdf(-z))
    return max(risk_control, 0.0), max(risk_variant, 0.0)


def _no_lift(relative: bool, reason: str) -> LiftResult:
    return LiftResult(0.0, 0.0, 0.0, 1.0, 0.0, relative, computable=False, reason=reason)


def _no_posterior(relative: bool, reason: str) -> BayesianResult:
    return BayesianResult(0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, relative, computable=False, reason=reason)
