"""API keys for integrations and the audit log (admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.console import apikeys, audit, people
from services.console.deps import AdminUser
from services.console.models import ApiKey
from services.console.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, AuditPage, AuditRead
from shared.deps import SessionDep
from shared.errors import Invalid, field_error

router = APIRouter(prefix="/api", tags=["admin"])
Text = Annotated[str | None, Query(max_length=320)]
MAX_CURSOR = 2**63 - 1


def _key(row: ApiKey, creators: dict[str, str]) -> ApiKeyRead:
    return ApiKeyRead(
        id=row.id, name=row.name, role=row.role, hint=row.hint, created_at=row.created_at,  # type: ignore[arg-type]
        created_by=creators.get(row.created_by or ""), revoked_at=row.revoked_at, last_used_at=row.last_used_at,
    )  # fmt: skip


@router.get("/api-keys", response_model=list[ApiKeyRead])
async def list_api_keys(_: AdminUser, session: SessionDep) -> list[ApiKeyRead]:
    """Every API key issued here, revoked ones too (admins)."""
    rows = await apikeys.list_keys(session)
    creators = await people.emails_of(session, (row.created_by for row in rows))
    return [_key(row, creators) for row in rows]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyCreate, me: AdminUser, session: SessionDep) -> ApiKeyCreated:
    """Issue a key for an integration (admins); the key is in this answer only."""
    row, key = await apikeys.create_key(session, me.actor, name=body.name, role=body.role)
    return ApiKeyCreated(**_key(row, {me.user_id: me.email}).model_dump(), key=key)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: str, me: AdminUser, session: SessionDep) -> None:
    """Revoke a key (admins); the services refuse it within 30 seconds."""
    await apikeys.revoke_key(session, me.actor, key_id)


@router.get("/audit", response_model=AuditPage)
async def list_audit(
    _: AdminUser,
    session: SessionDep,
    actor: Text = None,
    action: Text = None,
    object_type: Text = None,
    object_id: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Who did what, when, on which object, newest first, with filters (admins); `actor` is a user id or e-mail."""
    wanted = audit.AuditFilter(actor, action, object_type, object_id, _utc(since, "since"), _utc(until, "until"))
    rows, next_cursor = await audit.entries(session, wanted, before=cursor, limit=limit)
    items = [AuditRead.model_validate(row) for row in rows]
    return AuditPage(items=items, next_cursor=str(next_cursor) if next_cursor else None)


def _utc(value: datetime | None, name: str) -> datetime | None:
    """A query time in UTC (naive ones are taken as UTC); 422 when it is beyond what a timestamp holds."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:
        raise Invalid("The time is out of range.", fields=[field_error(f"query.{name}", "out of range")]) from exc
