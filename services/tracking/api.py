"""Tracking's HTTP API: the Segment-compatible ingest endpoints, the tag and its settings document."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from services.tracking.body import decompress, parse_json
from services.tracking.deps import SourceInfo, client_ip, source_for
from services.tracking.enrichment import RequestFacts
from services.tracking.schemas import IngestResponse
from services.tracking.service import Prepared, prepare_events
from shared.bodies import read_limited
from shared.errors import BadRequest, PayloadTooLarge, RateLimited, field_error

router = APIRouter(tags=["ingest"])
TAG_FILE = Path(__file__).parent / "static" / "tag.js"
TYPES_BY_PATH = {
    "track": "track", "t": "track", "identify": "identify", "i": "identify", "page": "page", "p": "page",
    "screen": "screen", "s": "screen", "group": "group", "g": "group", "alias": "alias", "a": "alias",
}  # fmt: skip


def _facts(request: Request, source: SourceInfo, body: dict[str, Any]) -> RequestFacts:
    extras = request.app.state.runtime.extras
    sent_at = body.get("sentAt") if isinstance(body.get("sentAt"), str) else None
    return RequestFacts(
        source_id=source.id,
        received_at=datetime.now(UTC),
        client_ip=client_ip(request, extras["trusted_proxies"]),
        user_agent=request.headers.get("user-agent"),
        anonymize_ip=source.anonymize_ip,
        batch_sent_at=sent_at,
        source_trusted=source.trusted,
    )


def _events_of(body: Any, batch: bool, max_events: int) -> list[Any]:
    if not batch:
        return [body]
    events = body.get("batch") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise BadRequest("A batch needs a `batch` array.", fields=[field_error("batch", "must be an array")])
    if len(events) > max_events:
        raise PayloadTooLarge(f"A batch may hold at most {max_events} events; this one has {len(events)}.")
    return events


def _refusal(prepared: Prepared, batch: bool) -> BadRequest:
    fields = [
        field_error(f"batch[{r['index']}].{r['field']}" if batch else r["field"], r["reason"])
        for r in prepared.rejected
    ]
    first = prepared.rejected[0]
    return BadRequest(f"The event is not valid: {first['field']} {first['reason']}.", fields=fields)


async def ingest(request: Request, path_kind: str) -> IngestResponse:
    """Validate, enrich and durably publish the events of one request."""
    settings = request.app.state.settings
    extras = request.app.state.runtime.extras
    limit = settings.max_batch_bytes
    raw = await read_limited(request, limit, f"The request body is larger than the limit of {limit} bytes.")
    plain = decompress(raw, request.headers.get("content-encoding"), settings.max_batch_bytes)
    body = parse_json(plain)
    source = await source_for(request, body)
    wait = extras["limiter"].retry_after(source.id)
    if wait:
        raise RateLimited("Too many requests for this write key.", headers={"Retry-After": str(wait)})
    batch = path_kind in ("batch", "b")
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", fields=[field_error("body", "must be an object")])
    events = _events_of(body, batch, settings.max_batch_events)
    prepared = prepare_events(
        events, _facts(request, source, body), forced_type=TYPES_BY_PATH.get(path_kind), limits=extras["limits"],
        recent=extras["recent_ids"], body_bytes=len(plain),
    )  # fmt: skip
    try:
        await extras["publisher"].publish(prepared.messages)
    except Exception:
        for message_id in prepared.accepted_ids:
            extras["recent_ids"].forget(message_id)
        raise
    if prepared.rejected and (not batch or not prepared.accepted_ids and not prepared.duplicates):
        raise _refusal(prepared, batch)
    return IngestResponse(rejected=prepared.rejected or None)


def _register(kind: str) -> None:
    async def endpoint(request: Request) -> IngestResponse:
        return await ingest(request, kind)

    endpoint.__name__ = f"ingest_{kind}"
    endpoint.__doc__ = f"Segment-compatible `{kind}` call (write key via Basic auth, body, header or query)."
    router.add_api_route(
        f"/v1/{kind}", endpoint, methods=["POST"], response_model=IngestResponse, response_model_exclude_none=True
    )


for _kind in ("track", "identify", "page", "screen", "group", "alias", "batch", "t", "i", "p", "s", "g", "a", "b"):
    _register(_kind)


@router.get("/tag.js", include_in_schema=False)
async def get_tag() -> Response:
    """The website tag."""
    return Response(
        TAG_FILE.read_bytes(), media_type="application/javascript", headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/v1/projects/{write_key}/settings")
async def get_project_settings(write_key: str, request: Request) -> dict[str, Any]:
    """Settings document that lets Segment's analytics-next load with Tessera as its API host."""
    await source_for(request, {"writeKey": write_key})
    base = request.app.state.settings.public_url or str(request.base_url)
    scheme, _, host = base.rstrip("/").partition("://")
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": f"{host}/v1",
                "protocol": scheme,
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
                "maybeBundledConfigIds": {},
                "versionSettings": {"version": "4.4.7", "componentTypes": ["browser"]},
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }  # fmt: skip
