"""`/api/<service>/…` forwarded to the four services as the signed-in user, and the overview gathered from them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from services.console import audit, overview, proxy
from services.console.config import FORWARDED
from services.console.deps import UNSAFE, Console, CurrentUser, SignedIn, console_of
from services.console.schemas import OverviewRead
from shared.errors import DomainError, NotFound, PayloadTooLarge

router = APIRouter(prefix="/api", tags=["console"])
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def user_token(console: Console, me: SignedIn) -> str:
    """A short-lived token for this request's user, signed by the console."""
    return console.signer.sign(user_id=me.user_id, email=me.email, role=me.role)


@router.get("/overview", response_model=OverviewRead)
async def get_overview(me: CurrentUser, request: Request) -> OverviewRead:
    """Profiles, today's events, segments, campaigns and each service's pipeline, asked as you."""
    console = console_of(request)
    return OverviewRead.model_validate(await overview.overview(console.forwarder, user_token(console, me)))


def _body(request: Request, limit: int) -> AsyncIterator[bytes] | None:
    """The request body to stream on, or None when the request has none."""
    length = request.headers.get("content-length")
    if length is None and "transfer-encoding" not in request.headers:
        return None
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit:,} bytes.")
    return proxy.limited(request.stream(), limit)


async def forward(request: Request, me: SignedIn, service: str) -> Response:
    """Send the request on to a service as this user and stream its answer back; writes are audited with the
    status the service gave."""
    console = console_of(request)
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()  # as sent: ids with %2F stay whole
    path = raw_path.decode("latin-1").removeprefix(f"/api/{service}") or "/"
    query = request.scope["query_string"].decode("latin-1")
    headers = proxy.request_headers(request.headers, user_token(console, me))
    try:
        body = _body(request, console.forwarder.max_body)
        upstream = await console.forwarder.open(service, request.method, path + (f"?{query}" if query else ""),
                                                headers, body)  # fmt: skip
    except DomainError as exc:
        await _audit(request, me, service, path, exc.status_code)
        raise
    try:
        await _audit(request, me, service, path, upstream.status_code)
    except BaseException:
        await upstream.aclose()  # the answer is not passed on: free its connection
        raise
    headers = proxy.response_headers(upstream)
    if proxy.is_small(upstream):  # most answers: one read and one send beat a relay chunk by chunk
        return Response(await proxy.read_all(upstream), status_code=upstream.status_code, headers=headers)
    return StreamingResponse(proxy.relay(upstream), status_code=upstream.status_code, headers=headers)


async def _audit(request: Request, me: SignedIn, service: str, path: str, status: int) -> None:
    """Record a forwarded write, after the service answered, in a transaction of its own."""
    if request.method not in UNSAFE:
        return
    route, object_type, object_id = proxy.route_of(path)
    async with request.app.state.runtime.sessions() as session:
        audit.record(session, me.actor, f"{service}.{request.method.lower()} {route}"[:200],
                     object_type=object_type, object_id=object_id, detail={"status": status})  # fmt: skip
        await session.commit()


def _forwarder_for(service: str) -> Callable[[str, SignedIn, Request], Awaitable[Response]]:
    async def forward_to_service(path: str, me: CurrentUser, request: Request) -> Response:
        return await forward(request, me, service)

    forward_to_service.__doc__ = f"Forwarded to the {service} service as the signed-in user."
    return forward_to_service


for _service in FORWARDED:
    router.add_api_route(f"/{_service}/{{path:path}}", _forwarder_for(_service), methods=METHODS,
                         include_in_schema=False, name=f"forward_{_service}")  # fmt: skip


@router.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
async def unknown_api(path: str) -> None:
    """Anything else under /api is not a route."""
    raise NotFound(f"No API route /api/{path}.")
