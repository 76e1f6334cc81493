"""Customers drawn from the CLV models themselves: BG/NBD purchases and Gamma-Gamma spend, as dated orders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Fader, Hardie & Lee's CDNOW estimates (weeks) and Fader & Hardie's Gamma-Gamma ones: plausible shoppers.
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@dataclass(frozen=True)
class Orders:
    """One row per order: the customer's number, the day and the amount; and the end of the calibration period."""

    customer: NDArray[np.int64]
    day: NDArray[np.datetime64]
    amount: NDArray[np.float64]
    calibration_end: np.datetime64

    def daily_revenue(self) -> dict[int, dict[str, float]]:
        """Revenue per customer and order day, as profiles publishes it in `computed.daily_revenue`."""
        daily: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for customer, day, amount in zip(self.customer.tolist(), self.day.astype(str).tolist(),
                                         self.amount.tolist(), strict=True):  # fmt: skip
            daily[customer][day] += amount
        return {c: {d: round(a, 2) for d, a in days.items()} for c, days in daily.items()}


def generate(
    n: int,
    seed: int = 0,
    *,
    bgnbd: dict[str, float] = CDNOW_BGNBD,
    spend: dict[str, float] = CDNOW_SPEND,
    zero_share: float = 0.0,
    weeks: float = 39.0,
    cohort_weeks: float = 12.0,
    start: str = "2020-01-01",
) -> Orders:
    """n customers, each joining at a uniform time in the first `cohort_weeks`, buying as BG/NBD says until the
    calibration end `weeks` after `start`; each order's amount from Gamma-Gamma, a `zero_share` of them worth 0."""
    rng = np.random.default_rng(seed)
    first = rng.uniform(0, cohort_weeks, n)
    owner, offset = _repeat_purchases(rng, weeks - first, **bgnbd)
    customer = np.concatenate([np.arange(n), owner])
    at = np.concatenate([first, first[owner] + offset])
    amount = _amounts(rng, customer, n, **spend)
    amount[rng.uniform(size=amount.size) < zero_share] = 0.0
    day = np.datetime64(start, "D") + np.floor(at * 7).astype(np.int64).astype("timedelta64[D]")
    return Orders(customer, day, np.round(amount, 2), np.datetime64(start, "D") + np.timedelta64(int(weeks * 7), "D"))


def _repeat_purchases(rng: np.random.Generator, T: NDArray[Any], *, r: float, alpha: float, a: float, b: float
                      ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:  # fmt: skip
    """(customer, weeks after the first purchase) of every repeat purchase in (0, T]: Poisson at a gamma(r, alpha)
    rate, and after each repeat purchase a beta(a, b) chance of leaving for good."""
    n = len(T)
    rate, leave = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    arrivals = rng.poisson(rate * T)  # purchases if nobody left; uniform in (0, T] given their number
    kept = np.minimum(arrivals, rng.geometric(leave))  # the purchase after which a customer leaves
    owner = np.repeat(np.arange(n), arrivals)
    offset = rng.uniform(0, 1, owner.size) * np.repeat(T, arrivals)
    order = np.lexsort((offset, owner))
    owner, offset = owner[order], offset[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    keep = rank < np.repeat(kept, arrivals)
    return owner[keep], offset[keep]


def _amounts(rng: np.random.Generator, customer: NDArray[np.int64], n: int, *, p: float, q: float, gamma: float
             ) -> NDArray[np.float64]:  # fmt: skip
    """Each order's amount: gamma(p, nu) around the customer's nu, itself gamma(q, gamma) across customers."""
    nu = rng.gamma(q, 1 / gamma, n)
    return rng.gamma(p, 1 / nu[customer])
