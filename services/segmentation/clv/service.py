"""Lifetime value over the feature replica: fit BG/NBD + Gamma-Gamma on each profile's revenue per order day
(`computed.daily_revenue`), keep the model, and score every customer (P(alive), expected purchases, CLV).

A fit that finds no maximum is an error, never a result: the data checks answer 422, an optimiser that did not
converge 409, and nothing is stored or scored with parameters that were not fitted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
from sqlalchemy import Row, TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.clv import model as clv
from services.segmentation.clv import validation as clv_validation
from services.segmentation.clv.models import ClvModel
from services.segmentation.exceptions import NoClvModel
from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.replica.scores import write_scores
from shared.db import dialect_name
from shared.errors import Conflict, Invalid, field_error

CLV_KEYS = ("p_alive", "expected_purchases", "clv", "clv_percentile")
MIN_CUSTOMERS = 10  # below this a maximum-likelihood fit says nothing
EXCLUDED_REASON = (
    "repeat customers whose repeat orders are worth 0 on average: Gamma-Gamma models spend per order as positive, "
    "so they are left out of its fit; BG/NBD counts their orders, and their CLV uses the spend the fitted model "
    "expects after orders worth 0"
)
Progress = Callable[[float, str], Awaitable[None]]
OrderDays = Sequence[Row[Any]] | Sequence[tuple[str, str, float]]
# Every (profile, day, revenue) of `computed.daily_revenue`, unnested by the database: no loop per profile here.
_ORDER_DAYS: dict[str, TextClause] = {
    "sqlite": text(
        "SELECT f.profile_id, d.key, d.value FROM profile_features AS f, json_each(f.computed, '$.daily_revenue') AS d "
        "WHERE json_type(f.computed, '$.daily_revenue') = 'object' AND d.type IN ('integer', 'real')"
    ),
    "postgresql": text(  # CASE: jsonb_each raises on a non-object, and a WHERE clause does not fix evaluation order
        "SELECT f.profile_id, d.key, CAST(d.value AS float8) FROM profile_features AS f, jsonb_each(CASE WHEN "
        "jsonb_typeof(f.computed -> 'daily_revenue') = 'object' THEN f.computed -> 'daily_revenue' END) AS d "
        "WHERE jsonb_typeof(d.value) = 'number'"
    ),
}


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


async def order_days(session: AsyncSession) -> OrderDays:
    """(profile id, day, revenue) for every order day in the replica, in one query."""
    query = _ORDER_DAYS.get(dialect_name(session))
    if query is None:
        return await order_days_portable(session)
    return (await session.execute(query)).all()


async def order_days_portable(session: AsyncSession) -> list[tuple[str, str, float]]:
    """`order_days` on any backend: every profile's `daily_revenue` read and unnested here."""
    rows: list[tuple[str, str, float]] = []
    query = select(ProfileFeatures.profile_id, ProfileFeatures.computed["daily_revenue"])
    for profile_id, daily in await session.execute(query):
        if isinstance(daily, dict):
            rows.extend((profile_id, day, float(amount)) for day, amount in daily.items()
                        if isinstance(amount, int | float) and not isinstance(amount, bool))  # fmt: skip
    return rows


def summarise(rows: OrderDays, options: ClvOptions) -> clv.CustomerSummary:
    """Each customer's calibration summary (CPU-bound: run in a thread); 422 when too few customers can be fitted."""
    ids, days, amounts = (list(column) for column in zip(*rows, strict=True)) if rows else ([], [], [])
    orders = np.array(ids, dtype=object), np.array(days, dtype="datetime64[D]"), np.array(amounts, dtype=float)
    summary = clv.summarise_transactions(*orders, options.calibration_end, options.time_unit)
    check_enough(summary)
    return summary


def check_enough(summary: clv.CustomerSummary) -> None:
    """422 on `calibration_end` unless enough customers, repeat customers and repeat customers with spend remain."""
    customers, repeat = len(summary.x), int((summary.x > 0).sum())
    spending = int(clv.gamma_gamma_sample(summary.x, summary.monetary).sum())
    if customers < MIN_CUSTOMERS or repeat < MIN_CUSTOMERS:
        raise Invalid(f"Too few customers to fit: {customers} with orders, {repeat} with repeat orders "
                      f"(at least {MIN_CUSTOMERS} of each are needed).",
                      fields=[field_error("calibration_end", "too few customers before this date")])  # fmt: skip
    if spending < MIN_CUSTOMERS:
        reason = "too few repeat customers with spend before this date"
        raise Invalid(f"Too few repeat customers with positive spend to fit Gamma-Gamma: {spending} of {repeat} "
                      f"(at least {MIN_CUSTOMERS} are needed; {repeat - spending} have repeat orders worth 0).",
                      fields=[field_error("calibration_end", reason)])  # fmt: skip


def fit_models(summary: clv.CustomerSummary) -> tuple[clv.BgNbdFit, clv.GammaGammaFit]:
    """Fit both models (CPU-bound: run in a thread); 409 naming the reason when an optimiser finds no maximum."""
    try:
        return clv.fit_bgnbd(summary.x, summary.t_x, summary.T), clv.fit_gamma_gamma(summary.x, summary.monetary)
    except clv.FitFailed as exc:
        raise Conflict(f"{exc} Nothing was stored: the previous model and scores stay as they were.") from None


