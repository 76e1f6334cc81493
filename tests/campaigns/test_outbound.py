"""Outbound calls to marketers' URLs: the address policy, the name lookup, and a client that connects only to the
addresses it checked (webhook and audience pushes), against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from services.campaigns import exports, outbound
from services.campaigns.delivery import Recipient
from services.campaigns.models import Campaign
from services.campaigns.outbound_http import webhook_client
from tessera.broker import free_port

LOCAL = outbound.parse_networks(["127.0.0.0/8", "::1/128"])


def ip(text: str) -> outbound.IPAddress:
    return ipaddress.ip_address(text)


class TestRefusal:
    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("::1", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("fd12:3456::1", "private"),
            ("100.64.0.1", "private"),  # carrier-grade NAT
            ("169.254.1.1", "link-local"),
            ("fe80::1", "link-local"),
            ("169.254.169.254", "metadata"),
            ("fd00:ec2::254", "metadata"),
            ("100.100.100.200", "metadata"),
            ("168.63.129.16", "metadata"),  # Azure's, a public address
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
            ("192.0.2.10", "private"),  # documentation
            ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
            ("::ffff:169.254.169.254", "metadata"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
            ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
        ],
    )
    def test_addresses_inside_our_networks_are_refused(self, address: str, reason: str) -> None:
        found = outbound.refusal(ip(address))
        assert found is not None and reason in found

    @pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.215.14"])
    def test_public_addresses_are_allowed(self, address: str) -> None:
        assert outbound.refusal(ip(address)) is None

    @pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
    def test_allowed_networks_win(self, address: str) -> None:
        assert outbound.refusal(ip(address), LOCAL) is None

    def test_allowing_one_network_allows_nothing_else(self) -> None:
        assert outbound.refusal(ip("10.0.0.1"), LOCAL) is not None
        assert outbound.refusal(ip("169.254.169.254"), LOCAL) is not None

    def test_networks_are_parsed_from_cidrs(self) -> None:
        assert outbound.parse_networks(["10.0.0.0/8", "fd00::/8"]) == (
            ipaddress.ip_network("10.0.0.0/8"),
            ipaddress.ip_network("fd00::/8"),
        )


class TestVet:
    async def test_a_literal_address_needs_no_lookup(self) -> None:
        assert await outbound.vet("93.184.215.14", 443, ()) == [ip("93.184.215.14")]

    async def test_a_name_is_refused_when_any_of_its_addresses_is(self) -> None:
        async def two(host: str, port: int) -> list[outbound.IPAddress]:
            return [ip("93.184.215.14"), ip("10.0.0.7")]

        with pytest.raises(outbound.Refused, match="private"):
            await outbound.vet("mixed.example", 443, (), lookup=two)

    async def test_localhost_is_refused_unless_allowed(self) -> None:
        with pytest.raises(outbound.Refused, match="loopback"):
            await outbound.vet("localhost", 80, ())
        assert ip("127.0.0.1") in await outbound.vet("localhost", 80, LOCAL)

    async def test_a_name_that_does_not_resolve_is_refused(self) -> None:
        with pytest.raises(outbound.Refused, match="does not resolve"):
            await outbound.vet("nothing-here.invalid", 80, ())

    async def test_url_problem_names_the_reason_or_none(self) -> None:
        assert await outbound.url_problem("https://93.184.215.14/hook", ()) is None
        assert "loopback" in (await outbound.url_problem("http://[::ffff:127.0.0.1]:8002/", ()) or "")
        assert "metadata" in (await outbound.url_problem("http://169.254.169.254/latest/", LOCAL) or "")


class Receiver(BaseHTTPRequestHandler):
    """Answers 204 to every POST and remembers its Host header and body."""

    seen: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.headers["Host"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    """An HTTP server on 127.0.0.1 (the kind of address a webhook must not reach unless allowed); its port."""
    Receiver.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def campaign(url: str) -> Campaign:
    return Campaign(id="c1", channel="webhook", webhook_url=url)


RECIPIENT = Recipient(7, "p1", "ada@example.com", {}, {"id": "v1", "name": "A"}, "s1")


class TestWebhookClient:
    async def test_a_refused_address_is_never_connected_to_and_reported_unreachable(self, receiver: int) -> None:
        async with webhook_client(()) as http:
            started = time.monotonic()
            result = await exports.post_to_webhook(http, campaign(f"http://127.0.0.1:{receiver}/hook"), [RECIPIENT])
        assert result == {7: ("failed", "unreachable")} and Receiver.seen == []
        assert time.monotonic() - started < exports.BACKOFF_SECONDS  # a refusal is not retried

    async def test_an_allowed_network_is_reached(self, receiver: int) -> None:
        async with webhook_client(LOCAL) as http:
            ok = await exports.post_with_retries(http, f"http://127.0.0.1:{receiver}/hook", {"n": 1})
        assert ok == (True, "") and Receiver.seen == [(f"127.0.0.1:{receiver}", {"n": 1})]

    async def test_it_connects_to_the_address_it_checked_keeping_the_host_header(self, receiver: int) -> None:
        lookups: list[str] = []

        async def hooks_test(host: str, port: int) -> list[outbound.IPAddress]:
            lookups.append(host)  # a name the system resolver does not know: only this lookup can answer it
            return [ip("127.0.0.1")]

        async with webhook_client(LOCAL, lookup=hooks_test) as http:
            ok = await exports.post_with_retries(http, f"http://hooks.test:{receiver}/hook", {"n": 2})
        assert (
            ok == (True, "") and Receiver.seen == [(f"hooks.test:{receiver}", {"n": 2})] and lookups == ["hooks.test"]
        )

    async def test_a_name_resolving_to_a_refused_address_is_not_called(self, receiver: int) -> None:
        async def rebound(host: str, port: int) -> list[outbound.IPAddress]:
            return [ip("127.0.0.1")]

        async with webhook_client((), lookup=rebound) as http:
            assert await exports.post_with_retries(http, f"http://hooks.test:{receiver}/", {}) == (False, "unreachable")
        assert Receiver.seen == []

    async def test_a_failure_is_unreachable_without_address_port_or_exception_text(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(exports, "BACKOFF_SECONDS", 0.01)
        async with webhook_client(LOCAL) as http:
            result = await exports.post_with_retries(http, f"http://127.0.0.1:{free_port()}/hook", {})
        assert result == (False, "unreachable")
