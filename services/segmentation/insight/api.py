"""Routes: why a profile is (not) in a segment; trait keys, values and event names seen by the replica."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.segmentation.freshness import measure
from services.segmentation.insight import service
from services.segmentation.insight.schemas import (
    ClvDistribution,
    EventNames,
    ExplainRead,
    MembershipChanges,
    RetentionRead,
    TopCustomer,
    TraitKeys,
    TraitValues,
)
from shared.auth import require_role
from shared.db import utcnow
from shared.deps import SessionDep
from shared.errors import Invalid, field_error

router = APIRouter(prefix="/v1", tags=["insight"], dependencies=[Depends(require_role("analyst"))])
Text = Annotated[str, Query(max_length=200)]


@router.get("/segments/{segment_id}/explain", response_model=ExplainRead)
async def explain_segment(segment_id: str, profile_id: Text, session: SessionDep) -> Any:
    """The rule tree evaluated for one profile: each node true or false, each leaf with the actual value and, for
    behaviour, the counts per day in the window; computed by the same predicates as real-time membership."""
    return await service.explain_membership(session, segment_id, profile_id, utcnow().date())


@router.get("/traits/keys", response_model=TraitKeys)
async def list_trait_keys(session: SessionDep, prefix: Text = "") -> Any:
    """Trait and computed-trait keys seen on profiles (a sample), most common first."""
    return await service.trait_keys(session, prefix)


@router.get("/traits/values", response_model=TraitValues)
async def list_trait_values(session: SessionDep, key: Text, prefix: Text = "") -> Any:
    """The most common values of one trait (a sample of profiles)."""
    return await service.trait_values(session, key, prefix)


@router.get("/events/names", response_model=EventNames)
async def list_event_names(session: SessionDep) -> Any:
    """Event names profiles did in the last 90 days (a sample), most common first."""
    return await service.event_names(session)


@router.get("/segment-changes", response_model=MembershipChanges)
async def list_membership_changes(
    session: SessionDep, segment_id: Text | None = None, since: datetime | None = None, cursor: Text | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:  # fmt: skip
    """Profiles entering and leaving segments (one segment, or all), newest first, with cursor paging."""
    now, before = utcnow(), _decode(cursor) if cursor else None
    items = await service.membership_changes(session, segment_id=segment_id, since=_aware(since), before=before,
                                             limit=limit)  # fmt: skip
    last = items[-1] if len(items) == limit else None
    return {"items": items, "next_cursor": _encode(last["at"], last["profile_id"]) if last else None, "as_of": now}


@router.get("/clv/distribution", response_model=ClvDistribution)
async def get_clv_distribution(session: SessionDep) -> Any:
    """Histograms of CLV and P(alive) over the customers the latest fit scored."""
    return await service.clv_distribution(session)


@router.get("/clv/customers", response_model=list[TopCustomer])
async def list_top_customers(session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 25) -> Any:
    """The customers with the highest CLV, with their scores."""
    return await service.top_customers(session, limit=limit)


@router.get("/retention", response_model=RetentionRead)
async def get_retention(
    session: SessionDep, request: Request, segment_id: str | None = None, as_of: date | None = None,
    churn_threshold: Annotated[float, Query(gt=0, lt=1)] = 0.3,
) -> Any:  # fmt: skip
    """Cohorts by first-order month with the share ordering again in each later month, the repeat-purchase rate, and
    churn (P(alive) of the latest CLV fit below `churn_threshold`); over everyone or one segment's members."""
    report = await service.retention_report(session, segment_id, as_of or utcnow().date(), churn_threshold)
    return report | {"freshness": await measure(request.app.state.runtime)}


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
