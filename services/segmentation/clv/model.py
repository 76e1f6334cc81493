"""Customer lifetime value: BG/NBD purchase counts and Gamma-Gamma spend, fitted by maximum likelihood.

Pure numpy/scipy, no I/O. References: Fader, Hardie & Lee (2005) "Counting your customers the easy way",
and Fader & Hardie (2013) "The Gamma-Gamma model of monetary value".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

TimeUnit = Literal["days", "weeks"]
Floats = NDArray[np.float64]
# A log-likelihood per customer and its gradient, at parameters on their natural scale.
Objective = Callable[[Floats], tuple[float, Floats]]
_DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0}
# Data are rescaled to a mean of 1 before fitting, so a parameter past e^±10 is running off to a boundary of the
# model (e.g. p → ∞: spend with no spread within a customer); the search stops it at e^±12.
_EDGE, _ROOM = 12.0, 4.0
_GAIN = 1.0  # a log-likelihood rising by more than this when given room beyond e^±12 has no maximum
_FLAT = 0.01  # a gradient this small (total log-likelihood per log-parameter: x e gains < 0.01) is a maximum


class FitFailed(ValueError):
    """The optimiser found no maximum: it did not converge, the likelihood is not finite, or a parameter ran off."""


@dataclass(frozen=True)
class CustomerSummary:
    """Per-customer calibration summary: repeat count x, recency t_x, age T and mean repeat spend."""

    customer_ids: NDArray[np.generic]
    x: Floats
    t_x: Floats
    T: Floats
    monetary: Floats


@dataclass(frozen=True)
class BgNbdFit:
    """Fitted BG/NBD parameters and the maximised log-likelihood; `boundary` names parameters whose maximum lies at
    0 or infinity (e.g. "b → ∞": nobody seems to drop out), kept within e^±12 of the data's scale."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    boundary: tuple[str, ...] = ()


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters and the maximised log-likelihood; `customers` it was fitted on and the repeat
    customers `excluded` because their mean repeat spend is not positive (the model's spend is a gamma, > 0)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int = 0
    excluded: int = 0
    boundary: tuple[str, ...] = ()  # as in `BgNbdFit`; "p → ∞": no spread of spend within a customer


def summarise_transactions(
    customer_ids: ArrayLike,
    timestamps: ArrayLike,
    amounts: ArrayLike,
    calibration_end: str | date | np.datetime64,
    time_unit: TimeUnit,
) -> CustomerSummary:
    """Summarise transactions up to calibration_end; purchases on the same day count as one."""
    days = np.asarray(timestamps, dtype="datetime64[D]").astype(np.int64)
    end = int(np.asarray(calibration_end, dtype="datetime64[D]").astype(np.int64))
    keep = days <= end
    ids, codes = np.unique(np.asarray(customer_ids)[keep], return_inverse=True)
    days, spend = days[keep], np.asarray(amounts, dtype=float)[keep]
    # One row per (customer, day), sorted by customer then day, amounts summed.
    origin = days.min(initial=end)
    keys, day_index = np.unique(codes.astype(np.int64) << 32 | (days - origin), return_inverse=True)
    day_spend = np.bincount(day_index, weights=spend, minlength=keys.size)
    day_codes, day_days = keys >> 32, (keys & 0xFFFFFFFF) + origin
    first_row = np.flatnonzero(np.diff(day_codes, prepend=-1))
    last_row = np.flatnonzero(np.diff(day_codes, append=-1))
    first, last = day_days[first_row], day_days[last_row]
    x = np.bincount(day_codes, minlength=ids.size).astype(float) - 1.0
    repeat_spend = np.bincount(day_codes, weights=day_spend, minlength=ids.size) - day_spend[first_row]
    unit = _DAYS_PER_UNIT[time_unit]
    return CustomerSummary(
        customer_ids=ids,
        x=x,
        t_x=(last - first) / unit,
        T=(end - first) / unit,
        monetary=np.divide(repeat_spend, x, out=np.zeros_like(x), where=x > 0),
    )


def bgnbd_log_likelihood(params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """Per-customer BG/NBD log-likelihood for (r, alpha, a, b), in closed form."""
    r, alpha, a, b = np.asarray(params, dtype=float)
    x, t_x, T = _floats(x), _floats(t_x), _floats(T)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    return common + _bgnbd_branches(r, alpha, a, b, x, t_x, T)[0]


def _bgnbd_branches(r: float, alpha: float, a: float, b: float, x: Floats, t_x: Floats, T: Floats
                    ) -> tuple[Floats, Floats]:  # fmt: skip
    """log(still alive at T + dropped out after t_x), and the dropped-out branch's share of it (0 when x = 0)."""
    still_alive = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    both = np.logaddexp(still_alive, dropped)
    return both, np.exp(dropped - both)


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdFit:
    """Fit BG/NBD (r, alpha, a, b) by maximum likelihood; `FitFailed` when the optimiser finds no maximum."""
    x, t_x, T = _floats(x), _floats(t_x), _floats(T)
    scale = _scale(T)  # time in units of the mean age: alpha = 1 is then a start near any data's
    (xs, t_xs, Ts), weight, _ = _distinct(x, t_x / scale, T / scale)
    found = _maximise(_bgnbd_objective(xs, t_xs, Ts, weight), ("r", "alpha", "a", "b"), "BG/NBD", len(x))
    r, alpha, a, b = found.params
    alpha *= scale
    log_likelihood = _finite_total(bgnbd_log_likelihood([r, alpha, a, b], x, t_x, T), "BG/NBD")
    return BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=log_likelihood, boundary=found.boundary)


def _bgnbd_objective(x: Floats, t_x: Floats, T: Floats, weight: Floats) -> Objective:
    """Mean log-likelihood over customers and its gradient; terms in x alone are summed once per distinct x."""
    xs, at = np.unique(x, return_inverse=True)
    wx, w, repeat = np.bincount(at, weights=weight) / weight.sum(), weight / weight.sum(), x > 0

    def value_and_gradient(params: Floats) -> tuple[float, Floats]:
        r, alpha, a, b = params
        both, dropped = _bgnbd_branches(r, alpha, a, b, x, t_x, T)
        alive, log_alpha = 1.0 - dropped, np.log(alpha)
        ab = digamma(a + b + xs)
        value = wx @ (gammaln(r + xs) + betaln(a, b + xs)) + r * log_alpha - gammaln(r) - betaln(a, b) + w @ both
        d_r = (
            wx @ digamma(r + xs)
            + log_alpha
            - digamma(r)
            - w @ (alive * np.log(alpha + T) + dropped * np.log(alpha + t_x))
        )
        d_alpha = r / alpha - w @ ((r + x) * (alive / (alpha + T) + dropped / (alpha + t_x)))
        d_a = digamma(a + b) - wx @ ab + w @ dropped / a
        d_b = (
            wx @ (digamma(b + xs) - ab)
            + digamma(a + b)
            - digamma(b)
            - w @ np.divide(dropped, b + x - 1, out=np.zeros_like(x), where=repeat)
        )
        return float(value), np.array([d_r, d_alpha, d_a, d_b])

    return value_and_gradient


def probability_alive(fit: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """P(customer still active at T | x, t_x, T); 1 for customers with no repeat purchase."""
    x, t_x, T = _floats(x), _floats(t_x), _floats(T)
    return expit(-_log_dropout_odds(fit, x, t_x, T))


def expected_purchases(fit: BgNbdFit, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """Expected number of purchases in (T, T + t] given a customer's history."""
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    t, x, t_x, T = _floats(t), _floats(x), _floats(t_x), _floats(T)
    z = t / (alpha + T + t)
    tail = np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - tail)
    return numerator * probability_alive(fit, x, t_x, T)


def gamma_gamma_sample(x: ArrayLike, m: ArrayLike) -> NDArray[np.bool_]:
    """The customers Gamma-Gamma is fitted on: repeat customers whose mean repeat spend is positive (and finite)."""
    x, m = _floats(x), _floats(m)
    return (x > 0) & (m > 0) & np.isfinite(m)


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike) -> GammaGammaFit:
    """Fit Gamma-Gamma (p, q, gamma) by maximum likelihood on repeat customers with positive mean spend (the rest
    are counted as excluded); `FitFailed` when the optimiser finds no maximum."""
    x, m = _floats(x), _floats(m)
    sample = gamma_gamma_sample(x, m)
    x, m, excluded = x[sample], m[sample], int((x > 0).sum() - sample.sum())
    if not len(x):
        raise FitFailed(f"Gamma-Gamma has nobody to fit: none of the {excluded} repeat customers spent more than 0.")
    scale = _scale(m)  # spend in units of its mean: the likelihood only shifts by -log(scale) per customer
    found = _maximise(_gamma_gamma_objective(x, m / scale), ("p", "q", "gamma"), "Gamma-Gamma", len(x))
    p, q, gamma = found.params
    gamma *= scale
    log_likelihood = _finite_total(gamma_gamma_log_likelihood([p, q, gamma], x, m), "Gamma-Gamma")
    return GammaGammaFit(p=p, q=q, gamma=gamma, log_likelihood=log_likelihood, customers=len(x), excluded=excluded,
                         boundary=found.boundary)  # fmt: skip


def gamma_gamma_log_likelihood(params: ArrayLike, x: ArrayLike, m: ArrayLike) -> Floats:
    """Per-customer Gamma-Gamma log-likelihood of mean spend m over x transactions (x > 0)."""
    p, q, gamma = np.asarray(params, dtype=float)
    x, m = _floats(x), _floats(m)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def _gamma_gamma_objective(x: Floats, m: Floats) -> Objective:
    """Mean log-likelihood over customers and its gradient; only log(gamma + m x) is computed per customer."""
    xs, at = np.unique(x, return_inverse=True)
    wx, n, mx = np.bincount(at) / len(x), len(x), m * x
    constant = (x @ np.log(m) + x @ np.log(x)) / n  # the terms in p alone; -mean(log m) is left out: no parameter

    def value_and_gradient(params: Floats) -> tuple[float, Floats]:
        p, q, gamma = params
        log_total, inverse = np.log(gamma + mx), 1.0 / (gamma + mx)
        px = p * xs
        value = (
            wx @ (gammaln(px + q) - gammaln(px))
            - gammaln(q)
            + q * np.log(gamma)
            + p * constant
            - (p * (x @ log_total) + q * log_total.sum()) / n
        )
        d_p = wx @ (xs * (digamma(px + q) - digamma(px))) + constant - x @ log_total / n
        d_q = wx @ digamma(px + q) - digamma(q) + np.log(gamma) - log_total.mean()
        d_gamma = q / gamma - (p * (x @ inverse) + q * inverse.sum()) / n
        return float(value), np.array([d_p, d_q, d_gamma])

    return value_and_gradient


def expected_spend(fit: GammaGammaFit, x: ArrayLike, m: ArrayLike) -> Floats:
    """Expected mean transaction value given x repeat purchases of mean m (population mean when x = 0)."""
    p, q, gamma = fit.p, fit.q, fit.gamma
    x, m = _floats(x), _floats(m)
    return p * (gamma + m * x) / (p * x + q - 1)


def customer_lifetime_value(
    bgnbd: BgNbdFit,
    gg: GammaGammaFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    m: ArrayLike,
    horizon_periods: int,
    discount_rate_per_period: float,
) -> Floats:
    """Discounted expected spend over the next horizon_periods: sum of per-period purchases x spend / (1+d)^k."""
    (xs, t_xs, Ts), _, customer_row = _distinct(_floats(x), _floats(t_x), _floats(T))
    if discount_rate_per_period == 0:  # the sum of per-period purchases is the purchases over the whole horizon
        return expected_purchases(bgnbd, horizon_periods, xs, t_xs, Ts)[customer_row] * expected_spend(gg, x, m)
    periods = np.arange(horizon_periods + 1, dtype=float)[:, None]
    cumulative = expected_purchases(bgnbd, periods, xs, t_xs, Ts)  # once per distinct history
    discount = (1.0 + discount_rate_per_period) ** -periods[1:]
    return (np.diff(cumulative, axis=0) * discount).sum(axis=0)[customer_row] * expected_spend(gg, x, m)


def _log_dropout_odds(fit: BgNbdFit, x: Floats, t_x: Floats, T: Floats) -> Floats:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x); -inf when x = 0 (cannot have dropped out)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.log(fit.a) - np.log(fit.b + x - 1) + (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + t_x))
    return np.where(x > 0, odds, -np.inf)


