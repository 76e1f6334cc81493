"""Email open pixel, click redirect and unsubscribe link, driven by HMAC-signed tokens."""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.tracking.deps import client_ip
from shared.bus import OutboundMessage
from shared.errors import BadRequest, RateLimited
from shared.events import EVENTS
from shared.tokens import TokenInvalid, verify_token

router = APIRouter(tags=["email"])
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# Mail privacy proxies and prefetchers open every image without a person reading the mail.
MACHINE_AGENTS = re.compile(r"GoogleImageProxy|ggpht\.com|YahooMailProxy|Outlook-iOS-Android|BingPreview", re.I)
APPLE_PRIVACY_NETWORK = ipaddress.ip_network("17.0.0.0/8")
NO_STORE = {"Cache-Control": "no-store, private"}
# The unsubscribe pages run no script and may not be framed: a framed button could be clicked by a trick.
PAGE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
STYLE = (
    "body{font:1.1rem/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;color:#1a1a1a;background:#fff}"
    "main{max-width:32rem;margin:auto}button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:.3rem;"
    "background:#1d4ed8;color:#fff;cursor:pointer}button:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}"
)


def html_page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
        f"<title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )


# No `action`: the form posts back to the very URL of the page, token included.
ASK_PAGE = html_page(
    "Unsubscribe",
    "<h1>Unsubscribe?</h1><p>Press the button to stop getting these emails.</p>"
    '<form method="post"><button type="submit">Unsubscribe</button></form>',
)
DONE_PAGE = html_page("Unsubscribed", "<h1>Unsubscribed</h1><p>You will not get these emails any more.</p>")


def link_payload(request: Request, token: str, kind: str) -> dict[str, Any]:
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
    address = _client_address(request)
    try:
        return bool(address) and ipaddress.ip_address(address) in APPLE_PRIVACY_NETWORK
    except ValueError:
        return False


def _client_address(request: Request) -> str:
    """The caller's address; behind a trusted proxy, the one it forwards."""
    return client_ip(request, request.app.state.runtime.extras["trusted_proxies"]) or ""


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


async def record_event(request: Request, name: str, payload: dict[str, Any], properties: dict[str, Any]) -> None:
    """Publish what a recipient did, except through the links of a test mail (`t` in the token): counted nowhere."""
    if not payload.get("t"):
        await _publish(request, _email_event(name, payload, properties))


async def _publish(request: Request, event: dict[str, Any]) -> None:
    message = OutboundMessage(EVENTS, event["anonymousId"], event)
    await request.app.state.runtime.extras["publisher"].publish([message])


def _wait(request: Request) -> int:
    """0 if the client's address may use a link now (taking a token), else the seconds to wait."""
    return int(request.app.state.runtime.extras["email_limiter"].retry_after(_client_address(request)))


def limit_per_address(request: Request) -> None:
    """429 once an address follows links faster than `email_rate_limit_per_second` allows."""
    wait = _wait(request)
    if wait:
        raise RateLimited("Too many requests from this address.", headers={"Retry-After": str(wait)})


@router.get("/v1/o/{token}.gif", include_in_schema=False)
async def open_pixel(token: str, request: Request) -> Response:
    """Record `Email Opened` and answer a 1×1 GIF; past the rate limit, the GIF alone."""
    # A 429 would show a broken image to a reader behind a busy proxy; the open is not worth that.
    if not _wait(request):
        payload = link_payload(request, token, "o")
        await record_event(request, "Email Opened", payload, {"machine_open": is_machine_open(request)})
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/v1/c/{token}", include_in_schema=False, dependencies=[Depends(limit_per_address)])
async def click_redirect(token: str, request: Request) -> RedirectResponse:
    """Record `Email Link Clicked` and redirect to the link signed into the token."""
    payload = link_payload(request, token, "c")
    link = payload.get("l")
    if not isinstance(link, str) or not re.match(r"^https?://", link):
        raise BadRequest("The link is not valid.")
    await record_event(request, "Email Link Clicked", payload, {"url": link})
    return RedirectResponse(link, status_code=302, headers=NO_STORE)


@router.get("/v1/u/{token}", include_in_schema=False, dependencies=[Depends(limit_per_address)])
async def ask_to_unsubscribe(token: str, request: Request) -> HTMLResponse:
    """A page whose button unsubscribes: mail scanners fetch links, only a person presses the button."""
    link_payload(request, token, "u")
    return HTMLResponse(ASK_PAGE, headers=PAGE_HEADERS)


@router.post("/v1/u/{token}", include_in_schema=False, dependencies=[Depends(limit_per_address)])
async def unsubscribe(token: str, request: Request) -> HTMLResponse:
    """Record `Unsubscribed`: the page's button, or a mail client's one-click POST (RFC 8058)."""
    payload = link_payload(request, token, "u")
    await record_event(request, "Unsubscribed", payload, {"channel": "email"})
    return HTMLResponse(DONE_PAGE, headers=PAGE_HEADERS)
