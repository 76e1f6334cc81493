"""Retention of customers by the month of their first order: the cohort matrix (the share of a cohort ordering again
k months later), the repeat-purchase rate, and churn as the share whose P(alive) fell below a threshold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Cohort:
    """Customers whose first order fell in `month` ("2024-01"); `retained[k]` is the share of them who ordered in
    the k-th month after it (k = 0 is the first month: 1.0), up to the month of `as_of`."""

    month: str
    customers: int
    retained: list[float]


@dataclass(frozen=True)
class Churn:
    """Scored customers, those whose P(alive) is below `threshold`, and their share (None when nobody is scored)."""

    threshold: float
    scored: int
    churned: int
    share: float | None


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def cohort_matrix(order_days: Iterable[tuple[str, date]], as_of: date) -> list[Cohort]:
    """The retention matrix over (customer, order day) pairs up to `as_of`, oldest cohort first."""
    months: dict[str, set[int]] = defaultdict(set)
    for customer, day in order_days:
        if day <= as_of:
            months[customer].add(_month_index(day))
    by_cohort: dict[int, list[set[int]]] = defaultdict(list)
    for ordered in months.values():
        by_cohort[min(ordered)].append(ordered)
    last = _month_index(as_of)
    return [_cohort(start, members, last) for start, members in sorted(by_cohort.items())]


def _cohort(start: int, members: list[set[int]], last: int) -> Cohort:
    size = len(members)
    retained = [sum(1 for ordered in members if start + k in ordered) / size for k in range(last - start + 1)]
    return Cohort(_label(start), size, retained)


def repeat_purchase_rate(order_days: Iterable[tuple[str, date]]) -> float | None:
    """The share of customers with orders on at least two days (None without customers)."""
    days: dict[str, set[date]] = defaultdict(set)
    for customer, day in order_days:
        days[customer].add(day)
    return sum(1 for d in days.values() if len(d) > 1) / len(days) if days else None


def churn(p_alive: Iterable[float], threshold: float) -> Churn:
    """How many scored customers are probably gone: P(alive) below `threshold`."""
    values = list(p_alive)
    churned = sum(1 for p in values if p < threshold)
    return Churn(threshold, len(values), churned, churned / len(values) if values else None)
