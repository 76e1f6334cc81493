"""CLV fits as jobs: queued by the API or by a model's schedule, claimed by one runner, reporting progress and stage,
and ending with a model or with the error that stopped them (then the previous model and scores stay as they were).

One fit at a time: queueing takes a database lock (an advisory lock on PostgreSQL, the write lock on SQLite), so two
replicas never start two fits, and a scheduled refit is claimed by moving the model's next run one interval on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.clv.models import ClvFit, ClvModel
from services.segmentation.clv.service import ClvOptions, ClvResult, describe, keep, latest_model_or_none
from services.segmentation.exceptions import AlreadyRunning, ClvFitNotFound
from shared.db import transaction_lock, utcnow
from shared.errors import DomainError

ACTIVE = ("queued", "running")
STALE = timedelta(hours=1)  # a fit silent for this long was abandoned: its process ended mid-run
_LOCK = "segmentation:clv-fit"
_ABANDONED = {"status": 500, "code": "internal_error", "fields": [],
              "message": "The fit stopped reporting progress for an hour (its process ended): abandoned."}  # fmt: skip


async def start_fit(session: AsyncSession, options: ClvOptions) -> ClvFit:
    """Queue a fit asked for over the API; 409 while another fit is queued or running."""
    await transaction_lock(session, _LOCK, ClvFit.__table__)
    active = await _active_fit(session)
    if active is not None:
        raise AlreadyRunning(f"A CLV fit is already {active.status} (id {active.id}); wait for it to finish.")
    return await _queue(session, options, "api")


async def queue_due_refit(session: AsyncSession, now: datetime) -> ClvFit | None:
    """Queue a refit of the latest model if its schedule is due, as of today; claimed by moving its next run one
    interval on (so one replica queues it, and after a failure it is tried again an interval later)."""
    await transaction_lock(session, _LOCK, ClvFit.__table__)
    model = await latest_model_or_none(session)
    if model is None or model.next_run_at is None or model.next_run_at > now or not model.rerun_every_hours:
        return None
    if await _active_fit(session) is not None:
        return None  # the fit under way makes a model of its own; the schedule is looked at again next check
    model.next_run_at = now + timedelta(hours=model.rerun_every_hours)
    return await _queue(session, options_of(model), "schedule")


def options_of(model: ClvModel) -> ClvOptions:
    """The options a scheduled refit of this model uses: the same, with the calibration end moved to today."""
    return ClvOptions(utcnow().date(), model.time_unit, model.horizon, model.discount_rate,  # type: ignore[arg-type]
                      model.rerun_every_hours)  # fmt: skip


async def _queue(session: AsyncSession, options: ClvOptions, trigger: str) -> ClvFit:
    fit = ClvFit(status="queued", progress=0.0, stage="queued", trigger=trigger,
                 calibration_end=options.calibration_end, time_unit=options.time_unit, horizon=options.horizon,
                 discount_rate=options.discount_rate, rerun_every_hours=options.rerun_every_hours)  # fmt: skip
    session.add(fit)
    await session.flush()
    return fit


async def _active_fit(session: AsyncSession) -> ClvFit | None:
    """The fit under way, if any; one silent for longer than `STALE` is marked abandoned first."""
    stale = update(ClvFit).where(ClvFit.status.in_(ACTIVE), ClvFit.updated_at < utcnow() - STALE)
    await session.execute(stale.values(status="error", stage="abandoned", error=_ABANDONED, updated_at=utcnow()))
    return await session.scalar(select(ClvFit).where(ClvFit.status.in_(ACTIVE)).limit(1))


async def claim(session: AsyncSession, fit_id: str) -> ClvOptions | None:
    """Mark a queued fit running and return its options; None if another runner took it (or it is gone)."""
    now = utcnow()
    claimed = await session.execute(update(ClvFit).where(ClvFit.id == fit_id, ClvFit.status == "queued")
                                    .values(status="running", progress=0.05, stage="loading orders",
                                            started_at=now, updated_at=now))  # fmt: skip
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    fit = await get_fit(session, fit_id)
    return ClvOptions(fit.calibration_end, fit.time_unit, fit.horizon, fit.discount_rate,  # type: ignore[arg-type]
                      fit.rerun_every_hours)  # fmt: skip


async def report(session: AsyncSession, fit_id: str, progress: float, stage: str) -> None:
    """Record how far a running fit is."""
    await session.execute(update(ClvFit).where(ClvFit.id == fit_id, ClvFit.status == "running")
                          .values(progress=progress, stage=stage[:200], updated_at=utcnow()))  # fmt: skip


async def finish(session: AsyncSession, fit_id: str, options: ClvOptions, result: ClvResult) -> ClvModel:
    """Write the scores, keep the model (it carries the schedule on) and mark the fit ready; the caller commits."""
    every = options.rerun_every_hours
    model = await keep(session, options, result, utcnow() + timedelta(hours=every) if every else None)
    await session.execute(update(ClvModel).where(ClvModel.id != model.id, ClvModel.next_run_at.is_not(None))
                          .values(next_run_at=None))  # the latest model alone carries a schedule  # fmt: skip
    now = utcnow()
    await session.execute(update(ClvFit).where(ClvFit.id == fit_id)
                          .values(status="ready", progress=1.0, stage="done", model_id=model.id, error=None,
                                  finished_at=now, updated_at=now))  # fmt: skip
    return model


async def fail(session: AsyncSession, fit_id: str, exc: Exception) -> None:
    """Record why a fit stopped: a domain error as its status and JSON error shape, anything else as a 500."""
    error = _internal("Something went wrong on our side.")  # internals stay in the log
    if isinstance(exc, DomainError):
        error = {"status": exc.status_code, "code": exc.code, "message": exc.message, "fields": exc.fields}
    now = utcnow()
    failed = update(ClvFit).where(ClvFit.id == fit_id)
    await session.execute(failed.values(status="error", stage="failed", error=error, finished_at=now, updated_at=now))


def _internal(message: str) -> dict[str, Any]:
    return {"status": 500, "code": "internal_error", "message": message, "fields": []}


async def get_fit(session: AsyncSession, fit_id: str) -> ClvFit:
    """A fit by id, or 404."""
    found = await session.get(ClvFit, fit_id)
    if found is None:
        raise ClvFitNotFound(f"CLV fit '{fit_id}' does not exist.")
    return found


async def recent_fits(session: AsyncSession, limit: int) -> Sequence[ClvFit]:
    """The latest fits, newest first."""
    return (await session.scalars(select(ClvFit).order_by(ClvFit.created_at.desc()).limit(limit))).all()


async def describe_fits(session: AsyncSession, fits: Sequence[ClvFit]) -> list[dict[str, Any]]:
    """Fits as the API shows them, each with the model it made once ready."""
    model_ids = [f.model_id for f in fits if f.model_id]
    models = {m.id: m for m in await session.scalars(select(ClvModel).where(ClvModel.id.in_(model_ids)))}
    return [_describe_fit(f, models.get(f.model_id or "")) for f in fits]


def _describe_fit(fit: ClvFit, model: ClvModel | None) -> dict[str, Any]:
    names = ("id", "status", "progress", "stage", "error", "trigger", "calibration_end", "time_unit", "horizon",
             "discount_rate", "rerun_every_hours", "model_id", "created_at", "started_at", "finished_at")  # fmt: skip
    return {name: getattr(fit, name) for name in names} | {"model": describe(model) if model else None}
