"""Campaigns' HTTP API: campaigns, launch and pause, results, A/B winners, audience exports, segment goals."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response, status

from services.campaigns import exports, jobs, service
from services.campaigns.deps import CampaignDep, PeersDep
from services.campaigns.outbound import Network
from services.campaigns.performance import segments_performance
from services.campaigns.results import campaign_results, link_clicks, summary_of
from services.campaigns.results_schemas import CampaignResults
from services.campaigns.retention import retention_uplift
from services.campaigns.schemas import (
    AttributionModel,
    CampaignCreate,
    CampaignRead,
    CampaignSummary,
    CampaignUpdate,
    ExportPush,
    ExportRead,
    ExposurePage,
    LinkClicks,
    RetentionUplift,
    SegmentAudience,
    SegmentsPerformance,
)
from shared.auth import authorize
from shared.deps import SessionDep

Outcome = Literal["pending", "sent", "held_out", "skipped", "waiting", "failed", "unknown"]
router = APIRouter(prefix="/v1", tags=["campaigns"], dependencies=[Depends(authorize)])


def _start_after_commit(tasks: BackgroundTasks, request: Request, campaign_id: str) -> None:
    # Background tasks run after the response, i.e. after the commit; the runtime owns (and stops) the run.
    runtime = request.app.state.runtime

    async def start() -> None:
        runtime.spawn(jobs.run_campaign(runtime, campaign_id), f"campaign-{campaign_id}")

    tasks.add_task(start)


def _allowed_networks(request: Request) -> list[Network]:
    return list(request.app.state.settings.allowed_webhook_networks)


@router.post("/campaigns", response_model=CampaignRead, status_code=status.HTTP_201_CREATED)
async def create_campaign(body: CampaignCreate, session: SessionDep, request: Request) -> CampaignRead:
    """Create a draft campaign; every variant's templates must render against a sample profile within their time
    budget, and `webhook_url` must resolve to public addresses (else 422)."""
    fields, allowed = body.model_dump(mode="json"), _allowed_networks(request)
    return CampaignRead.model_validate(await service.create_campaign(session, fields, allowed_networks=allowed))


@router.get("/campaigns", response_model=list[CampaignRead])
async def list_campaigns(session: SessionDep) -> list[CampaignRead]:
    """Every campaign, newest first."""
    return [CampaignRead.model_validate(c) for c in await service.list_campaigns(session)]


@router.get("/campaigns/summary", response_model=list[CampaignSummary])
async def list_campaign_summaries(session: SessionDep) -> list[dict[str, Any]]:
    """Every campaign with its figures, newest first: sent, human opens, clicks, conversions, lift against the
    holdout (relative conversion rate, with its interval), last error."""
    return [summary_of(c, await campaign_results(session, c)) for c in await service.list_campaigns(session)]


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
async def get_campaign(campaign: CampaignDep) -> CampaignRead:
    """A campaign with its status and progress."""
    return CampaignRead.model_validate(campaign)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignRead)
async def update_campaign(
    campaign_id: str, body: CampaignUpdate, session: SessionDep, request: Request
) -> CampaignRead:
    """Change a draft, scheduled or paused campaign (templates and `webhook_url` checked as on create)."""
    changes, allowed = body.model_dump(mode="json", exclude_unset=True), _allowed_networks(request)
    campaign = await service.update_campaign(session, campaign_id, changes, allowed_networks=allowed)
    return CampaignRead.model_validate(campaign)


@router.post("/campaigns/{campaign_id}/launch", response_model=CampaignRead)
async def launch_campaign(
    campaign_id: str, session: SessionDep, tasks: BackgroundTasks, request: Request
) -> CampaignRead:
    """Send now, wait for the scheduled time, or start sending to each profile entering a target segment;
    a paused campaign resumes, sending nobody twice."""
    campaign = await service.launch(session, campaign_id)
    if campaign.status == "running":
        _start_after_commit(tasks, request, campaign.id)
    return CampaignRead.model_validate(campaign)


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignRead)
async def pause_campaign(campaign_id: str, session: SessionDep) -> CampaignRead:
    """Stop sending after the chunk in flight."""
    return CampaignRead.model_validate(await service.pause(session, campaign_id))


@router.post("/campaigns/{campaign_id}/winner", response_model=CampaignRead)
async def pick_winner(campaign_id: str, session: SessionDep, request: Request) -> CampaignRead:
    """End the A/B test now: the best variant on its metric goes to the rest of the audience."""
    campaign = await service.end_test(session, campaign_id)
    runtime = request.app.state.runtime
    runtime.spawn(jobs.pick_winner(runtime, campaign_id), f"winner-{campaign_id}")
    return CampaignRead.model_validate(campaign)


@router.get("/campaigns/{campaign_id}/results", response_model=CampaignResults, response_model_exclude_unset=True)
async def get_results(
    campaign: CampaignDep, session: SessionDep, by: Literal["variant", "segment"] = "variant", sequential: bool = False,
    attribution_model: AttributionModel | None = None,
    window_days: Annotated[int | None, Query(ge=1, le=90)] = None,
) -> dict[str, Any]:  # fmt: skip
    """Sent, delivered, human and machine opens, clicks, unsubscribes, conversions, revenue per variant (or target
    segment); lift against the holdout with 95% intervals and p-values; tests between variants; SRM check;
    conversions credited by the campaign's attribution model, or by `attribution_model` / `window_days` to compare."""
    chosen = {k: v for k, v in (("model", attribution_model), ("window_days", window_days)) if v is not None}
    return await campaign_results(session, campaign, by=by, sequential=sequential, attribution=chosen)


