"""Rule segments: create, preview, change and delete them; their members, history and report; why a profile is in
one or not; profiles entering and leaving segments."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status

from services.segmentation.deps import SegmentDep
from services.segmentation.replica.freshness import measure
from services.segmentation.segments import reports
from services.segmentation.segments import service as segments
from services.segmentation.segments.jobs import run_backfill
from services.segmentation.segments.schemas import (
    ExplainRead,
    MemberRead,
    MembershipChanges,
    MembershipRead,
    MembersPage,
    PastMembershipRead,
    PreviewRead,
    PreviewRequest,
    ProfileSegments,
    SegmentCreate,
    SegmentRead,
    SegmentReportRead,
    SegmentUpdate,
    SizeRead,
)  # fmt: skip
from shared.auth import authorize, require_role
from shared.db import utcnow
from shared.deps import EventsDep, SessionDep
from shared.errors import Invalid, field_error

router = APIRouter(prefix="/v1", tags=["segments"], dependencies=[Depends(authorize)])
# A preview is a POST that reads and saves nothing: analysts may run it.
read_only_router = APIRouter(prefix="/v1", tags=["segments"], dependencies=[Depends(require_role("analyst"))])
Limit = Annotated[int, Query(ge=1, le=1000)]
Text = Annotated[str, Query(max_length=200)]


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
async def get_segment(segment: SegmentDep) -> SegmentRead:
    """A segment: definition, size, status, last computed time and last error."""
    return SegmentRead.model_validate(segment)


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
async def delete_segment(segment: SegmentDep, session: SessionDep, events: EventsDep) -> None:
    """Delete a segment (its members exit)."""
    await segments.delete_segment(session, segment, events)


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
async def get_history(segment: SegmentDep, session: SessionDep) -> list[SizeRead]:
    """The segment's size after each recompute (backfills and sweeps), oldest first."""
    return [SizeRead.model_validate(r) for r in await segments.size_history(session, segment)]


@router.get("/segments/{segment_id}/report", response_model=SegmentReportRead)
async def get_segment_report(segment: SegmentDep, session: SessionDep, request: Request) -> SegmentReportRead:
    """Size, revenue per customer, average order value, average CLV, conversion rate, sentiment, email consent;
    with the replica's freshness (`as_of`, and the lag when it was computed)."""
    report = await reports.segment_report(session, segment)
    return SegmentReportRead.model_validate(report | {"freshness": await measure(request.app.state.runtime)})


@router.get("/segments/{segment_id}/explain", response_model=ExplainRead)
async def explain_segment(segment_id: str, profile_id: Text, session: SessionDep) -> Any:
    """The rule tree evaluated for one profile: each node true or false, each leaf with the actual value and, for
    behaviour, the counts per day in the window; computed by the same predicates as real-time membership."""
    return await segments.explain_membership(session, segment_id, profile_id, utcnow().date())


@router.get("/segment-changes", response_model=MembershipChanges)
async def list_membership_changes(
    session: SessionDep, segment_id: Text | None = None, since: datetime | None = None, cursor: Text | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:  # fmt: skip
    """Profiles entering and leaving segments (one segment, or all), newest first, with cursor paging."""
    now, before = utcnow(), _decode(cursor) if cursor else None
    items = await segments.membership_changes(session, segment_id=segment_id, since=_aware(since), before=before,
                                             limit=limit)  # fmt: skip
    last = items[-1] if len(items) == limit else None
    return {"items": items, "next_cursor": _encode(last["at"], last["profile_id"]) if last else None, "as_of": now}


def _encode(at: datetime, profile_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{profile_id}".encode()).decode()


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, profile_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return _aware(datetime.fromisoformat(at)) or utcnow(), profile_id
    except (ValueError, UnicodeDecodeError):
        raise Invalid("The cursor is not valid.", fields=[field_error("cursor", "malformed")]) from None


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
