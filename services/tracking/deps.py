"""Tracking's request helpers: the write key, the source behind it, the client address."""

from __future__ import annotations

import base64
import ipaddress
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.tracking.service import find_source
from shared.auth import hash_key
from shared.errors import Unauthorized


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a request needs to know about its source."""

    id: str
    anonymize_ip: bool
    trusted: bool = False


class SourceCache:
    """Write key → source, cached for a few seconds so ingest does not query per request."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float = 5.0) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[SourceInfo | None, float]] = {}

    async def resolve(self, write_key: str) -> SourceInfo | None:
        """The enabled source of a write key, or None."""
        digest = hash_key(write_key)
        hit = self._cache.get(digest)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        async with self._sessions() as session:
            source = await find_source(session, write_key)
        info = SourceInfo(source.id, source.anonymize_ip, source.trusted) if source and source.enabled else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (info, time.monotonic() + self._ttl)
        return info

    def clear(self) -> None:
        """Forget everything (after a source changed)."""
        self._cache.clear()


def write_key_of(request: Request, body: Any) -> str | None:
    """The write key from Basic auth, the body's `writeKey`, `X-Write-Key` or `?writeKey=`."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            user = base64.b64decode(header[6:].strip()).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            user = ""
        if user:
            return user
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str) and body["writeKey"]:
        return str(body["writeKey"])
    return request.headers.get("x-write-key") or request.query_params.get("writeKey") or None


async def source_for(request: Request, body: Any) -> SourceInfo:
    """The request's source, or 401."""
    key = write_key_of(request, body)
    if not key:
        raise Unauthorized("A write key is required (Basic auth user, writeKey, X-Write-Key or ?writeKey=).")
    source = await request.app.state.runtime.extras["sources"].resolve(key)
    if source is None:
        raise Unauthorized("The write key is unknown or its source is disabled.")
    return source


def client_ip(request: Request, trusted: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str | None:
    """The caller's address; `X-Forwarded-For` counts only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else None
    if not peer or not _is_trusted(peer, trusted):
        return peer
    forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
    for hop in reversed(forwarded):
        if not _is_trusted(hop, trusted):
            return hop
    return forwarded[0] if forwarded else peer


def _is_trusted(address: str, trusted: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
