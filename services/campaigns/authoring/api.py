"""Routes for writing a campaign: live audience size, pre-flight, preview for a member, test mail to oneself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, status

from services.campaigns.authoring import service as authoring
from services.campaigns.authoring.schemas import (
    AudienceQuery,
    AudienceSize,
    Preflight,
    PreviewRead,
    PreviewRequest,
    TestSend,
    TestSent,
)  # fmt: skip
from services.campaigns.deps import CampaignDep, PeersDep
from services.campaigns.jobs import collect_audience
from services.campaigns.surveys import linked_surveys
from shared.auth import authorize, require_role
from shared.deps import SessionDep
from shared.errors import Invalid, field_error

router = APIRouter(prefix="/v1", tags=["authoring"], dependencies=[Depends(authorize)])
# Reading what a campaign would do is a POST that changes nothing: analysts may ask.
read_only_router = APIRouter(prefix="/v1", tags=["authoring"], dependencies=[Depends(require_role("analyst"))])


@read_only_router.post("/campaigns/audience-size", response_model=AudienceSize)
async def get_audience_size(body: AudienceQuery, session: SessionDep) -> Any:
    """How many profiles are in a target segment and in no exclusion segment now (campaigns' membership copy)."""
    return {"size": await authoring.audience_size(session, body.target_segments, body.exclude_segments)}


@router.get("/campaigns/{campaign_id}/preflight", response_model=Preflight)
async def get_preflight(campaign: CampaignDep, session: SessionDep, peers: PeersDep) -> Any:
    """What launching now would do: skipped (by reason), held out, waiting, each variant — the launch's own numbers."""
    audience = await collect_audience(session, campaign)
    return await authoring.preflight(session, campaign, audience, peers)


@read_only_router.post("/campaigns/preview", response_model=PreviewRead)
async def preview_mail(body: PreviewRequest, session: SessionDep, peers: PeersDep, request: Request) -> Any:
    """A subject and body rendered for one member as they will be sent (tracked links, pixel, unsubscribe); the
    links are marked as a test, so following them records nothing. 422 names the template and line that fail."""
    profile = authoring.only_profile(await peers.profiles([body.profile_id]), body.profile_id)
    variant = {"subject": body.subject, "body": body.body}
    surveys = await linked_surveys(session, [variant])
    rendered = await authoring.render_preview(
        request.app.state.settings, body.campaign_id or "preview", variant, profile, surveys
    )
    return {"profile_id": profile["id"], **rendered.__dict__}


@router.post("/campaigns/{campaign_id}/test-send", response_model=TestSent, status_code=status.HTTP_202_ACCEPTED)
async def send_test_mail(
    campaign: CampaignDep, body: TestSend, session: SessionDep, peers: PeersDep, request: Request
) -> Any:
    """Mail one variant, rendered for a member, to an address (yours): subject marked [Test], counted nowhere."""
    variant = next((v for v in campaign.variants if v["id"] == body.variant_id), None)
    if variant is None:
        raise Invalid("The campaign has no such variant.", fields=[field_error("variant_id", "unknown variant")])
    profile = authoring.only_profile(await peers.profiles([body.profile_id]), body.profile_id)
    surveys = await linked_surveys(session, [variant])
    await authoring.send_test(request.app.state.settings, campaign.id, variant, profile, str(body.to), surveys)
    return {"sent_to": str(body.to)}
