"""Retention cohorts, repeat-purchase rate and churn against an independent pandas computation on generated orders."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from services.segmentation.clv.retention import churn, cohort_matrix, repeat_purchase_rate

AS_OF = date(2024, 12, 31)


def _orders(seed: int = 7, customers: int = 600) -> list[tuple[str, date]]:
    """Customers joining through 2024, each ordering a few times after joining (some on the same day twice)."""
    rng = np.random.default_rng(seed)
    orders = []
    for c in range(customers):
        first = date(2024, 1, 1) + timedelta(days=int(rng.integers(0, 366)))
        gaps = np.cumsum(rng.exponential(60, int(rng.integers(0, 6))))
        orders += [(f"c{c}", first)] + [(f"c{c}", first + timedelta(days=int(g))) for g in gaps]
    return orders + [("late", date(2025, 1, 5))]  # after as_of: not counted


def _pandas_matrix(orders: list[tuple[str, date]]) -> dict[str, list[float]]:
    frame = pd.DataFrame(orders, columns=["customer", "day"])
    frame = frame[frame["day"] <= AS_OF]
    frame["month"] = pd.PeriodIndex(pd.to_datetime(frame["day"]), freq="M")
    frame["cohort"] = frame.groupby("customer")["month"].transform("min")
    frame["k"] = (frame["month"] - frame["cohort"]).apply(lambda offset: offset.n)
    active = frame.groupby(["cohort", "k"])["customer"].nunique().unstack(fill_value=0)
    sizes = frame.groupby("cohort")["customer"].nunique()
    last = pd.Period(AS_OF, freq="M")
    return {str(cohort): [active.loc[cohort].get(k, 0) / sizes[cohort] for k in range((last - cohort).n + 1)]
            for cohort in sizes.index}  # fmt: skip


def test_the_cohort_matrix_is_the_pandas_one() -> None:
    orders = _orders()
    cohorts = cohort_matrix(orders, AS_OF)
    expected = _pandas_matrix(orders)
    assert [c.month for c in cohorts] == list(expected)
    for cohort in cohorts:
        assert cohort.retained == pytest.approx(expected[cohort.month], abs=1e-12) and cohort.retained[0] == 1.0
    assert sum(c.customers for c in cohorts) == 600


def test_repeat_purchase_rate_and_churn() -> None:
    orders = _orders()
    frame = pd.DataFrame(orders, columns=["customer", "day"])
    assert repeat_purchase_rate(orders) == pytest.approx((frame.groupby("customer")["day"].nunique() > 1).mean())
    assert repeat_purchase_rate([]) is None
    gone = churn([0.1, 0.5, 0.29, 0.9], 0.3)
    assert (gone.scored, gone.churned, gone.share) == (4, 2, 0.5) and churn([], 0.3).share is None
