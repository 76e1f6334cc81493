"""The hosted survey page behind signed answer links: GET shows the question (the score a mail's link named
already chosen), POST records `Survey Responded`. A GET records nothing, because mail scanners fetch links."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.tracking.email_api import PAGE_HEADERS, html_page, limit_per_address, link_payload, record_event
from shared.bodies import read_limited
from shared.errors import Invalid, field_error
from shared.events import SURVEY_RESPONDED, SURVEY_SCALES

router = APIRouter(tags=["email"])
MAX_FORM_BYTES = 16_384
MAX_COMMENT = 2000
PAGE_STYLE = (
    "<style>fieldset{border:0;padding:0;margin:1rem 0;display:flex;flex-wrap:wrap;gap:.3rem}"
    "label.s{display:inline-block;min-width:2.2rem;text-align:center;padding:.4rem;border:1px solid #1d4ed8;"
    "border-radius:.3rem}textarea{width:100%;font:inherit;margin:.5rem 0 1rem}</style>"
)
THANKS_PAGE = html_page("Thank you", "<h1>Thank you</h1><p>Your answer has been recorded.</p>")


def _survey(request: Request, token: str) -> dict[str, Any]:
    """The signed survey payload of a link (400 unless it is one)."""
    payload = link_payload(request, token, "s")
    if payload.get("q") not in SURVEY_SCALES or not payload.get("s"):
        raise Invalid("The link is not valid.", fields=[field_error("token", "not a survey link")])
    return payload


def _choice(score: int, chosen: Any) -> str:
    checked = " checked" if chosen == score else ""
    return f'<label class="s"><input type="radio" name="score" value="{score}" required{checked}> {score}</label>'


def ask_page(payload: dict[str, Any]) -> str:
    """The question, one radio button per score, and a comment box if the survey asks for one."""
    low, high = SURVEY_SCALES[payload["q"]]
    choices = "".join(_choice(n, payload.get("n")) for n in range(low, high + 1))
    comment = ('<label for="comment">Anything you would like to add? (optional)</label>'
               f'<textarea id="comment" name="comment" rows="4" maxlength="{MAX_COMMENT}"></textarea>'
               if payload.get("m") else "")  # fmt: skip
    legend = f"<legend>{low} = lowest, {high} = highest</legend>"
    body = (f"{PAGE_STYLE}<h1>{escape(str(payload.get('x') or 'Your opinion'))}</h1><form method=\"post\">"
            f"<fieldset>{legend}{choices}</fieldset>{comment}<button type=\"submit\">Send</button></form>")  # fmt: skip
    return html_page("Survey", body)


def _answer(form: dict[str, list[str]], payload: dict[str, Any]) -> tuple[int, str]:
    """The score and comment of a posted form (422 naming the field otherwise)."""
    low, high = SURVEY_SCALES[payload["q"]]
    raw = (form.get("score") or [""])[0].strip()
    reason = f"must be a whole number from {low} to {high}"
    if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
        raise Invalid(f"`score` {reason}.", fields=[field_error("score", reason)])
    comment = (form.get("comment") or [""])[0].strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid("The comment is too long.", fields=[field_error("comment", f"longer than {MAX_COMMENT}")])
    return int(raw), comment


async def _form(request: Request) -> dict[str, list[str]]:
    body = await read_limited(request, MAX_FORM_BYTES, f"Send at most {MAX_FORM_BYTES:,} bytes.")
    try:
        return parse_qs(body.decode(), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise Invalid("The form is not valid.", fields=[field_error("body", "not a form")]) from None


@router.get("/v1/s/{token}", include_in_schema=False, dependencies=[Depends(limit_per_address)])
async def show_survey(token: str, request: Request) -> HTMLResponse:
    """The survey page of a signed link; nothing is recorded until the person sends it."""
    return HTMLResponse(ask_page(_survey(request, token)), headers=PAGE_HEADERS)


@router.post("/v1/s/{token}", include_in_schema=False, dependencies=[Depends(limit_per_address)])
async def answer_survey(token: str, request: Request) -> HTMLResponse:
    """Record `Survey Responded` (score, survey id, kind, comment) for the person the link was signed for."""
    payload = _survey(request, token)
    score, comment = _answer(await _form(request), payload)
    properties = {"survey_id": str(payload["s"]), "kind": payload["q"], "score": score}
    properties |= {"text": comment} if comment else {}
    properties |= {"product_id": payload["r"]} if payload.get("r") else {}
    await record_event(request, SURVEY_RESPONDED, payload, properties)
    return HTMLResponse(THANKS_PAGE, headers=PAGE_HEADERS)
