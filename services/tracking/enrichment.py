"""Enrichment of validated events: ids, clock-skew correction and clamping, trust, UTM, user agent, anonymised IP."""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ua_parser

from services.tracking.validation import parse_time

UTM_FIELDS = {
    "utm_source": "source",
    "utm_medium": "medium",
    "utm_campaign": "name",
    "utm_term": "term",
    "utm_content": "content",
}
# ua-parser's own crawler list marks most bots as device "Spider"; this catches tools it leaves out.
BOT_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|headless|lighthouse|pingdom|uptime|monitor|preview|scrapy|curl|wget|python-requests|"
    r"httpclient|okhttp|go-http-client|java/|facebookexternalhit|embedly|bingpreview",
    re.IGNORECASE,
)
# Context keys only tracking sets: the clamp flag, and the profile id only signed email links may name.
TRACKING_CONTEXT = ("timestampClamped", "timestampClampedFrom", "profileId")
DEFAULT_FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class RequestFacts:
    """What the HTTP request tells us about every event in it."""

    source_id: str
    received_at: datetime
    client_ip: str | None
    user_agent: str | None
    anonymize_ip: bool
    batch_sent_at: str | None = None
    source_trusted: bool = False

    @cached_property
    def received_at_iso(self) -> str:
        """`received_at` as ISO-8601, formatted once for every event of the request."""
        return self.received_at.isoformat()


def corrected_timestamp(event: dict[str, Any], received_at: datetime, batch_sent_at: str | None) -> datetime:
    """`receivedAt - (sentAt - originalTimestamp)`; the client's time alone when it sent no `sentAt`."""
    original_raw = event.get("originalTimestamp") or event.get("timestamp")
    sent_raw = event.get("sentAt") or batch_sent_at
    if original_raw is None:
        return received_at
    original = parse_time(original_raw, "timestamp")
    if sent_raw is None:
        return original
    try:
        return received_at - (parse_time(sent_raw, "sentAt") - original)
    except OverflowError:  # a skew that leaves the calendar corrects nothing: the client's own time stands
        return original


# A random prefix per process and a counter: unique ids without a system call per event.
_ID_PREFIX = f"tsr-{os.urandom(8).hex()}-"
_id_counter = itertools.count()


def next_message_id() -> str:
    """A new message id for an event that came without one."""
    return f"{_ID_PREFIX}{next(_id_counter)}"


def utm_campaign(url: str | None) -> dict[str, str]:
    """UTM parameters of a URL as a Segment `context.campaign` object."""
    if not url or not isinstance(url, str):
        return {}
    return dict(_utm_pairs(url[:2000]))


@lru_cache(maxsize=4096)  # the events of a batch mostly share their page URL
def _utm_pairs(url: str) -> tuple[tuple[str, str], ...]:
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return ()
    return tuple((name, query[utm][0]) for utm, name in UTM_FIELDS.items() if query.get(utm))


@lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str) -> dict[str, Any]:
    """Browser, OS, device type and bot flag of a user-agent string."""
    parsed = ua_parser.parse(user_agent)
    browser = parsed.user_agent
    os_ = parsed.os
    device = parsed.device
    is_bot = bool((device and device.family == "Spider") or BOT_PATTERN.search(user_agent))
    return {
        "browser": browser.family if browser else None,
        "browserVersion": ".".join(p for p in (browser.major, browser.minor) if p) if browser else None,
        "os": os_.family if os_ else None,
        "deviceType": _device_type(user_agent, device.family if device else None, is_bot),
        "isBot": is_bot,
    }


def _device_type(user_agent: str, family: str | None, is_bot: bool) -> str:
    if is_bot:
        return "bot"
    if family and "ipad" in family.lower() or re.search(r"tablet|ipad", user_agent, re.IGNORECASE):
        return "tablet"
    if re.search(r"mobi|iphone|android", user_agent, re.IGNORECASE):
        return "mobile"
    return "desktop"


def anonymize(ip: str) -> str:
    """Zero the host part: /24 for IPv4, /48 for IPv6."""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def enrich(
    event: dict[str, Any], facts: RequestFacts, *, future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE
) -> dict[str, Any]:
    """Add the fields tracking owns, over whatever the client sent in them; the event must already be valid."""
    context = {k: v for k, v in (event.get("context") or {}).items() if k not in TRACKING_CONTEXT}
    event["messageId"] = event.get("messageId") or next_message_id()
    event["sourceId"] = facts.source_id
    event["sourceTrusted"] = facts.source_trusted
    event["receivedAt"] = facts.received_at_iso
    event["originalTimestamp"] = event.get("originalTimestamp") or event.get("timestamp")
    event["timestamp"] = _event_time(event, facts, context, future_tolerance)
    event["sentAt"] = event.get("sentAt") or facts.batch_sent_at
    found_page = context.get("page")
    page: dict[str, Any] = found_page if isinstance(found_page, dict) else {}
    url = page.get("url") or (event.get("properties") or {}).get("url")
    campaign = {**utm_campaign(url), **(context.get("campaign") or {})}
    if campaign:
        context["campaign"] = campaign
    user_agent = context.get("userAgent") or facts.user_agent
    if isinstance(user_agent, str) and user_agent:
        context["userAgent"] = user_agent
        context["userAgentData"] = parse_user_agent(user_agent[:1000])
    ip = context.get("ip") if isinstance(context.get("ip"), str) else facts.client_ip
    if ip:
        context["ip"] = _safe_ip(ip, facts.anonymize_ip)
    event["context"] = context
    return event


def _event_time(event: dict[str, Any], facts: RequestFacts, context: dict[str, Any], tolerance: timedelta) -> str:
    """The corrected time; `receivedAt`, flagged in the context, when that is over `tolerance` in the future."""
    corrected = corrected_timestamp(event, facts.received_at, facts.batch_sent_at)
    # Only the future is clamped: imports and replays rightly carry far-past times.
    if corrected - facts.received_at <= tolerance:
        return corrected.isoformat()
    context["timestampClamped"] = True
    context["timestampClampedFrom"] = corrected.isoformat()
    return facts.received_at_iso


@lru_cache(maxsize=8192)  # every event of a request, and most requests of a visitor, share one address
def _safe_ip(ip: str, anonymize_ip: bool) -> str | None:
    try:
        return anonymize(ip) if anonymize_ip else str(ipaddress.ip_address(ip))
    except ValueError:
        return None
