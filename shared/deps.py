"""Annotated dependencies every service's routes use."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, authorize, require_role
from shared.bus import EventBuffer
from shared.runtime import events_of, get_session

# scope="function": the commit runs before the response is sent, so a failed commit is never a 200.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def _event_buffer(session: SessionDep) -> EventBuffer:
    return events_of(session)


EventsDep = Annotated[EventBuffer, Depends(_event_buffer, scope="function")]
CurrentKey = Annotated[Principal, Depends(authorize)]
AdminKey = Annotated[Principal, Depends(require_role("admin"))]
