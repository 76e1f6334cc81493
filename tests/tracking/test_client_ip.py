"""The client address: X-Forwarded-For only from trusted proxies."""

import ipaddress

from starlette.requests import Request

from services.tracking.deps import client_ip

TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 5000)})


def test_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_ip(request("203.0.113.9", "198.51.100.1"), TRUSTED) == "203.0.113.9"


def test_trusted_proxy_chain_gives_the_first_untrusted_hop_from_the_right() -> None:
    # A client may forge the left part of the header; only hops our proxies appended count.
    assert client_ip(request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.5"), TRUSTED) == "198.51.100.7"


def test_trusted_proxy_without_header_is_the_client() -> None:
    assert client_ip(request("127.0.0.1"), TRUSTED) == "127.0.0.1"
