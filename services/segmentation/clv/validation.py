"""A BG/NBD fit checked the way Fader, Hardie & Lee (2005) check it: fit on a calibration period, then compare the
repeat purchases it expects in a holdout period after it with the ones customers actually made — overall and by
the number of repeat purchases each customer made in calibration (their Figure 4 for CDNOW)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import ArrayLike, NDArray

from services.segmentation.clv import model as clv

TOP_BUCKET = 7  # customers with 7 or more calibration repeat purchases are shown together, as in the paper


@dataclass(frozen=True)
class HoldoutBucket:
    """Customers with `purchases` calibration repeat purchases ("7+" for 7 or more): mean expected and actual holdout
    repeat purchases per customer."""

    purchases: str
    customers: int
    expected: float
    actual: float


@dataclass(frozen=True)
class HoldoutValidation:
    """The whole comparison: totals over every calibration customer and the buckets."""

    calibration_end: date
    holdout_end: date
    holdout_length: float  # in the fit's time unit
    customers: int
    expected_total: float
    actual_total: int
    buckets: list[HoldoutBucket]


def holdout_purchases(
    summary: clv.CustomerSummary, customer_ids: ArrayLike, timestamps: ArrayLike, calibration_end: date,
    holdout_end: date,
) -> NDArray[np.int64]:  # fmt: skip
    """Per calibration customer (the summary's order), the distinct order days in (calibration_end, holdout_end]:
    same-day orders count once, as in calibration."""
    days = np.asarray(timestamps, dtype="datetime64[D]")
    ids = np.asarray(customer_ids)
    inside = (days > np.datetime64(calibration_end, "D")) & (days <= np.datetime64(holdout_end, "D"))
    pairs = {(customer, day) for customer, day in zip(ids[inside].tolist(), days[inside].tolist(), strict=True)}
    position = {customer: i for i, customer in enumerate(summary.customer_ids.tolist())}
    counts = np.zeros(summary.customer_ids.size, dtype=np.int64)
    for customer, _ in pairs:
        if customer in position:  # a customer first seen in the holdout has no calibration history to predict from
            counts[position[customer]] += 1
    return counts


def validate_holdout(
    fit: clv.BgNbdFit, summary: clv.CustomerSummary, actual: NDArray[np.int64], length: float,
    calibration_end: date, holdout_end: date,
) -> HoldoutValidation:  # fmt: skip
    """Expected (the fit's conditional expectation over `length`) against actual holdout purchases."""
    expected = clv.expected_purchases(fit, length, summary.x, summary.t_x, summary.T)
    bucket_of = np.minimum(summary.x, TOP_BUCKET).astype(int)
    buckets = [_bucket(k, expected[bucket_of == k], actual[bucket_of == k]) for k in range(TOP_BUCKET + 1)]
    return HoldoutValidation(calibration_end, holdout_end, length, int(summary.x.size), float(expected.sum()),
                             int(actual.sum()), [b for b in buckets if b.customers])  # fmt: skip


def _bucket(purchases: int, expected: NDArray[np.float64], actual: NDArray[np.int64]) -> HoldoutBucket:
    label = f"{TOP_BUCKET}+" if purchases == TOP_BUCKET else str(purchases)
    if not expected.size:
        return HoldoutBucket(label, 0, 0.0, 0.0)
    return HoldoutBucket(label, int(expected.size), float(expected.mean()), float(actual.mean()))
