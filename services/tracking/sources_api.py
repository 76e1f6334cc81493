"""Source administration (admin key): create, list, change, delete, rotate the write key."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from services.tracking.schemas import SourceCreate, SourceRead, SourceUpdate, SourceWithKey
from services.tracking.service import create_source, delete_source, list_sources, rotate_write_key, update_source
from shared.auth import require_role
from shared.deps import SessionDep

router = APIRouter(prefix="/v1/sources", tags=["sources"], dependencies=[Depends(require_role("admin"))])


def _forget_cached_keys(request: Request) -> None:
    request.app.state.runtime.extras["sources"].clear()


@router.post("", response_model=SourceWithKey, status_code=status.HTTP_201_CREATED)
async def create_source_route(body: SourceCreate, session: SessionDep) -> SourceWithKey:
    """Create a source; its write key is shown in this response only."""
    source, key = await create_source(session, name=body.name, anonymize_ip=body.anonymize_ip, trusted=body.trusted)
    return SourceWithKey(**SourceRead.model_validate(source).model_dump(), write_key=key)


@router.get("", response_model=list[SourceRead])
async def list_sources_route(session: SessionDep) -> list[SourceRead]:
    """List sources (write keys are never shown again)."""
    return [SourceRead.model_validate(s) for s in await list_sources(session)]


@router.patch("/{source_id}", response_model=SourceRead)
async def update_source_route(source_id: str, body: SourceUpdate, session: SessionDep, request: Request) -> SourceRead:
    """Change a source: name, enabled, anonymize_ip, trusted (whether its events may carry consent opt-ins)."""
    source = await update_source(session, source_id, body.model_dump(exclude_none=True))
    _forget_cached_keys(request)
    return SourceRead.model_validate(source)


@router.delete("/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_source_route(source_id: str, session: SessionDep, request: Request) -> None:
    """Delete a source; its write key stops working at once."""
    await delete_source(session, source_id)
    _forget_cached_keys(request)


@router.post("/{source_id}/rotate-key", response_model=SourceWithKey)
async def rotate_key_route(source_id: str, session: SessionDep, request: Request) -> SourceWithKey:
    """Issue a new write key for a source; the old one stops working."""
    source, key = await rotate_write_key(session, source_id)
    _forget_cached_keys(request)
    return SourceWithKey(**SourceRead.model_validate(source).model_dump(), write_key=key)