@router.get("/campaigns/{campaign_id}/retention", response_model=RetentionUplift)
async def get_retention_uplift(campaign: CampaignDep, session: SessionDep) -> dict[str, Any]:
    """Targeted vs held-out members who ordered within 30, 60 and 90 days of their send: shares, the difference with
    its 95% interval and p-value; each window says whether it has elapsed (figures only over members whose has)."""
    return await retention_uplift(session, campaign)


@router.get("/campaigns/{campaign_id}/links", response_model=list[LinkClicks])
async def get_link_clicks(campaign: CampaignDep, session: SessionDep) -> list[dict[str, Any]]:
    """Clicks per link of the campaign's mail, with how many people clicked each, most clicked first."""
    return await link_clicks(session, campaign.id)


@router.get("/campaigns/{campaign_id}/exposures", response_model=ExposurePage)
async def list_exposures(
    campaign_id: str, session: SessionDep, outcome: Outcome | None = None,
    cursor: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:  # fmt: skip
    """Who the campaign sent to, held out or skipped (with the reason), with cursor pagination."""
    rows = await service.exposures_page(session, campaign_id, outcome=outcome, after=cursor, limit=limit)
    items = [{"profile_id": r.profile_id, "outcome": r.outcome, "variant_id": r.variant_id, "reason": r.reason,
              "segment_id": r.segment_id, "at": r.at} for r in rows]  # fmt: skip
    return {"items": items, "next_cursor": rows[-1].id if len(rows) == limit else None}


@router.get("/campaigns/{campaign_id}/exports", response_model=list[ExportRead])
async def list_exports(campaign: CampaignDep, session: SessionDep) -> list[dict[str, Any]]:
    """A campaign's audience exports: size, added and removed since the one before, push status."""
    return [
        {
            "id": e.id,
            "created_at": e.created_at,
            "rows": len(e.rows),
            "added": e.added,
            "removed": len(e.removed),
            "pushed": e.pushed,
            "push_error": e.push_error,
        }
        for e in await exports.list_exports(session, campaign.id)
    ]


@router.post("/campaigns/{campaign_id}/exports/{export_id}/push", response_model=ExportPush)
async def push_export(campaign: CampaignDep, export_id: str, session: SessionDep, request: Request) -> dict[str, Any]:
    """Push a finished audience export to the campaign's webhook again; answers its new push status."""
    export = await exports.push_again(session, campaign, export_id, request.app.state.runtime.extras["http"])
    return {"id": export.id, "pushed": export.pushed, "push_error": export.push_error}


@router.get("/campaigns/{campaign_id}/exports/{export_id}.csv")
async def download_export(
    campaign_id: str,
    export_id: str,
    session: SessionDep,
    platform: Literal["google_ads", "meta"] = "google_ads",
    part: Literal["all", "added", "removed"] = "all",
) -> Response:
    """The export as a customer-list CSV of SHA-256 hashes in the platform's columns (all, added or removed)."""
    body = await exports.export_csv(session, campaign_id, export_id, platform, part)
    return Response(body, media_type="text/csv")


@router.get("/segments-performance", response_model=SegmentsPerformance)
async def get_segments_performance(session: SessionDep, peers: PeersDep) -> SegmentsPerformance:
    """Each segment with a goal: the measured rate of the campaigns that targeted it, against the goal."""
    return SegmentsPerformance.model_validate(await segments_performance(session, peers))


@router.get("/audiences/{segment_id}/size", response_model=SegmentAudience)
async def get_audience_size(segment_id: str, session: SessionDep) -> dict[str, int | str]:
    """How many profiles of a segment campaigns can target now."""
    return {"segment_id": segment_id, "size": await service.segment_size(session, segment_id)}
