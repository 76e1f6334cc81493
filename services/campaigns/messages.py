"""Personalised mail for one recipient: rendered templates, tracked links, open pixel, one-click unsubscribe.

The MIME message is written as bytes directly (multipart/alternative, quoted-printable UTF-8 parts, RFC 2047 for
non-ASCII headers): the stdlib's `EmailMessage` objects cost ~2 ms a mail, which capped sending below 200 per second."""

from __future__ import annotations

import binascii
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from markupsafe import Markup, escape

from services.campaigns.satisfaction import SCALES
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
    surveys: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # id → surveys.spec_of, for survey links

    def url(self, kind: str, link: str | None = None) -> str:
        """The signed URL of an open (`o`), click (`c`, with its link) or unsubscribe (`u`)."""
        payload: dict[str, Any] = {"k": kind, "p": self.profile_id, "c": self.campaign_id, "v": self.variant_id}
        if link is not None:
            payload["l"] = link
        if self.test:
            payload["t"] = 1
        token = sign_token(payload, self.secret)
        return f"{self.tracking_url}/v1/{kind}/{token}" + (".gif" if kind == "o" else "")

    def survey_url(self, survey_id: str, score: int | None = None) -> str:
        """The signed URL of a survey's answer page for this recipient, with `score` chosen when given."""
        spec = self.surveys.get(str(survey_id))
        if spec is None:
            raise ValueError(f"survey {survey_id!r} does not exist")
        low, high = SCALES[spec["q"]]
        if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high):
            raise ValueError(f"score {score!r} is not on the survey's {low}–{high} scale")
        extra: dict[str, Any] = {"p": self.profile_id, "c": self.campaign_id, "v": self.variant_id}
        extra |= ({"n": score} if score is not None else {}) | ({"t": 1} if self.test else {})
        return survey_link(self.tracking_url, self.secret, spec, extra)

    def survey_links(self, survey_id: str) -> Markup:
        """One answer link per score of the survey, in a row (the `survey_links` template helper)."""
        spec = self.surveys.get(str(survey_id))
        low, high = SCALES[spec["q"]] if spec else (0, -1)
        cells = "".join(
            f'<td style="padding:2px"><a href="{escape(self.survey_url(survey_id, n))}" style="display:inline-block;'
            f"min-width:28px;padding:6px;border:1px solid #1d4ed8;border-radius:4px;text-align:center;"
            f'text-decoration:none;color:#1d4ed8">{n}</a></td>'
            for n in range(low, high + 1)
        ) or self.survey_url(survey_id)  # an unknown survey raises
        return Markup(f'<table role="presentation" class="survey"><tr>{cells}</tr></table>')


def survey_link(tracking_url: str, secret: str, spec: Mapping[str, Any], extra: Mapping[str, Any]) -> str:
    """tracking's signed survey page URL (`k` = "s") for a survey spec and who answers (`p`, `c`, `v`, `n`, `t`)."""
    return f"{tracking_url}/v1/s/{sign_token({'k': 's', **spec, **extra}, secret)}"


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
    context = {**traits, "unsubscribe_url": unsubscribe, "survey_url": links.survey_url,
               "survey_links": links.survey_links}  # fmt: skip
    html = render(variant.get("body", ""), context, kind="html")
    own = (unsubscribe, f"{links.tracking_url}/v1/s/")  # links that are already tracking's: not redirected
    html = rewrite_links(html, lambda link: link if link.startswith(own) else links.url("c", link))
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
