"""Email open pixel, click redirect and unsubscribe link, driven by HMAC-signed tokens."""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from shared.bus import OutboundMessage
from shared.errors import BadRequest
from shared.events import EVENTS
from shared.tokens import TokenInvalid, verify_token

router = APIRouter(tags=["email"])
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# Mail privacy proxies and prefetchers open every image without a person reading the mail.
MACHINE_AGENTS = re.compile(r"GoogleImageProxy|ggpht\.com|YahooMailProxy|Outlook-iOS-Android|BingPreview", re.I)
APPLE_PRIVACY_NETWORK = ipaddress.ip_network("17.0.0.0/8")
NO_STORE = {"Cache-Control": "no-store, private"}


def _payload(request: Request, token: str, kind: str) -> dict[str, Any]:
    try:
        payload = verify_token(token, request.app.state.settings.link_secret.get_secret_value())
    except TokenInvalid:
        raise BadRequest("The link is not valid.") from None
    if payload.get("k") != kind or not payload.get("p"):
        raise BadRequest("The link is not valid.")
    return payload


def is_machine_open(request: Request) -> bool:
    """True for opens by privacy proxies and prefetchers rather than people."""
    agent = request.headers.get("user-agent", "")
    purpose = (request.headers.get("purpose") or request.headers.get("sec-purpose") or "").lower()
    if MACHINE_AGENTS.search(agent) or "prefetch" in purpose or request.headers.get("x-moz") == "prefetch":
        return True
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host) in APPLE_PRIVACY_NETWORK
    except ValueError:
        return False


def _email_event(name: str, payload: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    profile_id = str(payload["p"])
    return {
        "type": "track",
        "event": name,
        "messageId": f"tse-{uuid.uuid4()}",
        # Email events know the profile, not a client id: `context.profileId` names it directly.
        "anonymousId": f"profile:{profile_id}",
        "properties": {"campaign_id": payload.get("c"), "variant_id": payload.get("v"), **properties},
        "context": {"profileId": profile_id, "channel": "email"},
        "timestamp": now,
        "receivedAt": now,
        "sourceId": "email",
        "sourceTrusted": True,  # tracking itself saw the signed link: the one path that names a profile
        "traits": {},
    }


async def _publish(request: Request, event: dict[str, Any]) -> None:
    message = OutboundMessage(EVENTS, event["anonymousId"], event)
    await request.app.state.runtime.extras["publisher"].publish([message])


@router.get("/v1/o/{token}.gif", include_in_schema=False)
async def open_pixel(token: str, request: Request) -> Response:
    """Record `Email Opened` and answer a 1×1 GIF."""
    payload = _payload(request, token, "o")
    await _publish(request, _email_event("Email Opened", payload, {"machine_open": is_machine_open(request)}))
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/v1/c/{token}", include_in_schema=False)
async def click_redirect(token: str, request: Request) -> RedirectResponse:
    """Record `Email Link Clicked` and redirect to the link signed into the token."""
    payload = _payload(request, token, "c")
    link = payload.get("l")
    if not isinstance(link, str) or not re.match(r"^https?://", link):
        raise BadRequest("The link is not valid.")
    await _publish(request, _email_event("Email Link Clicked", payload, {"url": link}))
    return RedirectResponse(link, status_code=302, headers=NO_STORE)


@router.api_route("/v1/u/{token}", methods=["GET", "POST"], include_in_schema=False)
async def unsubscribe(token: str, request: Request) -> HTMLResponse:
    """Record `Unsubscribed` (one-click POST or the link in the mail)."""
    payload = _payload(request, token, "u")
    await _publish(request, _email_event("Unsubscribed", payload, {"channel": "email"}))
    return HTMLResponse("<!doctype html><title>Unsubscribed</title><p>You will not get these emails any more.</p>")
