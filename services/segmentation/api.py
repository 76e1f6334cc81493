"""Segmentation's HTTP API: rule segments, members, the feature replica."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status

from services.segmentation import segments, service
from services.segmentation.jobs import run_backfill
from services.segmentation.schemas import (
    FeaturesRead,
    MemberRead,
    MembershipRead,
    MembersPage,
    PastMembershipRead,
    PreviewRead,
    PreviewRequest,
    ProfileSegments,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    SizeRead,
)  # fmt: skip
from shared.auth import authorize, require_role
from shared.db import utcnow
from shared.deps import EventsDep, SessionDep

router = APIRouter(prefix="/v1", tags=["segments"], dependencies=[Depends(authorize)])
# A preview is a POST that reads and saves nothing: analysts may run it.
read_only_router = APIRouter(prefix="/v1", tags=["segments"], dependencies=[Depends(require_role("analyst"))])
Limit = Annotated[int, Query(ge=1, le=1000)]


def _backfill_after_commit(tasks: BackgroundTasks, request: Request, segment_id: str) -> None:
    # Background tasks run after the response, i.e. after the request's commit: the job sees the segment.
    tasks.add_task(run_backfill, request.app.state.runtime, segment_id)


@router.post("/segments", response_model=SegmentRead, status_code=status.HTTP_201_CREATED)
async def create_segment(
    body: SegmentCreate, session: SessionDep, tasks: BackgroundTasks, request: Request
) -> SegmentRead:
    """Create a rule segment; it is `building` until its backfill has run."""
    goal = body.goal.model_dump(exclude_none=True) if body.goal else None
    segment = await segments.create_segment(session, name=body.name, description=body.description,
                                            definition=body.definition, goal=goal)  # fmt: skip
    _backfill_after_commit(tasks, request, segment.id)
    return SegmentRead.model_validate(segment)


@router.get("/segments", response_model=list[SegmentRead])
async def list_segments(session: SessionDep) -> list[SegmentRead]:
    """Every segment with its size and status."""
    return [SegmentRead.model_validate(s) for s in await segments.list_segments(session)]


@read_only_router.post("/segments/preview", response_model=PreviewRead)
async def preview_segment(body: PreviewRequest, session: SessionDep) -> PreviewRead:
    """How many profiles a definition matches now, and a sample; nothing is saved."""
    node = await segments.validate_definition(session, "preview", body.definition)
    matching = await segments.matching_ids(session, node, utcnow().date())
    return PreviewRead(count=len(matching), sample=sorted(matching)[: body.sample_size])


@router.get("/segments/{segment_id}", response_model=SegmentRead)
async def get_segment(segment_id: str, session: SessionDep) -> SegmentRead:
    """A segment: definition, size, status, last computed time and last error."""
    return SegmentRead.model_validate(await segments.get_segment(session, segment_id))


@router.patch("/segments/{segment_id}", response_model=SegmentRead)
async def update_segment(
    segment_id: str, body: SegmentUpdate, session: SessionDep, tasks: BackgroundTasks, request: Request
) -> SegmentRead:
    """Change a segment; a new definition rebuilds its members."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    segment = await segments.update_segment(session, segment_id, changes)
    if "definition" in changes:
        _backfill_after_commit(tasks, request, segment.id)
    return SegmentRead.model_validate(segment)


@router.delete("/segments/{segment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_segment(segment_id: str, session: SessionDep, events: EventsDep) -> None:
    """Delete a segment (its members exit)."""
    await segments.delete_segment(session, segment_id, events)


@router.get("/segments/{segment_id}/members", response_model=MembersPage)
async def list_members(
    segment_id: str, session: SessionDep, cursor: str | None = None, limit: Limit = 100
) -> MembersPage:
    """Current members in profile-id order, with cursor pagination."""
    rows = await segments.members_page(session, segment_id, after=cursor, limit=limit)
    items = [MemberRead.model_validate(r) for r in rows]
    return MembersPage(items=items, next_cursor=rows[-1].profile_id if len(rows) == limit else None)


@router.get("/profiles/{profile_id}/segments", response_model=ProfileSegments)
async def list_profile_segments(profile_id: str, session: SessionDep) -> ProfileSegments:
    """The segments a profile is in now (with entered-at) and the memberships that ended."""
    current = [MembershipRead.model_validate(m) for m in await segments.profile_memberships(session, profile_id)]
    past = [PastMembershipRead.model_validate(m) for m in await segments.past_memberships(session, profile_id)]
    return ProfileSegments(current=current, past=past)


@router.get("/segments/{segment_id}/history", response_model=list[SizeRead])
async def get_history(segment_id: str, session: SessionDep) -> list[SizeRead]:
    """The segment's size after each recompute (backfills and sweeps), oldest first."""
    return [SizeRead.model_validate(r) for r in await segments.size_history(session, segment_id)]


@router.get("/profiles/{profile_id}/features", response_model=FeaturesRead)
async def get_profile_features(profile_id: str, session: SessionDep) -> FeaturesRead:
    """The features of a profile as segmentation sees them."""
    return FeaturesRead.model_validate(await service.get_features(session, profile_id))
