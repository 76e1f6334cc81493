"""Personalised mail for one recipient: rendered templates, tracked links, open pixel, one-click unsubscribe."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
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

    def url(self, kind: str, link: str | None = None) -> str:
        """The signed URL of an open (`o`), click (`c`, with its link) or unsubscribe (`u`)."""
        payload: dict[str, Any] = {"k": kind, "p": self.profile_id, "c": self.campaign_id, "v": self.variant_id}
        if link is not None:
            payload["l"] = link
        token = sign_token(payload, self.secret)
        return f"{self.tracking_url}/v1/{kind}/{token}" + (".gif" if kind == "o" else "")


def compose(
    *, to: str, sender: str, variant: dict[str, Any], traits: dict[str, Any], links: LinkSigner
) -> EmailMessage:
    """The mail of one variant for one recipient (raises TemplateError if a template fails)."""
    unsubscribe = links.url("u")
    context = {**traits, "unsubscribe_url": unsubscribe}
    html = render(variant.get("body", ""), context, kind="html")
    html = rewrite_links(html, lambda link: link if link == unsubscribe else links.url("c", link))
    if unsubscribe not in html:  # every mail carries a visible way out, whatever its template says
        html += f'<p style="font-size:12px"><a href="{unsubscribe}">Unsubscribe</a></p>'
    html = add_open_pixel(html, links.url("o"))
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = render_subject(variant.get("subject", ""), context)
    message["Message-ID"] = make_msgid(domain="tessera.invalid")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058 one-click
    message["X-Tessera-Campaign"], message["X-Tessera-Variant"] = links.campaign_id, links.variant_id
    message.set_content(" ".join(_TAGS.sub(" ", html).split()) + f"\n\nUnsubscribe: {unsubscribe}\n")
    message.add_alternative(html, subtype="html")
    return message
