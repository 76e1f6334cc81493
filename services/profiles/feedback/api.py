"""Profiles' HTTP API: the feedback inbox (list, answer, close), its report and negative-feedback terms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from services.profiles.feedback import service as feedback
from services.profiles.feedback.models import FeedbackItem
from services.profiles.feedback.schemas import (
    FeedbackPage,
    FeedbackRead,
    FeedbackRespond,
    FeedbackStats,
    NegativeTermsRead,
)
from services.profiles.feedback.service import FeedbackFilter, GroupBy, Status
from shared.auth import authorize
from shared.deps import SessionDep
from shared.errors import Invalid

router = APIRouter(prefix="/v1", tags=["feedback"], dependencies=[Depends(authorize)])
Limit = Annotated[int, Query(ge=1, le=500)]
Start = Annotated[datetime | None, Query(alias="from")]
End = Annotated[datetime | None, Query(alias="to")]
SentimentLabel = Literal["positive", "negative", "neutral"]
FeedbackEvent = Literal[
    "Comment Posted", "Brand Mentioned", "Review Submitted", "Survey Responded", "Feedback Submitted"
]


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    start, end = _aware(start), _aware(end)
    if start and end and end <= start:
        raise Invalid("`to` must be after `from`.", fields=[{"field": "to", "reason": "not after from"}])
    return start, end


async def _read(session: SessionDep, items: Sequence[FeedbackItem]) -> list[FeedbackRead]:
    live = await feedback.live_profiles(session, {i.profile_id for i in items})
    return [FeedbackRead.model_validate(i).model_copy(update={"profile_id": live[i.profile_id]}) for i in items]


@router.get("/feedback", response_model=FeedbackPage)
async def list_feedback(
    session: SessionDep,
    status: Status | None = None,
    sentiment: SentimentLabel | None = None,
    platform: str | None = None,
    product: str | None = None,
    segment_id: str | None = None,
    event: FeedbackEvent | None = None,
    start: Start = None,
    end: End = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> FeedbackPage:
    """Comments, mentions, reviews and survey answers with their sentiment, newest first, filtered."""
    start, end = _window(start, end)
    where = FeedbackFilter(status=status, sentiment=sentiment, platform=platform, product=product,
                           segment_id=segment_id, event=event, start=start, end=end)  # fmt: skip
    items, next_cursor = await feedback.list_feedback(session, where, cursor=cursor, limit=limit)
    return FeedbackPage(items=await _read(session, items), next_cursor=next_cursor)


@router.get("/feedback/stats", response_model=FeedbackStats)
async def get_feedback_stats(
    session: SessionDep,
    start: Start = None,
    end: End = None,
    by: GroupBy = "none",
    platform: str | None = None,
    product: str | None = None,
    segment_id: str | None = None,
    event: FeedbackEvent | None = None,
) -> FeedbackStats:
    """Response time (mean, median, answered within 1 h / 24 h), sentiment distribution and daily trend,
    overall and per segment, product or platform."""
    start, end = _window(start, end)
    where = FeedbackFilter(platform=platform, product=product, segment_id=segment_id, event=event, start=start,
                           end=end)  # fmt: skip
    return FeedbackStats.model_validate(await feedback.feedback_stats(session, where, by=by))


@router.get("/feedback/terms", response_model=NegativeTermsRead)
async def get_negative_terms(
    session: SessionDep,
    product: str | None = None,
    platform: str | None = None,
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> NegativeTermsRead:
    """The words and word pairs negative feedback uses most, per product."""
    start, end = _window(start, end)
    where = FeedbackFilter(platform=platform, product=product, start=start, end=end)
    return NegativeTermsRead.model_validate({"products": await feedback.negative_terms(session, where, limit=limit)})


@router.get("/feedback/{item_id}", response_model=FeedbackRead)
async def get_feedback(item_id: str, session: SessionDep) -> FeedbackRead:
    """One feedback item."""
    return (await _read(session, [await feedback.get_item(session, item_id)]))[0]


@router.post("/feedback/{item_id}/respond", response_model=FeedbackRead)
async def respond_to_feedback(item_id: str, session: SessionDep, body: FeedbackRespond | None = None) -> FeedbackRead:
    """Record the brand's answer (status `responded`); `{"close": true}` closes the item."""
    body = body or FeedbackRespond()
    item = await feedback.respond(session, item_id, close=body.close, at=_aware(body.responded_at))
    return (await _read(session, [item]))[0]
