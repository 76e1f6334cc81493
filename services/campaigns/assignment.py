"""Deterministic holdout/variant assignment and frequency capping for campaign sends.

Pure functions, no I/O. A profile's arm depends only on (campaign id, profile id, holdout percent, variant weights),
so re-running a send, or assigning on another worker, always gives the same answer without storing anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# 53 bits fill a double's mantissa exactly, so bucket() stays strictly below 1.0 and is uniform on its grid.
_BUCKET_BITS = 53


@dataclass(frozen=True)
class Variant:
    """A campaign variant and its relative traffic weight (weights need not sum to 1)."""

    id: str
    weight: float


@dataclass(frozen=True)
class Assignment:
    """Where a profile lands: the holdout (variant_id is None) or one variant; bucket is its uniform draw."""

    holdout: bool
    variant_id: str | None
    bucket: float


def bucket(campaign_id: str, profile_id: str) -> float:
    """Map (campaign, profile) to a uniform number in [0, 1) via SHA-256."""
    # The length prefix keeps ("ab", "c") and ("a", "bc") apart.
    key = f"{len(campaign_id)}:{campaign_id}:{profile_id}".encode()
    digest = hashlib.sha256(key).digest()
    return (int.from_bytes(digest[:8], "big") >> (64 - _BUCKET_BITS)) / (1 << _BUCKET_BITS)


def assign(
    campaign_id: str,
    profile_id: str,
    variants: Sequence[Variant],
    *,
    holdout_percent: float = 0.0,
) -> Assignment:
    """Put a profile in the holdout (the first holdout_percent of buckets) or a variant by weight."""
    _check_arms(variants, holdout_percent)
    u = bucket(campaign_id, profile_id)
    share = holdout_percent / 100.0
    if u < share:
        return Assignment(holdout=True, variant_id=None, bucket=u)
    # Rescale the non-holdout part of [0, 1) so variant weights split it exactly.
    return Assignment(holdout=False, variant_id=_pick_variant(variants, (u - share) / (1.0 - share)), bucket=u)


def _check_arms(variants: Sequence[Variant], holdout_percent: float) -> None:
    if not 0.0 <= holdout_percent <= 100.0:
        raise ValueError("holdout_percent must be between 0 and 100")
    if any(v.weight < 0 for v in variants):
        raise ValueError("variant weights must not be negative")
    if holdout_percent < 100.0 and sum(v.weight for v in variants) <= 0:
        raise ValueError("at least one variant needs a positive weight unless everyone is held out")


def _pick_variant(variants: Sequence[Variant], u: float) -> str:
    total = sum(v.weight for v in variants)
    cumulative = 0.0
    for variant in variants:
        cumulative += variant.weight / total
        if u < cumulative:
            return variant.id
    # Rounding can leave the cumulative sum a hair under 1: the remainder goes to the last variant that gets traffic.
    return next(v.id for v in reversed(variants) if v.weight > 0)


def within_frequency_cap(
    sent_at: Iterable[datetime],
    *,
    max_sends: int,
    window_days: float,
    now: datetime,
) -> bool:
    """True when fewer than max_sends of a (profile, channel)'s sends fall in the rolling window_days before now."""
    if max_sends < 0:
        raise ValueError("max_sends must not be negative")
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    start = now - timedelta(days=window_days)
    # Sends stamped after `now` (clock skew, a send in flight) still count: capping errs on the side of not sending.
    recent = sum(1 for t in sent_at if t > start)
    return recent < max_sends
