"""Which addresses calls to marketers' URLs (webhooks, audience pushes) may reach: the public internet, plus the
networks an operator allows. Refused: loopback, private, link-local, multicast, unspecified, reserved and cloud
metadata addresses, also when wrapped in IPv6 (IPv4-mapped, NAT64, 6to4).

`refusal` is pure; `vet` adds the one name lookup (off the event loop) whose answer the caller must connect to."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import urlsplit

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Lookup = Callable[[str, int], Awaitable[list[IPAddress]]]

LOOKUP_SECONDS = 5.0
# Instance metadata and platform endpoints (AWS IPv4 and IPv6, ECS, Alibaba, Azure's public wire server).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "168.63.129.16")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CLASSES = (  # checked in this order; the first that matches names the refusal
    ("loopback", "is_loopback"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("unspecified", "is_unspecified"),
    ("reserved", "is_reserved"),
    ("private", "is_private"),
)


class Refused(Exception):
    """An outbound call that may not be made, with the reason (safe to show: it names no address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_networks(cidrs: Iterable[str | Network]) -> tuple[Network, ...]:
    """Networks from CIDR strings (host bits may be set)."""
    return tuple(ipaddress.ip_network(c, strict=False) if isinstance(c, str) else c for c in cidrs)


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64 or 6to4), if any."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    return IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None


def refusal(address: IPAddress, allowed: Sequence[Network] = ()) -> str | None:
    """Why an outbound call may not go to `address` ("a loopback address" …); None when it may."""
    inner = embedded_ipv4(address)
    if any(a in network for a in (address, inner) if a for network in allowed):
        return None
    target = inner or address  # a wrapped IPv4 address is where the packets go
    if target in METADATA:
        return "a cloud metadata address"
    for name, test in _CLASSES:
        if getattr(target, test):
            return f"a {name} address"
    return None if target.is_global else "a private address"


async def lookup(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (the system resolver, in a thread); [] when it does not resolve."""
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        return []
    # A scoped IPv6 address ("fe80::1%eth0") keeps its scope out of the comparison.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


async def vet(host: str, port: int, allowed: Sequence[Network], *, lookup: Lookup = lookup) -> list[IPAddress]:
    """The addresses to connect to for `host`: every one it resolves to must be allowed, else Refused."""
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        addresses = await lookup(host, port)
    if not addresses:
        raise Refused("the host name does not resolve")
    for address in addresses:
        if reason := refusal(address, allowed):
            raise Refused(f"it points to {reason}")
    return addresses


async def url_problem(url: str, allowed: Sequence[Network], *, lookup: Lookup = lookup) -> str | None:
    """Why a webhook URL may not be saved (None: it may), resolving its host now."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        await vet(parts.hostname or "", port, allowed, lookup=lookup)
    except Refused as exc:
        return exc.reason
    return None
