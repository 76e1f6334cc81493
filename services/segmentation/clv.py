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
from scipy.optimize import minimize
from scipy.special import betaln, expit, gammaln, hyp2f1

TimeUnit = Literal["days", "weeks"]
Floats = NDArray[np.float64]
_DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0}


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
    """Fitted BG/NBD parameters and the maximised log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters and the maximised log-likelihood."""

    p: float
    q: float
    gamma: float
    log_likelihood: float


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
    still_alive = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x)
    return common + np.logaddexp(still_alive, np.where(x > 0, dropped, -np.inf))


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdFit:
    """Fit BG/NBD (r, alpha, a, b) by maximum likelihood."""
    x, t_x, T = _floats(x), _floats(t_x), _floats(T)
    params, ll = _maximise(lambda p: bgnbd_log_likelihood(p, x, t_x, T).sum(), np.ones(4))
    r, alpha, a, b = params
    return BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=ll)


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


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike) -> GammaGammaFit:
    """Fit Gamma-Gamma (p, q, gamma) by maximum likelihood on customers with repeat purchases."""
    x, m = _floats(x), _floats(m)
    repeat = x > 0
    x, m = x[repeat], m[repeat]
    # From (1, 1, 1) alone the search can drift towards p -> infinity when spend is in the hundreds: start also at
    # the data's scale and keep the best maximum.
    scale = float(np.mean(m)) if len(m) else 1.0
    starts = (np.ones(3), np.array([1.0, 1.0, scale]), np.array([5.0, 5.0, 5.0 * scale]))
    fits = [_maximise(lambda p: gamma_gamma_log_likelihood(p, x, m).sum(), start) for start in starts]
    params, ll = max(fits, key=lambda fit: fit[1])
    p, q, gamma = params
    return GammaGammaFit(p=p, q=q, gamma=gamma, log_likelihood=ll)


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
    x, t_x, T = _floats(x), _floats(t_x), _floats(T)
    periods = np.arange(horizon_periods + 1, dtype=float)[:, None]
    cumulative = expected_purchases(bgnbd, periods, x, t_x, T)
    discount = (1.0 + discount_rate_per_period) ** -periods[1:]
    return (np.diff(cumulative, axis=0) * discount).sum(axis=0) * expected_spend(gg, x, m)


def _log_dropout_odds(fit: BgNbdFit, x: Floats, t_x: Floats, T: Floats) -> Floats:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x); -inf when x = 0 (cannot have dropped out)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.log(fit.a) - np.log(fit.b + x - 1) + (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + t_x))
    return np.where(x > 0, odds, -np.inf)


def _maximise(log_likelihood: Callable[[Floats], float], start: Floats) -> tuple[list[float], float]:
    """Maximise a log-likelihood over positive parameters, searching in log space."""

    def negative(log_params: Floats) -> float:
        value = float(log_likelihood(np.exp(log_params)))
        return -value if np.isfinite(value) else np.inf

    result = minimize(
        negative, np.log(start), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 20_000}
    )
    return [float(v) for v in np.exp(result.x)], -float(result.fun)


def _floats(values: ArrayLike) -> Floats:
    return np.asarray(values, dtype=float)
