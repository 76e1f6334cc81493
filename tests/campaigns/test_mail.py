"""Personalised mail and its SMTP delivery against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from services.campaigns.mailer import SmtpConfig, deliver
from services.campaigns.messages import LinkSigner, Mail, compose
from shared.tokens import verify_token
from tests.campaigns.smtp_sink import Sink, html_of, refuse_every_login, smtp_sink

SECRET = "test-secret"
VARIANT = {"id": "v1", "name": "A", "subject": "Hi {{ first_name | default('there') }}, {{ '{{ 7*7 }}' }}",
           "body": '<p>Hello {{ first_name | default("friend") }}</p><a href="https://shop.example/sale?x=1">Sale</a>'
                   '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'}  # fmt: skip


def signer(profile_id: str = "p1") -> LinkSigner:
    return LinkSigner("http://track.example", SECRET, "c1", "v1", profile_id)


def parsed(mail: Mail) -> EmailMessage:
    """The composed bytes as a mail client reads them."""
    message = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage) and message.defects == []
    return message


def token_of(url: str) -> dict[str, object]:
    return verify_token(url.rsplit("/", 1)[1].removesuffix(".gif"), SECRET)


class TestCompose:
    def test_personalises_and_tracks_every_link(self) -> None:
        message = parsed(compose(to="ada@example.com", sender="Shop <s@shop.example>", variant=VARIANT,
                                 traits={"first_name": "Ada"}, links=signer()))  # fmt: skip
        assert message["Subject"] == "Hi Ada, {{ 7*7 }}"
        html = html_of(message)
        assert "Hello Ada" in html and "https://shop.example/sale" not in html.split('href="')[1]
        click = re.search(r'href="(http://track\.example/v1/c/[^"]+)"', html)
        assert click and token_of(click.group(1)) == {"k": "c", "p": "p1", "c": "c1", "v": "v1",
                                                       "l": "https://shop.example/sale?x=1"}  # fmt: skip
        pixel = re.search(r'src="(http://track\.example/v1/o/[^"]+\.gif)"', html)
        assert pixel and token_of(pixel.group(1))["k"] == "o"

    def test_one_click_unsubscribe_header_and_link(self) -> None:
        message = parsed(
            compose(to="a@example.com", sender="s@shop.example", variant=VARIANT, traits={}, links=signer())
        )
        header = message["List-Unsubscribe"].strip("<>")
        assert token_of(header) == {"k": "u", "p": "p1", "c": "c1", "v": "v1"}
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Hello friend" in html_of(message) and message["Subject"].startswith("Hi there,")

    def test_a_template_without_an_unsubscribe_link_gets_one(self) -> None:
        variant = {"id": "v1", "name": "A", "subject": "x", "body": '<a href="https://shop.example/">Shop</a>'}
        message = parsed(compose(to="a@example.com", sender="s@x.example", variant=variant, traits={}, links=signer()))
        footer = re.search(r'href="(http://track\.example/v1/u/[^"]+)">Unsubscribe', html_of(message))
        assert footer and token_of(footer.group(1))["k"] == "u"

    def test_non_ascii_subjects_and_bodies_survive_encoding(self) -> None:
        variant = {
            "id": "v1",
            "name": "A",
            "subject": "Für {{ first_name }} — 🎁",
            "body": "<p>Grüße, {{ first_name }}</p>",
        }
        message = parsed(compose(to="z@example.com", sender="Café Ünïcode <s@x.example>", variant=variant,
                                 traits={"first_name": "Zoë"}, links=signer()))  # fmt: skip
        assert message["Subject"] == "Für Zoë — 🎁" and "Grüße, Zoë" in html_of(message)
        assert message["From"].addresses[0].display_name == "Café Ünïcode"

    def test_a_trait_cannot_inject_headers_or_template_code(self) -> None:
        traits = {"first_name": "Eve\r\nBcc: all@example.com {{ 7*7 }}"}
        message = parsed(
            compose(to="e@example.com", sender="s@shop.example", variant=VARIANT, traits=traits, links=signer())
        )
        assert message["Bcc"] is None and "49" not in message["Subject"]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with smtp_sink() as running:
        yield running


class TestDeliver:
    async def test_accepted_bounced_and_deferred(self, sink: tuple[Sink, int]) -> None:
        server, port = sink
        server.bounce.add("gone@example.com")
        server.defer.add("busy@example.com")
        addresses = ["a@example.com", "gone@example.com", "busy@example.com", "b@example.com"]
        messages = [(i, compose(to=a, sender="s@shop.example", variant=VARIANT, traits={}, links=signer(str(i))))
                    for i, a in enumerate(addresses)]  # fmt: skip
        results = {d.key: d for d in await deliver(SmtpConfig("127.0.0.1", port, concurrency=2), messages)}
        assert [results[i].outcome for i in range(4)] == ["sent", "bounced", "failed", "sent"]
        assert results[1].detail == "550 5.1.1" and results[2].detail == "451 4.3.0"  # no echoed address
        assert sorted(m["To"] for m in server.messages) == ["a@example.com", "b@example.com"]

    async def test_rate_limit_spreads_sends(self, sink: tuple[Sink, int]) -> None:
        _, port = sink
        messages = [(i, compose(to=f"r{i}@example.com", sender="s@x.example", variant=VARIANT, traits={}, links=signer()))
                    for i in range(10)]  # fmt: skip
        started = time.monotonic()
        await deliver(SmtpConfig("127.0.0.1", port, concurrency=5, rate_per_second=50), messages)
        assert time.monotonic() - started >= 0.17  # 10 sends at 50/s take at least 9 intervals of 20 ms


def mails(*addresses: str) -> list[tuple[int, Mail]]:
    return [(i, compose(to=a, sender="s@shop.example", variant=VARIANT, traits={}, links=signer(str(i))))
            for i, a in enumerate(addresses)]  # fmt: skip


class TestServerProblems:
    """Only a recipient's own refusal bounces it; a server that will not take our mail sends nothing and
    bounces nobody: every message comes back `unsent`, with a short reason for the campaign to pause on."""

    async def test_an_unreachable_server_sends_nothing_and_bounces_nobody(self) -> None:
        results = await deliver(SmtpConfig("127.0.0.1", 1, concurrency=2), mails("a@example.com", "b@example.com"))
        assert sorted((d.key, d.outcome, d.detail) for d in results) == [
            (0, "unsent", "the SMTP server could not be reached"), (1, "unsent", "the SMTP server could not be reached")]  # fmt: skip

    async def test_a_refused_login_sends_nothing_and_bounces_nobody(self) -> None:
        with smtp_sink(authenticator=refuse_every_login, auth_require_tls=False) as (server, port):
            config = SmtpConfig("127.0.0.1", port, username="tessera", password="wrong", concurrency=2)
            results = await deliver(config, mails(*(f"r{i}@example.com" for i in range(5))))
        assert {d.outcome for d in results} == {"unsent"} and len(results) == 5
        assert {d.detail for d in results} == {
            "the SMTP server refused the login (check the SMTP username and password)"
        }
        assert server.messages == []

    async def test_a_refused_sender_sends_nothing_and_bounces_nobody(self, sink: tuple[Sink, int]) -> None:
        server, port = sink
        server.refuse_sender = True
        results = await deliver(
            SmtpConfig("127.0.0.1", port, concurrency=3), mails(*(f"r{i}@example.com" for i in range(6)))
        )
        assert {(d.outcome, d.detail) for d in results} == {
            ("unsent", "the SMTP server refused the sender address (check mail_from)")
        }
        assert len(results) == 6 and server.messages == []

    async def test_a_refused_message_bounces_only_its_recipient(self, sink: tuple[Sink, int]) -> None:
        server, port = sink
        server.refuse_data.add("spam-trap@example.com")
        results = {d.key: d for d in await deliver(SmtpConfig("127.0.0.1", port, concurrency=1),
                                                   mails("a@example.com", "spam-trap@example.com", "b@example.com"))}  # fmt: skip
        assert [(results[i].outcome, results[i].detail) for i in range(3)] == [("sent", ""), ("bounced", "554 5.6.0"),
                                                                               ("sent", "")]  # fmt: skip
        assert sorted(m["To"] for m in server.messages) == ["a@example.com", "b@example.com"]

    async def test_a_connection_lost_while_the_message_was_taken_is_never_sent_again(
        self, sink: tuple[Sink, int]
    ) -> None:
        server, port = sink
        server.drop_data.add("lost@example.com")
        results = {d.key: d for d in await deliver(SmtpConfig("127.0.0.1", port, concurrency=1),
                                                   mails("lost@example.com", "after@example.com"))}  # fmt: skip
        assert (results[0].outcome, results[0].detail) == ("failed", "connection lost while sending")
        assert results[1].outcome == "sent"  # a new connection took the next one
        assert [m["To"] for m in server.messages] == ["lost@example.com", "after@example.com"]  # once each
