"""Surveys: their definitions, what a mail needs to link to them, and the answers `Survey Responded` events bring
(one per person and survey: the answer with the latest event time counts, whatever order events arrive in)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.measurement import profiles_of
from services.campaigns.models import Survey, SurveyResponse
from services.campaigns.satisfaction import check_score
from shared.errors import NotFound
from shared.events import SURVEY_RESPONDED, TrackedEvent

MAX_COMMENT = 2000  # characters kept of a comment
# `survey_links("id")` / `survey_url("id", 9)` in a template: the surveys a campaign's mail links to.
_HELPER_CALL = re.compile(r"survey_(?:links|url)\(\s*['\"]([A-Za-z0-9_-]{1,32})['\"]")


async def create_survey(session: AsyncSession, fields: dict[str, Any]) -> Survey:
    """A new survey (fields validated by the request model)."""
    survey = Survey(**fields)
    session.add(survey)
    await session.flush()
    return survey


async def list_surveys(session: AsyncSession) -> Sequence[Survey]:
    """Every survey, newest first."""
    return (await session.scalars(select(Survey).order_by(Survey.created_at.desc(), Survey.id))).all()


async def get_survey(session: AsyncSession, survey_id: str) -> Survey:
    """One survey, or 404."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"Survey '{survey_id}' does not exist.")
    return survey


async def delete_survey(session: AsyncSession, survey_id: str) -> None:
    """Remove a survey and its answers (links already mailed then record nothing)."""
    await session.delete(await get_survey(session, survey_id))
    await session.execute(delete(SurveyResponse).where(SurveyResponse.survey_id == survey_id))


def spec_of(survey: Survey) -> dict[str, Any]:
    """What a signed answer link carries of its survey (tracking shows the page from it alone)."""
    spec = {"s": survey.id, "q": survey.kind, "x": survey.question, "m": int(survey.ask_comment)}
    return spec | ({"r": survey.product_id} if survey.product_id else {})


async def linked_surveys(session: AsyncSession, variants: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """survey id → link spec of every survey the variants' templates link to (unknown ids are left out)."""
    ids = {found for v in variants for found in _HELPER_CALL.findall(str(v.get("body") or ""))}
    if not ids:
        return {}
    return {s.id: spec_of(s) for s in await session.scalars(select(Survey).where(Survey.id.in_(ids)))}


async def latest_responses(session: AsyncSession, survey_id: str, *, limit: int) -> Sequence[SurveyResponse]:
    """A survey's answers, latest first."""
    query = select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)
    return (await session.scalars(query.order_by(SurveyResponse.answered_at.desc()).limit(limit))).all()


def _answer(event: TrackedEvent, kinds: dict[str, str]) -> dict[str, Any] | None:
    """The answer an event carries, or None when it names no known survey or its score is off the scale."""
    props = event.properties
    survey_id, score = str(props.get("survey_id") or ""), props.get("score")
    if survey_id not in kinds or isinstance(score, bool) or not isinstance(score, int | float) or score != int(score):
        return None
    if check_score(kinds[survey_id], int(score)):
        return None
    comment = props.get("comment", props.get("text"))
    comment = comment.strip()[:MAX_COMMENT] or None if isinstance(comment, str) else None
    return {"survey_id": survey_id, "score": int(score), "comment": comment, "answered_at": event.timestamp,
            "campaign_id": _short(props.get("campaign_id"), 32),
            "product_id": _short(props.get("product_id"), 200)}  # fmt: skip


def _short(value: Any, size: int) -> str | None:
    return str(value)[:size] if isinstance(value, str | int) and not isinstance(value, bool) and value else None


async def record_answers(session: AsyncSession, events: Sequence[TrackedEvent]) -> None:
    """Keep each person's latest answer per survey from a batch of tracked events; replays change nothing."""
    wanted = {e.dedup_key: e for e in events if e.event == SURVEY_RESPONDED}
    if not wanted:
        return
    ids = {str(e.properties.get("survey_id") or "") for e in wanted.values()}
    kinds: dict[str, str] = dict(
        (await session.execute(select(Survey.id, Survey.kind).where(Survey.id.in_(ids)))).all()
    )
    profiles = await profiles_of(session, wanted) | _signed_profiles(wanted)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for key, value in wanted.items():
        answer = _answer(value, kinds)
        if answer is None or key not in profiles:
            continue
        pair = (answer["survey_id"], profiles[key])
        answer |= {"profile_id": profiles[key], "message_id": key}
        if pair not in latest or _newer(answer, latest[pair]):
            latest[pair] = answer
    await _apply(session, latest)


def _signed_profiles(events: dict[str, TrackedEvent]) -> dict[str, str]:
    """message key → the profile a signed link named (tracking's own `email` source), even one never mailed."""
    found = {}
    for key, event in events.items():
        if event.sourceId == "email" and event.sourceTrusted and event.context.get("profileId"):
            found[key] = str(event.context["profileId"])[:32]
    return found


def _newer(answer: dict[str, Any], current: dict[str, Any]) -> bool:
    """Later event time wins; equal times are settled by message key, so every order of delivery agrees."""
    return bool((answer["answered_at"], answer["message_id"]) > (current["answered_at"], current["message_id"]))


async def _apply(session: AsyncSession, latest: dict[tuple[str, str], dict[str, Any]]) -> None:
    if not latest:
        return
    query = select(SurveyResponse).where(tuple_(SurveyResponse.survey_id, SurveyResponse.profile_id).in_(latest))
    existing = {(r.survey_id, r.profile_id): r for r in await session.scalars(query.with_for_update())}
    for pair, answer in latest.items():
        row = existing.get(pair)
        if row is None:
            session.add(SurveyResponse(**answer))
        elif _newer(answer, {"answered_at": row.answered_at, "message_id": row.message_id}):
            for name, value in answer.items():
                setattr(row, name, value)
    await session.flush()
