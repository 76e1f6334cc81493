"""Campaigns' HTTP API for surveys: definitions, answer links, answers and satisfaction reports (CSAT, NPS, CES);
marketers write, analysts read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.campaigns import survey_reports, surveys
from services.campaigns.messages import survey_link
from services.campaigns.survey_reports import GroupBy, Interval
from services.campaigns.survey_schemas import (
    BeforeAfter,
    ResponseRead,
    SurveyCreate,
    SurveyLink,
    SurveyRead,
    SurveyReport,
)
from shared.auth import authorize
from shared.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["surveys"], dependencies=[Depends(authorize)])
Start = Annotated[datetime | None, Query(alias="from", description="First answer time included (UTC if naive)")]
End = Annotated[datetime | None, Query(alias="to", description="Answers before this time (UTC if naive)")]


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.post("/surveys", response_model=SurveyRead, status_code=status.HTTP_201_CREATED)
async def create_survey(body: SurveyCreate, session: SessionDep) -> SurveyRead:
    """Define a one-question survey (CSAT 1–5, NPS 0–10 or CES 1–7)."""
    return SurveyRead.model_validate(await surveys.create_survey(session, body.model_dump()))


@router.get("/surveys", response_model=list[SurveyRead])
async def list_surveys(session: SessionDep) -> list[SurveyRead]:
    """Every survey, newest first."""
    return [SurveyRead.model_validate(s) for s in await surveys.list_surveys(session)]


@router.get("/surveys/{survey_id}", response_model=SurveyRead)
async def get_survey(survey_id: str, session: SessionDep) -> SurveyRead:
    """One survey."""
    return SurveyRead.model_validate(await surveys.get_survey(session, survey_id))


@router.delete("/surveys/{survey_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_survey(survey_id: str, session: SessionDep) -> Response:
    """Remove a survey and its answers."""
    await surveys.delete_survey(session, survey_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/surveys/{survey_id}/link", response_model=SurveyLink)
async def get_survey_link(
    survey_id: str, session: SessionDep, request: Request,
    profile_id: Annotated[str, Query(min_length=1, max_length=32, description="Who answers through the link")],
) -> dict[str, str]:  # fmt: skip
    """The signed URL of the survey's hosted page for one person (for channels other than campaign mail)."""
    survey = await surveys.get_survey(session, survey_id)
    settings = request.app.state.settings
    secret, base = settings.link_secret.get_secret_value(), settings.tracking_public_url.rstrip("/")
    return {"url": survey_link(base, secret, surveys.spec_of(survey), {"p": profile_id})}


@router.get("/surveys/{survey_id}/responses", response_model=list[ResponseRead])
async def list_responses(
    survey_id: str, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ResponseRead]:
    """The survey's answers (one per person: their latest), latest first."""
    await surveys.get_survey(session, survey_id)
    return [ResponseRead.model_validate(r) for r in await surveys.latest_responses(session, survey_id, limit=limit)]


@router.get("/surveys/{survey_id}/report", response_model=SurveyReport)
async def get_survey_report(
    survey_id: str, session: SessionDep, start: Start = None, end: End = None, by: GroupBy = "none",
    interval: Interval = "week",
) -> dict[str, Any]:  # fmt: skip
    """CSAT, NPS or CES with its 95 % interval overall, by segment, campaign or product, and per period."""
    survey = await surveys.get_survey(session, survey_id)
    return await survey_reports.survey_report(session, survey, start=_aware(start), end=_aware(end), by=by,
                                              interval=interval)  # fmt: skip


@router.get("/surveys/{survey_id}/before-after", response_model=BeforeAfter)
async def get_before_after(
    survey_id: str, session: SessionDep,
    split: Annotated[datetime, Query(description="The change: answers before it against answers from it on")],
    start: Start = None, end: End = None,
) -> dict[str, Any]:  # fmt: skip
    """The figure after `split` minus before it, with its 95 % interval and Welch's t-test."""
    survey = await surveys.get_survey(session, survey_id)
    split_at = _aware(split)
    assert split_at is not None
    return await survey_reports.before_after(session, survey, split=split_at, start=_aware(start), end=_aware(end))
