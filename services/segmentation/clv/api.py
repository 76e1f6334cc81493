"""Customer lifetime value: fits as jobs, the latest model, its validation on a holdout, how CLV spreads, the top
customers, and retention (cohorts, repeat purchases, churn by P(alive))."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status

from services.segmentation.clv import fits, reports
from services.segmentation.clv import service as clv
from services.segmentation.clv.jobs import run_clv_fit_job
from services.segmentation.clv.schemas import (
    ClvDistribution,
    ClvFitRead,
    ClvFitRequest,
    ClvModelRead,
    ClvValidationRead,
    RetentionRead,
    TopCustomer,
)
from services.segmentation.deps import AllowStale
from services.segmentation.replica.freshness import measure, require_fresh
from shared.auth import authorize
from shared.db import utcnow
from shared.deps import SessionDep
from shared.errors import Invalid, field_error

router = APIRouter(prefix="/v1", tags=["clv"], dependencies=[Depends(authorize)])


@router.post("/clv/fit", response_model=ClvFitRead, status_code=status.HTTP_202_ACCEPTED)
async def fit_clv(
    body: ClvFitRequest, session: SessionDep, tasks: BackgroundTasks, request: Request, allow_stale: AllowStale = False
) -> ClvFitRead:
    """Start a CLV fit as a job (poll `GET /v1/clv/fits/{id}`; 409 while another is under way, or while the replica
    is behind profiles unless `allow_stale`): BG/NBD +
    Gamma-Gamma, then every customer scored (P(alive), expected purchases over the horizon, CLV, CLV percentile)
    and the segments that use scores recomputed."""
    require_fresh(await measure(request.app.state.runtime), allow_stale=allow_stale)
    options = clv.ClvOptions(body.calibration_end or utcnow().date(), body.time_unit, body.horizon,
                                  body.discount_rate, body.rerun_every_hours)  # fmt: skip
    fit = await fits.start_fit(session, options)
    tasks.add_task(run_clv_fit_job, request.app.state.runtime, fit.id)
    [read] = await fits.describe_fits(session, [fit])
    return ClvFitRead(**read)


@router.get("/clv/fits", response_model=list[ClvFitRead])
async def list_clv_fits(session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[ClvFitRead]:
    """The latest CLV fits, newest first, with their status and the model each made."""
    return [ClvFitRead(**f) for f in await fits.describe_fits(session, await fits.recent_fits(session, limit))]


@router.get("/clv/fits/{fit_id}", response_model=ClvFitRead)
async def get_clv_fit(fit_id: str, session: SessionDep) -> ClvFitRead:
    """A CLV fit: status, progress and stage, then the model it made or the error that stopped it."""
    [read] = await fits.describe_fits(session, [await fits.get_fit(session, fit_id)])
    return ClvFitRead(**read)


@router.get("/clv/validation", response_model=ClvValidationRead)
async def validate_clv(
    session: SessionDep, request: Request, calibration_end: date, holdout_end: date,
    time_unit: Literal["days", "weeks"] = "weeks", allow_stale: AllowStale = False,
) -> ClvValidationRead:  # fmt: skip
    """Fit BG/NBD on orders up to `calibration_end` and compare the repeat purchases it expects up to `holdout_end`
    with the ones made, overall and by calibration repeat purchases (Fader, Hardie & Lee 2005); nothing is stored."""
    if holdout_end <= calibration_end:
        raise Invalid("The holdout must end after the calibration period.",
                      fields=[field_error("query.holdout_end", "must be after calibration_end")])  # fmt: skip
    freshness = await measure(request.app.state.runtime)
    require_fresh(freshness, allow_stale=allow_stale)
    rows = await clv.order_days(session)
    fit, report = await asyncio.to_thread(clv.validate, rows, calibration_end, holdout_end, time_unit)
    return ClvValidationRead(**asdict(report) | {"time_unit": time_unit, "bgnbd": asdict(fit), "freshness": freshness})


@router.get("/clv", response_model=ClvModelRead)
async def get_clv_model(session: SessionDep) -> ClvModelRead:
    """The latest CLV model: settings, parameters, log-likelihoods, excluded customers and schedule."""
    return ClvModelRead(**clv.describe(await clv.latest_model(session)))


@router.get("/clv/distribution", response_model=ClvDistribution)
async def get_clv_distribution(session: SessionDep) -> Any:
    """Histograms of CLV and P(alive) over the customers the latest fit scored."""
    return await reports.clv_distribution(session)


@router.get("/clv/customers", response_model=list[TopCustomer])
async def list_top_customers(session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 25) -> Any:
    """The customers with the highest CLV, with their scores."""
    return await reports.top_customers(session, limit=limit)


@router.get("/retention", response_model=RetentionRead)
async def get_retention(
    session: SessionDep, request: Request, segment_id: str | None = None, as_of: date | None = None,
    churn_threshold: Annotated[float, Query(gt=0, lt=1)] = 0.3,
) -> Any:  # fmt: skip
    """Cohorts by first-order month with the share ordering again in each later month, the repeat-purchase rate, and
    churn (P(alive) of the latest CLV fit below `churn_threshold`); over everyone or one segment's members."""
    report = await reports.retention_report(session, segment_id, as_of or utcnow().date(), churn_threshold)
    return report | {"freshness": await measure(request.app.state.runtime)}
