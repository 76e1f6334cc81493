"""Forwarding to the four services: streamed both ways, with timeouts and a body limit; the browser's cookie never
goes along (the console adds the user's token), and the services' answers, errors included, come back as they are."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import structlog

from services.console.exceptions import BadGateway, GatewayTimeout
from shared.errors import PayloadTooLarge

log = structlog.get_logger(__name__)

# What a browser's request may pass on (everything else, cookies and hop-by-hop headers included, stays here).
REQUEST_HEADERS = frozenset({"accept", "accept-language", "content-type", "content-encoding", "content-length",
                             "if-none-match", "if-modified-since", "range"})  # fmt: skip
RESPONSE_HEADERS = frozenset({"content-type", "content-disposition", "content-length", "content-encoding",
                              "content-range", "accept-ranges", "retry-after", "cache-control", "etag",
                              "last-modified"})  # fmt: skip
ID = re.compile(
    r"^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|\d+)$"
)


class BodyTooLarge(Exception):
    """The request body grew past the limit while it was being forwarded."""


class ServiceProblem(Exception):
    """A service did not give a usable answer; the message says why, for people."""


class Forwarder:
    """One HTTP client per service."""

    def __init__(self, urls: dict[str, str], *, connect_timeout: float, read_timeout: float, max_body: int) -> None:
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._clients = {name: httpx.AsyncClient(base_url=url, timeout=timeout) for name, url in urls.items()}
        self.max_body = max_body

    async def open(
        self, service: str, method: str, target: str, headers: dict[str, str], body: AsyncIterator[bytes] | None
    ) -> httpx.Response:
        """Send a request and return the answer once its headers arrived (the body still to be read)."""
        client = self._clients[service]
        request = client.build_request(method, target, headers=headers, content=body)
        try:
            return await client.send(request, stream=True)
        except BodyTooLarge as exc:
            raise PayloadTooLarge(f"The body is larger than {self.max_body:,} bytes.") from exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise BadGateway(f"The {service} service is not answering.") from exc
        except httpx.TimeoutException as exc:
            raise GatewayTimeout(f"The {service} service did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise BadGateway(f"The {service} service broke off the answer ({type(exc).__name__}).") from exc

    async def get_json(self, service: str, target: str, headers: dict[str, str]) -> Any:
        """GET a JSON document, or `ServiceProblem`."""
        try:
            response = await self._clients[service].get(target, headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceProblem(f"did not answer ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise ServiceProblem(f"answered {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceProblem("answered something that is not JSON") from exc

    async def aclose(self) -> None:
        """Close every client."""
        for client in self._clients.values():
            await client.aclose()


def request_headers(headers: Any, token: str) -> dict[str, str]:
    """The headers a forwarded request carries: the allowed ones and the user's token."""
    kept = {name: value for name, value in headers.items() if name.lower() in REQUEST_HEADERS}
    return kept | {"authorization": f"Bearer {token}"}


def response_headers(upstream: httpx.Response) -> dict[str, str]:
    """The headers of a service's answer that go back to the browser."""
    return {name: value for name, value in upstream.headers.items() if name.lower() in RESPONSE_HEADERS}


async def limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The request body, chunk by chunk, ending in `BodyTooLarge` past `limit` bytes."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        if chunk:
            yield chunk


SMALL_ANSWER = 256 * 1024  # bytes: answers up to this size are read whole before they are passed on


def is_small(upstream: httpx.Response) -> bool:
    """An answer that declares a length of at most `SMALL_ANSWER` bytes."""
    length = upstream.headers.get("content-length", "")
    return length.isdigit() and int(length) <= SMALL_ANSWER


async def read_all(upstream: httpx.Response) -> bytes:
    """A (small) answer's body as it came, its connection freed; a break in the middle is a 502."""
    try:
        return b"".join([chunk async for chunk in upstream.aiter_raw()])
    except httpx.HTTPError as exc:
        raise BadGateway(f"A service broke off its answer ({type(exc).__name__}).") from exc
    finally:
        await upstream.aclose()


async def relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
    """A service's answer body as it arrives; a break in the middle ends the answer (the status is sent already)."""
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        log.warning("forwarded_answer_broke_off", error=type(exc).__name__)
    finally:
        await upstream.aclose()


def route_of(path: str) -> tuple[str, str | None, str | None]:
    """A path's route with its ids replaced by `{id}`, and the object it names: the collection before the first id
    and that id (`/v1/profiles/ab12…/consent` → `/v1/profiles/{id}/consent`, `profiles`, `ab12…`)."""
    parts, route = path.split("/"), []
    object_type: str | None = None
    object_id: str | None = None
    for index, part in enumerate(parts):
        stem, dot, extension = part.partition(".")
        if index and ID.match(stem):
            route.append("{id}" + dot + extension)
            if object_id is None:
                object_type, object_id = parts[index - 1] or None, stem
        else:
            route.append(part)
            object_type = part if object_id is None and part else object_type
    return "/".join(route), object_type, object_id