def _maximise(objective: Objective, names: tuple[str, ...], model: str, customers: float) -> _Maximum:
    """Maximise a mean log-likelihood over positive parameters: L-BFGS-B in log space from 1 each, with the gradient,
    parameters kept within e^±12; then again from the answer with room to run e^4 further, which must not gain.
    `FitFailed` unless it converged, the likelihood is finite and has a maximum, and the answer left the start."""
    negative = _negative(objective)
    first = _minimise(negative, np.zeros(len(names)), _EDGE)
    if not (np.isfinite(first.fun) and np.isfinite(first.x).all()):
        raise FitFailed(f"The {model} log-likelihood is not finite at the optimiser's answer.")
    again = _minimise(negative, first.x, _EDGE + _ROOM)
    if (first.fun - again.fun) * customers > _GAIN:  # a point mass (everyone spending the same): L -> infinity
        running = ", ".join(_running_off(names, again.x, _EDGE))
        raise FitFailed(f"The {model} log-likelihood is not finite: it grows without bound as {running} "
                        "(the data cannot support this model).")  # fmt: skip
    _check_converged(first, model, customers)
    if np.allclose(first.x, 0.0, rtol=0.0, atol=1e-9):
        raise FitFailed(f"The {model} fit never moved from its starting point.")
    return _Maximum([float(v) for v in np.exp(first.x)], tuple(_running_off(names, first.x, _EDGE - 2)))


