"""Import jobs: the file's rows published to `tessera.events.v1` in chunks, progress committed after each."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.imports.files import ImportFile, Row, open_file, read_rows
from services.profiles.imports.models import ImportJob, ImportRowApplied
from shared.bus import OutboundMessage
from shared.db import insert_new, take_write_lock, utcnow
from shared.errors import NotFound, failure_text
from shared.events import EVENTS, TrackedEvent
from shared.runtime import Runtime

log = structlog.get_logger(__name__)
CHUNK_ROWS = 500
MAX_ERRORS = 1000  # the first rejections are what a user fixes; the counts cover the rest


@dataclass
class Progress:
    """What a job has done so far."""

    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, rows: list[Row]) -> None:
        """Count a published chunk."""
        self.rows_read += len(rows)
        for row in rows:
            if row.event is not None:
                self.accepted += 1
                continue
            self.rejected += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append({"line": row.line, "reason": row.reason})

    def values(self) -> dict[str, Any]:
        """The `import_jobs` columns this progress sets."""
        return {"rows_read": self.rows_read, "accepted": self.accepted, "rejected": self.rejected,
                "errors": list(self.errors)}  # fmt: skip


async def start_import(runtime: Runtime, kind: str, file_format: str, content: bytes) -> ImportJob:
    """Check the file, record the job and run it in the background; returns at once (`Invalid` if unusable)."""
    file = await asyncio.to_thread(open_file, kind, file_format, content)  # decoding 100 MB must not block
    job = ImportJob(kind=kind, status="running", rows_read=0, accepted=0, rejected=0, errors=[], created_at=utcnow())
    async with runtime.sessions() as session:
        session.add(job)
        await session.commit()
    runtime.spawn(run_import(runtime, job.id, file), name=f"import-{job.id}")
    log.info("import_started", job_id=job.id, kind=kind, format=file_format, bytes=len(content))
    return job


async def run_import(runtime: Runtime, job_id: str, file: ImportFile) -> None:
    """Publish every accepted row keyed by customer, saving progress after each chunk; never raises on failure."""
    progress = Progress()
    try:
        for chunk in _chunks(read_rows(file, job_id=job_id, now=utcnow()), CHUNK_ROWS):
            await publish_rows(runtime, chunk)
            progress.add(chunk)
            await _save(runtime, job_id, progress.values())
            await asyncio.sleep(0)  # parsing is synchronous: let requests in between chunks
    except asyncio.CancelledError:
        await _fail(runtime, job_id, progress, "the service stopped during the import")
        raise
    except Exception as exc:
        log.exception("import_failed", job_id=job_id)
        await _fail(runtime, job_id, progress, failure_text(exc)[:300])
        return
    await _save(runtime, job_id, progress.values() | {"status": "published"})
    async with runtime.sessions() as session:  # the consumer may have applied the last rows already
        await complete_if_applied(session, job_id)
        await session.commit()
    log.info("import_published", job_id=job_id, rows=progress.rows_read, rejected=progress.rejected)


async def publish_rows(runtime: Runtime, rows: Iterable[Row]) -> None:
    """Send the accepted rows' events, each keyed by its customer so one customer's events stay in order."""
    messages = [OutboundMessage(EVENTS, row.event["userId"], row.event) for row in rows if row.event is not None]
    await runtime.bus.send_many(messages)


async def _fail(runtime: Runtime, job_id: str, progress: Progress, reason: str) -> None:
    """Mark the job failed, saying why; the rows already sent stay (re-running the same file skips them)."""
    errors = progress.values()["errors"] + [{"line": None, "reason": f"import stopped: {reason}"}]
    values = progress.values() | {"status": "failed", "finished_at": utcnow(), "errors": errors}
    try:
        await _save(runtime, job_id, values)
    except Exception:
        log.exception("import_status_not_saved", job_id=job_id)


async def _save(runtime: Runtime, job_id: str, values: dict[str, Any]) -> None:
    async with runtime.sessions() as session:
        await session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))
        await session.commit()


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


async def get_job(session: AsyncSession, job_id: str) -> dict[str, Any]:
    """An import job with how many of its rows are published and applied, or `NotFound`."""
    job = await session.get(ImportJob, job_id)
    if job is None:
        raise NotFound(f"No import job {job_id!r}.")
    applied = job.accepted if job.status == "done" else await _applied(session, job_id)
    columns = {c.key: getattr(job, c.key) for c in ImportJob.__table__.columns}
    return columns | {"published": job.accepted, "applied": applied}


async def record_applied(session: AsyncSession, events: Sequence[TrackedEvent]) -> None:
    """Count the imported rows a consumer batch applied (or found applied before) toward their jobs, each once."""
    rows = {(e.sourceId.removeprefix("import:"), e.dedup_key) for e in events if e.sourceId.startswith("import:")}
    if rows:
        table = ImportRowApplied.__table__
        await insert_new(session, table, [{"job_id": j, "message_key": k} for j, k in rows], ["job_id", "message_key"])
        for job_id in sorted({job_id for job_id, _ in rows}):
            await complete_if_applied(session, job_id)


async def complete_if_applied(session: AsyncSession, job_id: str) -> None:
    """A published job whose accepted rows are all applied is done (the job row is locked: the consumer and the
    publisher may both get here, and whichever comes last completes it)."""
    await take_write_lock(session, ImportJob.__table__)
    job = await session.scalar(select(ImportJob).where(ImportJob.id == job_id).with_for_update())
    if job is None or job.status != "published" or await _applied(session, job_id) < job.accepted:
        return
    job.status, job.finished_at = "done", utcnow()
    await session.execute(delete(ImportRowApplied).where(ImportRowApplied.job_id == job_id))
    log.info("import_done", job_id=job_id, rows=job.accepted)


async def _applied(session: AsyncSession, job_id: str) -> int:
    query = select(func.count()).select_from(ImportRowApplied).where(ImportRowApplied.job_id == job_id)
    return int(await session.scalar(query) or 0)
