"""The HTTP client of webhooks and audience pushes: each connection resolves its host once, checks every address
against the policy in `outbound`, and connects to those very addresses (no second lookup for a rebinding DNS server
to answer differently). TLS still verifies the host name, and the Host header is the URL's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

from services.campaigns import outbound

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class AddressRefused(httpcore.ConnectError):
    """The host of a URL resolves to an address outbound calls may not reach."""


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses `outbound.vet` let through."""

    def __init__(self, allowed: Sequence[outbound.Network], lookup: outbound.Lookup = outbound.lookup) -> None:
        self.allowed, self.lookup, self.inner = allowed, lookup, httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # fmt: skip
        """Resolve, check, then try each checked address in turn."""
        try:
            addresses = await outbound.vet(host, port, self.allowed, lookup=self.lookup)
        except outbound.Refused as exc:
            raise AddressRefused(exc.reason) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Never: a URL cannot name a socket file."""
        raise AddressRefused("unix sockets are not reachable")

    async def sleep(self, seconds: float) -> None:
        """As the wrapped backend."""
        await self.inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a CheckedBackend."""

    def __init__(self, backend: CheckedBackend) -> None:
        super().__init__()
        # httpx takes no network backend, so its pool is rebuilt with ours (the attribute every httpx release uses).
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=backend)


def webhook_client(
    allowed: Sequence[outbound.Network], *, lookup: outbound.Lookup = outbound.lookup
) -> httpx.AsyncClient:
    """A client whose every connection goes through the address policy; no proxy from the environment, no redirects."""
    transport = CheckedTransport(CheckedBackend(allowed, lookup))
    return httpx.AsyncClient(transport=transport, timeout=TIMEOUT, trust_env=False, follow_redirects=False)


def refused(exc: BaseException) -> bool:
    """Whether an httpx error comes from the address policy (not worth retrying)."""
    return isinstance(exc.__cause__, AddressRefused)
