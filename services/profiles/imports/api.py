"""Imports of customers and orders: a raw CSV body in, a job (202) out, its progress at `GET /v1/imports/{id}`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from services.profiles.imports import service as import_jobs
from services.profiles.imports.schemas import ImportJobRead
from shared.auth import authorize
from shared.bodies import read_limited
from shared.deps import SessionDep

router = APIRouter(prefix="/v1/imports", tags=["imports"], dependencies=[Depends(authorize)])

MAX_BYTES = 100 * 1024 * 1024
TOO_LARGE = f"The file is larger than the limit ({MAX_BYTES:,} bytes); split it into smaller files."
ACCEPTED_TYPES = frozenset({"", "text/csv", "text/plain", "application/csv", "application/octet-stream"})
Format = Annotated[
    Literal["csv", "cdnow"],
    Query(alias="format", description="`csv` (with a header) or `cdnow` (`id sample_id YYYYMMDD cds dollars`)"),
]
CSV_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}
}


@router.post("/customers", response_model=ImportJobRead, status_code=status.HTTP_202_ACCEPTED, openapi_extra=CSV_BODY)
async def import_customers(request: Request, response: Response, file_format: Format = "csv") -> ImportJobRead:
    """Import customers (`id`, optional `email`, every other column a trait) as `identify` events."""
    return await _start(request, response, "customers", file_format)


@router.post("/orders", response_model=ImportJobRead, status_code=status.HTTP_202_ACCEPTED, openapi_extra=CSV_BODY)
async def import_orders(request: Request, response: Response, file_format: Format = "csv") -> ImportJobRead:
    """Import orders (`customer_id`, `order_id`, `timestamp`, `revenue`, `currency`) as `Order Completed` events."""
    return await _start(request, response, "orders", file_format)


@router.get("/{job_id}", response_model=ImportJobRead)
async def get_import(job_id: str, session: SessionDep) -> ImportJobRead:
    """An import's progress: rows read, accepted (published), applied by profiles, rejected (with line numbers and
    reasons); `done` once every accepted row is applied."""
    return ImportJobRead.model_validate(await import_jobs.get_job(session, job_id))


async def _start(request: Request, response: Response, kind: str, file_format: str) -> ImportJobRead:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        raise HTTPException(415, f"Send the file itself as the body with Content-Type: text/csv (not {media_type}).")
    content = await read_limited(request, MAX_BYTES, TOO_LARGE)
    job = await import_jobs.start_import(request.app.state.runtime, kind, file_format, content)
    response.headers["Location"] = f"/v1/imports/{job.id}"
    return ImportJobRead.model_validate(job, from_attributes=True)
