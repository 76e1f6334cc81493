"""Campaigns' HTTP API for social media: post and metric imports, engagement, competitors, influencers, contests
and user-generated content."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import status as http_status

from services.campaigns.deps import PeersDep
from services.campaigns.social import competitors, imports, influencers, service
from services.campaigns.social.schemas import (
    CompetitorsReport,
    ContentPage,
    ContentRead,
    ContentReview,
    ContentStatus,
    ContestReport,
    ContestSummary,
    EngagementReport,
    ImportResult,
    InfluencerCreate,
    InfluencerRead,
    InfluencerReport,
    MetricRow,
    PostRow,
)
from shared.auth import authorize
from shared.bodies import read_limited
from shared.db import utcnow
from shared.deps import SessionDep
from shared.errors import Unavailable

router = APIRouter(prefix="/v1", tags=["social"], dependencies=[Depends(authorize)])

MAX_BYTES = 20 * 1024 * 1024
TOO_LARGE = f"Send at most {MAX_BYTES:,} bytes at a time; split the file."
From = Annotated[date | None, Query(alias="from", description="First day (UTC), included")]
To = Annotated[date | None, Query(alias="to", description="Last day (UTC), included")]
Grouping = Literal["post", "content_type", "platform", "campaign", "segment"]


def _rows_body(model: type[Any]) -> dict[str, Any]:
    """OpenAPI: a JSON list of rows or a CSV file with the same columns."""
    rows = {"type": "array", "items": model.model_json_schema()}
    csv_file = {"type": "string", "description": f"CSV with a header: {', '.join(model.model_fields)}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": rows},
                                                          "text/csv": {"schema": csv_file}}}}  # fmt: skip


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _answer(result: dict[str, Any], response: Response) -> ImportResult:
    response.status_code = http_status.HTTP_207_MULTI_STATUS if result["rejected"] else http_status.HTTP_200_OK
    return ImportResult.model_validate(result)


@router.post("/social/posts", response_model=ImportResult, openapi_extra=_rows_body(PostRow))
async def import_posts(request: Request, response: Response, session: SessionDep) -> ImportResult:
    """Import posts (ours or competitors') as a JSON list or CSV; 207 lists refused rows with line and reason."""
    body = await read_limited(request, MAX_BYTES, TOO_LARGE)
    return _answer(await imports.import_posts(session, body, _media_type(request)), response)


@router.post("/social/metrics", response_model=ImportResult, openapi_extra=_rows_body(MetricRow))
async def import_metrics(request: Request, response: Response, session: SessionDep) -> ImportResult:
    """Import posts' daily metrics as a JSON list or CSV; 207 lists refused rows with line and reason."""
    body = await read_limited(request, MAX_BYTES, TOO_LARGE)
    return _answer(await imports.import_metrics(session, body, _media_type(request)), response)


@router.get("/social/engagement", response_model=EngagementReport)
async def get_engagement(
    session: SessionDep, peers: PeersDep, by: Grouping = "platform", start: From = None, end: To = None
) -> dict[str, Any]:
    """Our posts' reach, impressions, interactions, CTR, engagement, amplification and virality rates per group;
    a daily trend; the top 5 posts by engagement rate by reach. `by=segment` asks profiles."""
    period = service.Period(start, end)
    if by != "segment":
        return await service.engagement_report(session, period, by)
    try:
        return await service.segment_engagement(session, peers, period)
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable(f"Profiles could not give the segment report ({type(exc).__name__}).") from exc


@router.get("/social/competitors", response_model=CompetitorsReport)
async def get_competitors(
    session: SessionDep, start: From = None, end: To = None,
    brand: Annotated[str | None, Query(max_length=2000, description="Our handles, comma-separated")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Us and each competitor: posts per week, content mix, engagement rates, follower growth and share of voice
    (`Brand Mentioned` events); the last 28 days unless `from`/`to` say otherwise."""
    period = competitors.competitor_period(start, end, utcnow().date())
    handles = sorted({h.strip().lstrip("@").strip().lower() for h in (brand or "").split(",")} - {""})
    return await competitors.competitors_report(session, period, brand=handles)


@router.post("/influencers", response_model=InfluencerRead, status_code=http_status.HTTP_201_CREATED)
async def create_influencer(body: InfluencerCreate, session: SessionDep) -> InfluencerRead:
    """Register an influencer with the referral codes and UTM campaigns that credit them."""
    return InfluencerRead.model_validate(await influencers.create_influencer(session, body.model_dump()))


@router.get("/influencers", response_model=list[InfluencerRead])
async def list_influencers(session: SessionDep) -> list[InfluencerRead]:
    """Every influencer, by name."""
    return [InfluencerRead.model_validate(i) for i in await influencers.list_influencers(session)]


@router.get("/influencers/{influencer_id}", response_model=InfluencerRead)
async def get_influencer(influencer_id: str, session: SessionDep) -> InfluencerRead:
    """One influencer."""
    return InfluencerRead.model_validate(await influencers.get_influencer(session, influencer_id))


@router.get("/influencers/{influencer_id}/report", response_model=InfluencerReport)
async def get_influencer_report(
    influencer_id: str, session: SessionDep, start: From = None, end: To = None
) -> dict[str, Any]:
    """Their posts' reach and engagement, follower growth, and the sessions, sign-ups, orders and revenue their
    codes and UTM campaigns brought."""
    influencer = await influencers.get_influencer(session, influencer_id)
    return await influencers.influencer_report(session, influencer, service.Period(start, end))


@router.get("/social/contests", response_model=list[ContestSummary])
async def list_contests(session: SessionDep) -> list[dict[str, Any]]:
    """Every contest with entries or user content, the most recently active first."""
    return await service.list_contests(session)


@router.get("/social/contests/{contest_id}", response_model=ContestReport)
async def get_contest(
    contest_id: str, session: SessionDep,
    reach: Annotated[int | None, Query(ge=0, le=10**15, description="People reached, if not from posts")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Participants, people reached, participation rate and user content by review status of a contest."""
    return await service.contest_report(session, contest_id, reach=reach)


@router.get("/social/content", response_model=ContentPage)
async def list_content(
    session: SessionDep, status: ContentStatus | None = None, contest_id: str | None = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ContentPage:  # fmt: skip
    """User-generated content, newest first, by review status or contest."""
    items, next_offset = await service.list_content(
        session, status=status, contest_id=contest_id, offset=offset, limit=limit
    )
    return ContentPage(items=[ContentRead.model_validate(i) for i in items], next_offset=next_offset)


@router.post("/social/content/{content_id}/review", response_model=ContentRead)
async def review_content(content_id: str, body: ContentReview, session: SessionDep) -> ContentRead:
    """Approve or reject a piece of user-generated content."""
    return ContentRead.model_validate(await service.review_content(session, content_id, body.status))
