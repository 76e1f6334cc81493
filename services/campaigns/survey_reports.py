"""Satisfaction reports of a survey: its CSAT, NPS or CES with the 95 % interval overall, by segment (current
members), campaign or product, over time, and before/after a date. The arithmetic is in `satisfaction`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any, Literal, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.merges import live_ids
from services.campaigns.models import SegmentMember, Survey, SurveyResponse
from services.campaigns.satisfaction import compare, score
from shared.db import utcnow
from shared.errors import Invalid

GroupBy = Literal["segment", "campaign", "product", "none"]
Interval = Literal["day", "week", "month"]
CHUNK = 500  # keeps IN lists well under every backend's parameter limit


class Answer(NamedTuple):
    score: int
    profile_id: str
    campaign_id: str | None
    product_id: str | None
    answered_at: datetime


async def _answers(session: AsyncSession, survey: Survey, start: datetime | None, end: datetime | None) -> list[Answer]:
    """The survey's answers in [start, end), each under the live person who gave it: a person who answered under two
    profiles since merged has one answer, the last (as if they had answered twice under one)."""
    columns = (SurveyResponse.score, SurveyResponse.profile_id, SurveyResponse.campaign_id,
               SurveyResponse.product_id, SurveyResponse.answered_at)  # fmt: skip
    rows = [
        Answer(*row) for row in await session.execute(select(*columns).where(SurveyResponse.survey_id == survey.id))
    ]
    live = await live_ids(session, (a.profile_id for a in rows))
    latest: dict[str, Answer] = {}
    for answer in sorted(rows, key=lambda a: a.answered_at):
        latest[live[answer.profile_id]] = answer._replace(profile_id=live[answer.profile_id])
    return [
        a for a in latest.values() if (start is None or a.answered_at >= start) and (end is None or a.answered_at < end)
    ]


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise Invalid("`from` must be before `to`.", fields=[{"field": "from", "reason": "not before `to`"}])


async def _segments_of(session: AsyncSession, profile_ids: Iterable[str]) -> dict[str, list[str]]:
    ids, found = sorted(set(profile_ids)), dict[str, list[str]]()
    for begin in range(0, len(ids), CHUNK):
        query = select(SegmentMember.profile_id, SegmentMember.segment_id).where(
            SegmentMember.profile_id.in_(ids[begin : begin + CHUNK])
        )
        for profile_id, segment_id in await session.execute(query):
            found.setdefault(profile_id, []).append(segment_id)
    return found


async def _groups(session: AsyncSession, kind: str, answers: list[Answer], by: GroupBy) -> list[dict[str, Any]]:
    """The figure per group (an answer of a person in two segments counts in both), largest groups first."""
    if by == "none":
        return []
    segments = await _segments_of(session, (a.profile_id for a in answers)) if by == "segment" else {}
    grouped: dict[str | None, list[int]] = {}
    for a in answers:
        keys = segments.get(a.profile_id, [None]) if by == "segment" else [getattr(a, f"{by}_id")]
        for key in keys:
            grouped.setdefault(key, []).append(a.score)
    ordered = sorted(grouped.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))
    return [{"key": key} | asdict(score(kind, scores)) for key, scores in ordered]


def period_of(at: datetime, interval: Interval) -> date:
    """The first day (UTC) of the day, ISO week or month an answer falls in."""
    day = at.date()
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if interval == "month" else day


def _trend(kind: str, answers: list[Answer], interval: Interval) -> list[dict[str, Any]]:
    periods: dict[date, list[int]] = {}
    for a in answers:
        periods.setdefault(period_of(a.answered_at, interval), []).append(a.score)
    return [{"period": p} | asdict(score(kind, periods[p])) for p in sorted(periods)]


async def survey_report(
    session: AsyncSession, survey: Survey, *, start: datetime | None, end: datetime | None, by: GroupBy,
    interval: Interval,
) -> dict[str, Any]:  # fmt: skip
    """The survey's figure overall, per group and per period, and when its last answer came."""
    _check_window(start, end)
    answers = await _answers(session, survey, start, end)
    return {
        "survey_id": survey.id, "kind": survey.kind, "from": start, "to": end, "by": by, "interval": interval,
        "total": asdict(score(survey.kind, [a.score for a in answers])),
        "groups": await _groups(session, survey.kind, answers, by), "trend": _trend(survey.kind, answers, interval),
        "last_answer_at": max((a.answered_at for a in answers), default=None), "computed_at": utcnow(),
    }  # fmt: skip


async def before_after(
    session: AsyncSession, survey: Survey, *, split: datetime, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """Answers before `split` against answers from `split` on: the difference, its interval and Welch's test."""
    _check_window(start, end)
    for name, bound, wrong in (("from", start, start and start >= split), ("to", end, end and end <= split)):
        if bound is not None and wrong:
            reason = "not before `split`" if name == "from" else "not after `split`"
            raise Invalid(f"`{name}` must leave answers on both sides of `split`.",
                          fields=[{"field": name, "reason": reason}])  # fmt: skip
    answers = await _answers(session, survey, start, end)
    before = [a.score for a in answers if a.answered_at < split]
    after = [a.score for a in answers if a.answered_at >= split]
    result = asdict(compare(survey.kind, before, after))
    return result | {"survey_id": survey.id, "kind": survey.kind, "split": split, "computed_at": utcnow()}
