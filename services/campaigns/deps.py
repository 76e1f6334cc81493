"""Annotated dependencies of campaigns' routes: the campaign a path names (or 404) and the peer services' client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.campaigns import service
from services.campaigns.clients import PeerServices
from services.campaigns.models import Campaign
from shared.deps import SessionDep


async def _campaign(campaign_id: str, session: SessionDep) -> Campaign:
    """The campaign of the path's `campaign_id`, or 404."""
    return await service.get_campaign(session, campaign_id)


def _peers(request: Request) -> PeerServices:
    peers: PeerServices = request.app.state.runtime.extras["peers"]
    return peers


CampaignDep = Annotated[Campaign, Depends(_campaign)]
PeersDep = Annotated[PeerServices, Depends(_peers)]
