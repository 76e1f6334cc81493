"""The console's internal API for the services (not for browsers): questions about console-issued API keys."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request

from services.console import apikeys
from services.console.deps import console_of
from services.console.schemas import KeyVerifyRead, KeyVerifyRequest
from shared.deps import SessionDep
from shared.errors import NotFound, Unauthorized


def internal_secret(request: Request) -> None:
    """Only callers with the internal secret (the services) may ask."""
    configured = console_of(request).settings.console_internal_secret
    expected = configured.get_secret_value() if configured else ""
    presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
        raise Unauthorized("The internal API needs the console's internal secret.")


router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False,
                   dependencies=[Depends(internal_secret)])  # fmt: skip


@router.post("/keys/verify", response_model=KeyVerifyRead)
async def verify_key(body: KeyVerifyRequest, session: SessionDep) -> KeyVerifyRead:
    """The name and role of a live key issued here, by its SHA-256; 404 when unknown or revoked."""
    row = await apikeys.verify_key(session, body.sha256)
    if row is None:
        raise NotFound("No live API key has this hash.")
    return KeyVerifyRead(name=row.name, role=row.role)  # type: ignore[arg-type]
