"""Lifetime value over the feature replica: fit BG/NBD + Gamma-Gamma on each profile's revenue per order day
(`computed.daily_revenue`), keep the model, and score every customer (P(alive), expected purchases, CLV)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation import clv
from services.segmentation.models import ClvModel, ProfileFeatures
from services.segmentation.scores import write_scores
from shared.db import utcnow
from shared.errors import Invalid, NotFound, field_error

CLV_KEYS = ("p_alive", "expected_purchases", "clv", "clv_percentile")
MIN_CUSTOMERS = 10  # below this a maximum-likelihood fit says nothing


@dataclass(frozen=True)
class ClvOptions:
    """What a fit is asked for: the calibration end, the time unit, the horizon in units and the discount rate."""

    calibration_end: date
    time_unit: clv.TimeUnit = "weeks"
    horizon: int = 52
    discount_rate: float = 0.0
    rerun_every_hours: float | None = None


@dataclass(frozen=True)
class ClvResult:
    """Fitted parameters and every scored customer's values."""

    bgnbd: clv.BgNbdFit
    gamma_gamma: clv.GammaGammaFit
    customers: int
    repeat_customers: int
    scores: dict[str, dict[str, float]]


async def transactions(session: AsyncSession) -> tuple[list[str], list[str], list[float]]:
    """(profile id, day, revenue) for every order day in the replica."""
    ids: list[str] = []
    days: list[str] = []
    amounts: list[float] = []
    query = select(ProfileFeatures.profile_id, ProfileFeatures.computed["daily_revenue"])
    for profile_id, daily in await session.execute(query):
        if not isinstance(daily, dict):
            continue
        for day, amount in daily.items():
            if isinstance(amount, int | float) and not isinstance(amount, bool):
                ids.append(profile_id)
                days.append(day)
                amounts.append(float(amount))
    return ids, days, amounts


def fit_and_score(ids: list[str], days: list[str], amounts: list[float], options: ClvOptions) -> ClvResult:
    """Fit both models on the calibration period and score every customer seen in it (CPU-bound: run in a thread)."""
    summary = clv.summarise_transactions(ids, days, amounts, options.calibration_end, options.time_unit)
    repeat = int((summary.x > 0).sum())
    if len(summary.x) < MIN_CUSTOMERS or (summary.monetary[summary.x > 0] > 0).sum() < MIN_CUSTOMERS:
        raise Invalid(f"Too few customers to fit: {len(summary.x)} with orders, {repeat} with repeat orders "
                      f"(at least {MIN_CUSTOMERS} of each are needed).",
                      fields=[field_error("calibration_end", "too few customers before this date")])  # fmt: skip
    bgnbd = clv.fit_bgnbd(summary.x, summary.t_x, summary.T)
    gamma_gamma = clv.fit_gamma_gamma(summary.x, summary.monetary)
    return ClvResult(bgnbd, gamma_gamma, len(summary.x), repeat, _score(bgnbd, gamma_gamma, summary, options))


def _score(
    bgnbd: clv.BgNbdFit, gg: clv.GammaGammaFit, s: clv.CustomerSummary, options: ClvOptions
) -> dict[str, dict[str, float]]:
    alive = clv.probability_alive(bgnbd, s.x, s.t_x, s.T)
    purchases = clv.expected_purchases(bgnbd, options.horizon, s.x, s.t_x, s.T)
    value = clv.customer_lifetime_value(bgnbd, gg, s.x, s.t_x, s.T, s.monetary, options.horizon, options.discount_rate)
    ranks = np.empty(len(value))
    ranks[np.argsort(value, kind="stable")] = np.arange(len(value))
    percentile = 100.0 * (ranks + 1) / len(value)  # the top customer is at 100, "top 10%" is >= 90
    return {
        str(pid): {"p_alive": round(float(a), 6), "expected_purchases": round(float(p), 6),
                   "clv": round(float(v), 4), "clv_percentile": round(float(q), 4)}
        for pid, a, p, v, q in zip(s.customer_ids, alive, purchases, value, percentile, strict=True)
    }  # fmt: skip


async def fit_clv(session: AsyncSession, options: ClvOptions) -> ClvModel:
    """Fit CLV on the replica, keep the model and write every customer's scores (replacing the last fit's)."""
    ids, days, amounts = await transactions(session)
    result = await asyncio.to_thread(fit_and_score, ids, days, amounts, options)
    await write_scores(session, result.scores, CLV_KEYS)
    model = ClvModel(
        calibration_end=datetime.combine(options.calibration_end, time(), UTC),
        time_unit=options.time_unit, horizon=options.horizon, discount_rate=options.discount_rate,
        customers=result.customers, rerun_every_hours=options.rerun_every_hours,
        next_run_at=_next_run(options.rerun_every_hours),
        parameters={"bgnbd": asdict(result.bgnbd), "gamma_gamma": asdict(result.gamma_gamma),
                    "repeat_customers": result.repeat_customers},
    )  # fmt: skip
    session.add(model)
    await session.flush()
    return model


def _next_run(every_hours: float | None) -> datetime | None:
    return utcnow() + timedelta(hours=every_hours) if every_hours else None


async def latest_model(session: AsyncSession) -> ClvModel:
    """The most recent CLV fit, or 404."""
    model = await session.scalar(select(ClvModel).order_by(ClvModel.created_at.desc()).limit(1))
    if model is None:
        raise NotFound("No CLV model has been fitted yet.")
    return model


async def due_model(session: AsyncSession, now: datetime) -> str | None:
    """The id of the latest CLV model if its scheduled refit is due."""
    model = await session.scalar(select(ClvModel).order_by(ClvModel.created_at.desc()).limit(1))
    return model.id if model is not None and model.next_run_at is not None and model.next_run_at <= now else None


def options_of(model: ClvModel) -> ClvOptions:
    """The options a scheduled refit of this model uses: the same, with the calibration end moved to today."""
    return ClvOptions(utcnow().date(), model.time_unit, model.horizon, model.discount_rate,  # type: ignore[arg-type]
                      model.rerun_every_hours)  # fmt: skip


def describe(model: ClvModel) -> dict[str, Any]:
    """A model as the API shows it."""
    return {
        "id": model.id, "calibration_end": model.calibration_end.date(), "time_unit": model.time_unit,
        "horizon": model.horizon, "discount_rate": model.discount_rate, "customers": model.customers,
        "repeat_customers": model.parameters.get("repeat_customers"), "bgnbd": model.parameters["bgnbd"],
        "gamma_gamma": model.parameters["gamma_gamma"], "rerun_every_hours": model.rerun_every_hours,
        "next_run_at": model.next_run_at, "created_at": model.created_at,
    }  # fmt: skip