@dataclass(frozen=True)
class _Maximum:
    params: list[float]
    boundary: tuple[str, ...]  # e.g. "p → ∞": the maximum lies on the model's boundary, approached within e^±12


def _negative(objective: Objective) -> Callable[[Floats], tuple[float, Floats]]:
    """The objective to minimise over log-parameters: minus the mean log-likelihood and its gradient."""

    def negative(log_params: Floats) -> tuple[float, Floats]:
        with np.errstate(all="ignore"):  # the line search may probe where the likelihood overflows: inf, not a fault
            params = np.exp(log_params)
            value, gradient = objective(params)
        if not (np.isfinite(value) and np.isfinite(gradient).all()):
            return np.inf, np.zeros_like(log_params)
        return -value, -gradient * params

    return negative


def _minimise(negative: Callable[[Floats], tuple[float, Floats]], start: Floats, edge: float) -> OptimizeResult:
    return minimize(negative, start, jac=True, method="L-BFGS-B", bounds=[(-edge, edge)] * len(start),
                    options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-8})  # fmt: skip


def _check_converged(result: OptimizeResult, model: str, customers: float) -> None:
    """`FitFailed` unless the result is a maximum: L-BFGS-B says it converged, or its line search stopped where
    the gradient (projected on the bounds) is already flat."""
    at_low, at_high = result.x <= -_EDGE + 1e-9, result.x >= _EDGE - 1e-9
    slope = np.where(at_low, np.minimum(result.jac, 0), np.where(at_high, np.maximum(result.jac, 0), result.jac))
    steepest = float(np.abs(slope).max()) * customers
    if not (result.success or steepest <= _FLAT):
        raise FitFailed(f"The {model} fit did not converge: the optimiser stopped ({result.message}) where the "
                        f"log-likelihood still slopes ({steepest:.2g} per log-unit of a parameter).")  # fmt: skip


def _running_off(names: tuple[str, ...], log_params: Floats, beyond: float) -> list[str]:
    return [f"{name} → {'∞' if v > 0 else '0'}" for name, v in zip(names, log_params, strict=True) if abs(v) > beyond]


def _finite_total(per_customer: Floats, model: str) -> float:
    """The log-likelihood summed over customers; `FitFailed` if it is not finite."""
    total = float(per_customer.sum())
    if not np.isfinite(total):
        raise FitFailed(f"The {model} log-likelihood is not finite at the fitted parameters.")
    return total


def _distinct(*columns: Floats) -> tuple[list[Floats], Floats, NDArray[np.intp]]:
    """The distinct rows of some columns (customers with identical histories), how often each occurs, and the
    distinct row of each original row."""
    rows, inverse, counts = np.unique(np.column_stack(columns), axis=0, return_inverse=True, return_counts=True)
    return list(rows.T), counts.astype(float), inverse.reshape(-1)


def _scale(values: Floats) -> float:
    """The mean of positive values (1 if there is none)."""
    mean = float(values.mean()) if values.size else 0.0
    return mean if np.isfinite(mean) and mean > 0 else 1.0


def _floats(values: ArrayLike) -> Floats:
    return np.asarray(values, dtype=float)
