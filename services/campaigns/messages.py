"""Personalised mail for one recipient: rendered templates, tracked links, open pixel, one-click unsubscribe.

The MIME message is written as bytes directly (multipart/alternative, quoted-printable UTF-8 parts, RFC 2047 for
non-ASCII headers): the stdlib's `EmailMessage` objects cost ~2 ms a mail, which capped sending below 200 per second."""

from __future__ import annotations

import binascii
import re
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from services.campaigns.templates import add_open_pixel, render, render_subject, rewrite_links
from shared.tokens import sign_token

_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class LinkSigner:
    """Builds tracking's signed open, click and unsubscribe URLs for one recipient of one variant."""

    tracking_url: str
    secret: str
    campaign_id: str
    variant_id: str
    profile_id: str
    test: bool = False  # a test mail: tracking records nothing its links are used for

    def url(self, kind: str, link: str | None = None) -> str:
        """The signed URL of an open (`o`), click (`c`, with its link) or unsubscribe (`u`)."""
        payload: dict[str, Any] = {"k": kind, "p": self.profile_id, "c": self.campaign_id, "v": self.variant_id}
        if link is not None:
            payload["l"] = link
        if self.test:
            payload["t"] = 1
        token = sign_token(payload, self.secret)
        return f"{self.tracking_url}/v1/{kind}/{token}" + (".gif" if kind == "o" else "")


@dataclass(frozen=True)
class Mail:
    """A message ready for SMTP: envelope sender and recipient, and the whole message as bytes."""

    sender: str
    to: str
    raw: bytes


@dataclass(frozen=True)
class Rendered:
    """A mail's parts as they will be sent: subject, HTML (tracked links, pixel), plain text, unsubscribe URL."""

    subject: str
    html: str
    text: str
    unsubscribe_url: str


def render_mail(variant: dict[str, Any], traits: dict[str, Any], links: LinkSigner) -> Rendered:
    """One variant rendered for one recipient (raises TemplateError if a template fails)."""
    unsubscribe = links.url("u")
    context = {**traits, "unsubscribe_url": unsubscribe}
    html = render(variant.get("body", ""), context, kind="html")
    html = rewrite_links(html, lambda link: link if link == unsubscribe else links.url("c", link))
    if unsubscribe not in html:  # every mail carries a visible way out, whatever its template says
        html += f'<p style="font-size:12px"><a href="{unsubscribe}">Unsubscribe</a></p>'
    html = add_open_pixel(html, links.url("o"))
    text = " ".join(_TAGS.sub(" ", html).split()) + f"\n\nUnsubscribe: {unsubscribe}\n"
    subject = render_subject(variant.get("subject", ""), context)
    return Rendered(subject, html, text, unsubscribe)


def compose(*, to: str, sender: str, variant: dict[str, Any], traits: dict[str, Any], links: LinkSigner) -> Mail:
    """The mail of one variant for one recipient (raises TemplateError if a template fails)."""
    mail = render_mail(variant, traits, links)
    subject = f"[Test] {mail.subject}" if links.test else mail.subject
    headers = {
        "From": _address(sender), "To": _address(to), "Subject": _header(subject),
        "Date": formatdate(usegmt=True), "Message-ID": f"<{uuid.uuid4().hex}@tessera.invalid>", "MIME-Version": "1.0",
        "List-Unsubscribe": f"<{mail.unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Tessera-Campaign": links.campaign_id, "X-Tessera-Variant": links.variant_id,
    }  # fmt: skip
    if links.test:
        headers["X-Tessera-Test"] = "1"
    return Mail(parseaddr(sender)[1], to, _multipart(headers, mail.text, mail.html))


def _header(value: str) -> str:
    """A header value: as is when ASCII, else RFC 2047 encoded words."""
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def _part(subtype: str, content: str) -> bytes:
    body = binascii.b2a_qp(content.replace("\r\n", "\n").encode(), istext=True).replace(b"\n", b"\r\n")
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
            .encode() + body)  # fmt: skip


def _multipart(headers: dict[str, str], text: str, html: str) -> bytes:
    boundary = f"=_tessera_{uuid.uuid4().hex}"
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head += f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
    parts = [f"--{boundary}\r\n".encode() + _part(subtype, content) + b"\r\n" for subtype, content in
             (("plain", text), ("html", html))]  # fmt: skip
    return head.encode() + b"".join(parts) + f"--{boundary}--\r\n".encode()
