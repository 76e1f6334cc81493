"""A BG/NBD fit checked on a holdout period, on the CDNOW 1/10 sample as Fader, Hardie & Lee (2005) check it:
calibration to 1997-09-30, holdout to 1998-06-30 (39 weeks)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from services.segmentation.clv.model import BgNbdFit, summarise_transactions
from services.segmentation.clv.validation import holdout_purchases, validate_holdout

CDNOW = Path(__file__).parents[2] / "data" / "CDNOW_sample.txt"
CALIBRATION_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)
PUBLISHED = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4)
# lifetimes 0.11.3, BetaGeoFitter with the published parameters set on it:
#   bg.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T), averaged per calibration repeat purchases
#   (0, 1, …, 6, 7 or more) over this module's summary of the sample.
LIFETIMES_MEAN_EXPECTED = {
    "0": (1411, 0.22545087915676978), "1": (439, 0.5231761316444271), "2": (214, 1.0441697201702336),
    "3": (100, 1.5202926798122156), "4": (62, 2.1638747331547425), "5": (38, 2.653831669090127),
    "6": (29, 3.503990654437723), "7+": (64, 6.157071766779348),
}  # fmt: skip
LIFETIMES_EXPECTED_TOTAL = 1653.9412593133482


def _sample() -> tuple[np.ndarray, np.ndarray]:
    ids, dates = np.loadtxt(CDNOW, usecols=(0, 2), unpack=True)
    days = np.array([f"{d // 10000:04.0f}-{d // 100 % 100:02.0f}-{d % 100:02.0f}" for d in dates], "datetime64[D]")
    return ids.astype(int), days


def _counted_directly(ids: np.ndarray, days: np.ndarray) -> dict[int, int]:
    """Distinct holdout order days per customer who ordered in calibration, counted one order at a time."""
    seen_before: set[int] = set()
    holdout_days: dict[int, set[str]] = defaultdict(set)
    for customer, day in zip(ids.tolist(), days.astype(str).tolist(), strict=True):
        if day <= CALIBRATION_END.isoformat():
            seen_before.add(customer)
        elif day <= HOLDOUT_END.isoformat():
            holdout_days[customer].add(day)
    return {c: len(holdout_days[c]) for c in seen_before}


def test_expected_holdout_purchases_match_lifetimes_and_actual_ones_a_direct_count() -> None:
    ids, days = _sample()
    summary = summarise_transactions(ids, days, np.ones(ids.size), CALIBRATION_END, "weeks")
    actual = holdout_purchases(summary, ids, days, CALIBRATION_END, HOLDOUT_END)
    report = validate_holdout(PUBLISHED, summary, actual, 39.0, CALIBRATION_END, HOLDOUT_END)
    direct = _counted_directly(ids, days)
    assert dict(zip(summary.customer_ids.tolist(), actual.tolist(), strict=True)) == direct
    assert report.customers == 2357 and report.actual_total == sum(direct.values())
    assert report.expected_total == pytest.approx(LIFETIMES_EXPECTED_TOTAL, abs=1e-6)
    for bucket in report.buckets:
        customers, expected = LIFETIMES_MEAN_EXPECTED[bucket.purchases]
        assert (bucket.customers, bucket.expected) == (customers, pytest.approx(expected, abs=1e-6))
    never_again = [direct[c] for c, n in zip(summary.customer_ids.tolist(), summary.x, strict=True) if n == 0]
    assert report.buckets[0].actual == pytest.approx(np.mean(never_again))
