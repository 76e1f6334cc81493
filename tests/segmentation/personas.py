"""Synthetic customers drawn from planted personas, with the skew real behavioural data has."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = (
    "orders",
    "revenue",
    "average_order_value",
    "days_since_last_visit",
    "sessions",
    "page_views",
    "likes_comments_shares",
    "email_open_rate",
    "discount_share",
    "tenure_days",
)


@dataclass(frozen=True)
class Persona:
    """Parameters of one planted persona: count means, medians of skewed amounts, means of rates."""

    name: str
    weight: float
    orders: float  # mean of a gamma-Poisson count (at least 1 for personas that have bought)
    order_value: float  # median order value
    days_since_last_visit: float  # median
    sessions: float  # mean of a gamma-Poisson count
    pages_per_session: float  # median
    social: float  # mean of a gamma-Poisson count of likes, comments and shares
    email_open_rate: float  # mean of a beta
    discount_share: float  # mean of a beta: share of orders placed with a discount
    tenure_days: float  # median


PERSONAS = (
    Persona("Bargain hunters", 0.25, 8, 22, 6, 20, 8, 2, 0.55, 0.85, 500),
    Persona("Loyal big spenders", 0.15, 20, 140, 4, 25, 5, 3, 0.45, 0.08, 1100),
    Persona("Social fans", 0.15, 2, 45, 2, 40, 3, 60, 0.15, 0.2, 350),
    Persona("Lapsed customers", 0.25, 3, 55, 240, 1, 4, 1, 0.05, 0.3, 900),
    Persona("New visitors", 0.20, 0, 40, 3, 4, 6, 1, 0.35, 0.25, 15),
)


def generate(
    n: int, *, seed: int = 0, weights: tuple[float, ...] | None = None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """n customers as (matrix, feature names, planted persona index per row)."""
    rng = np.random.default_rng(seed)
    shares = np.array(weights or [p.weight for p in PERSONAS])
    labels = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum())
    return draw(labels, rng), list(FEATURES), labels


def draw(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Feature rows for customers of the given persona indices."""
    matrix = np.empty((len(labels), len(FEATURES)))
    for index, persona in enumerate(PERSONAS):
        rows = labels == index
        matrix[rows] = _customers(persona, int(rows.sum()), rng)
    return matrix


def _customers(persona: Persona, n: int, rng: np.random.Generator) -> np.ndarray:
    """n customers of one persona, columns in FEATURES order."""
    orders = _count(persona.orders, n, rng) if persona.orders < 1 else 1 + _count(persona.orders - 1, n, rng)
    order_value = np.where(orders > 0, _lognormal(persona.order_value, 0.35, n, rng), 0.0)
    sessions = _count(persona.sessions, n, rng)
    page_views = _count(1.0, n, rng) + np.round(sessions * _lognormal(persona.pages_per_session, 0.3, n, rng))
    recency = np.round(_lognormal(persona.days_since_last_visit, 0.5, n, rng))
    tenure = np.maximum(np.round(_lognormal(persona.tenure_days, 0.4, n, rng)), recency)
    columns = (
        orders,
        np.round(orders * order_value, 2),
        order_value,
        recency,
        sessions,
        page_views,
        _count(persona.social, n, rng),
        _rate(persona.email_open_rate, n, rng),
        np.where(orders > 0, _rate(persona.discount_share, n, rng), 0.0),
        tenure,
    )
    return np.column_stack(columns)


def _count(mean: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Over-dispersed counts: Poisson with a gamma-distributed rate (negative binomial)."""
    return rng.poisson(mean * rng.gamma(4.0, 0.25, size=n)).astype(float)


def _lognormal(median: float, sigma: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Right-skewed positive amounts with the given median."""
    return rng.lognormal(np.log(median), sigma, size=n)


def _rate(mean: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Rates in [0, 1] from a beta distribution with the given mean."""
    return rng.beta(mean * 12, (1 - mean) * 12, size=n)