async def fit_and_score(rows: OrderDays, options: ClvOptions, progress: Progress) -> ClvResult:
    """Summarise, fit and score, each step off the event loop, reporting progress between steps."""
    await progress(0.2, f"summarising {len(rows)} order days")
    summary = await asyncio.to_thread(summarise, rows, options)
    repeat = int((summary.x > 0).sum())
    await progress(0.3, f"fitting BG/NBD on {len(summary.x)} customers and Gamma-Gamma on {repeat} repeat customers")
    bgnbd, gamma_gamma = await asyncio.to_thread(fit_models, summary)
    await progress(0.6, f"scoring {len(summary.x)} customers")
    scores = await asyncio.to_thread(score, bgnbd, gamma_gamma, summary, options)
    return ClvResult(bgnbd, gamma_gamma, len(summary.x), repeat, scores)


def validate(rows: OrderDays, calibration_end: date, holdout_end: date, time_unit: clv.TimeUnit
             ) -> tuple[clv.BgNbdFit, clv_validation.HoldoutValidation]:  # fmt: skip
    """Fit BG/NBD on the orders up to `calibration_end` and compare what it expects in the holdout with what was
    bought (CPU-bound: run in a thread); nothing is stored."""
    options = ClvOptions(calibration_end, time_unit)
    summary = summarise(rows, options)
    try:
        fit = clv.fit_bgnbd(summary.x, summary.t_x, summary.T)
    except clv.FitFailed as exc:
        raise Conflict(str(exc)) from None
    ids, days, _ = (list(column) for column in zip(*rows, strict=True))
    actual = clv_validation.holdout_purchases(summary, np.array(ids, dtype=object), days, calibration_end, holdout_end)
    length = (holdout_end - calibration_end).days / (7.0 if time_unit == "weeks" else 1.0)
    return fit, clv_validation.validate_holdout(fit, summary, actual, length, calibration_end, holdout_end)


def score(
    bgnbd: clv.BgNbdFit, gg: clv.GammaGammaFit, s: clv.CustomerSummary, options: ClvOptions
) -> dict[str, dict[str, float]]:
    """Every customer's P(alive), expected purchases and CLV over the horizon, and CLV percentile."""
    alive = clv.probability_alive(bgnbd, s.x, s.t_x, s.T)
    purchases = clv.expected_purchases(bgnbd, options.horizon, s.x, s.t_x, s.T)
    value = clv.customer_lifetime_value(bgnbd, gg, s.x, s.t_x, s.T, s.monetary, options.horizon, options.discount_rate)
    if not all(np.isfinite(column).all() for column in (alive, purchases, value)):
        raise Conflict("Scoring with the fitted models gave values that are not numbers; nothing was stored: the "
                       "previous model and scores stay as they were.")  # fmt: skip
    ranks = np.empty(len(value))
    ranks[np.argsort(value, kind="stable")] = np.arange(len(value))
    percentile = 100.0 * (ranks + 1) / len(value)  # the top customer is at 100, "top 10%" is >= 90
    columns = (np.round(alive, 6), np.round(purchases, 6), np.round(value, 4), np.round(percentile, 4))
    return {
        str(pid): {"p_alive": a, "expected_purchases": p, "clv": v, "clv_percentile": q}
        for pid, a, p, v, q in zip(s.customer_ids, *(c.tolist() for c in columns), strict=True)
    }


async def keep(session: AsyncSession, options: ClvOptions, result: ClvResult, next_run_at: datetime | None
               ) -> ClvModel:  # fmt: skip
    """Write every customer's scores (replacing the last fit's) and keep the model; the caller commits."""
    await write_scores(session, result.scores, CLV_KEYS)
    gamma_gamma = asdict(result.gamma_gamma) | {"excluded_reason": EXCLUDED_REASON}
    model = ClvModel(
        calibration_end=datetime.combine(options.calibration_end, time(), UTC),
        time_unit=options.time_unit, horizon=options.horizon, discount_rate=options.discount_rate,
        customers=result.customers, rerun_every_hours=options.rerun_every_hours, next_run_at=next_run_at,
        parameters={"bgnbd": asdict(result.bgnbd), "gamma_gamma": gamma_gamma,
                    "repeat_customers": result.repeat_customers},
    )  # fmt: skip
    session.add(model)
    await session.flush()
    return model


async def latest_model(session: AsyncSession) -> ClvModel:
    """The most recent CLV fit, or 404."""
    model = await latest_model_or_none(session)
    if model is None:
        raise NoClvModel("No CLV model has been fitted yet.")
    return model


async def latest_model_or_none(session: AsyncSession) -> ClvModel | None:
    """The most recent CLV model, if any."""
    return await session.scalar(select(ClvModel).order_by(ClvModel.created_at.desc()).limit(1))


def describe(model: ClvModel) -> dict[str, Any]:
    """A model as the API shows it (models kept before exclusions were counted show them as unknown)."""
    return {
        "id": model.id, "calibration_end": model.calibration_end.date(), "time_unit": model.time_unit,
        "horizon": model.horizon, "discount_rate": model.discount_rate, "customers": model.customers,
        "repeat_customers": model.parameters.get("repeat_customers"), "bgnbd": model.parameters["bgnbd"],
        "gamma_gamma": model.parameters["gamma_gamma"], "rerun_every_hours": model.rerun_every_hours,
        "next_run_at": model.next_run_at, "created_at": model.created_at,
        "freshness": model.parameters.get("freshness"),
    }  # fmt: skip
