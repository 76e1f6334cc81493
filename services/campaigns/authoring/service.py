"""What a marketer needs while writing a campaign: the live audience size, a pre-flight of who the launch will skip,
hold out or send each variant to (the launch's own functions on the same data), a preview rendered for a real member,
and a test mail to oneself that is counted nowhere."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.delivery import arm_of, exposed
from services.campaigns.eligibility import skip_reasons
from services.campaigns.mailer import SmtpConfig, deliver
from services.campaigns.messages import LinkSigner, Rendered, compose, render_mail
from services.campaigns.models import Campaign, SegmentMember
from services.campaigns.templates import TemplateError, render_subject
from shared.db import utcnow
from shared.errors import Invalid, NotFound, Unavailable, field_error

if TYPE_CHECKING:  # the HTTP client is the caller's; domain code only calls it
    from services.campaigns.clients import PeerServices

PROFILES_PER_CALL = 1000  # profiles' batch read takes at most this many ids


async def audience_size(session: AsyncSession, targets: Sequence[str], excludes: Sequence[str]) -> int:
    """How many profiles are in a target segment and in no exclusion segment, from campaigns' membership copy."""
    if not targets:
        return 0
    excluded = select(SegmentMember.profile_id).where(SegmentMember.segment_id.in_(list(excludes)))
    query = select(func.count(distinct(SegmentMember.profile_id))).where(SegmentMember.segment_id.in_(list(targets)))
    if excludes:
        query = query.where(SegmentMember.profile_id.not_in(excluded))
    return int(await session.scalar(query) or 0)


async def preflight(
    session: AsyncSession, campaign: Campaign, audience: dict[str, str], peers: PeerServices
) -> dict[str, Any]:
    """What a launch now would do with each profile of the audience: skip (and why), hold out, keep waiting for an
    A/B winner, or send which variant — by the same eligibility and assignment functions the launch runs."""
    done = await exposed(session, campaign.id)
    todo = sorted(set(audience) - done)
    skipped, arms = Counter[str](), Counter[str]()
    now = utcnow()
    for start in range(0, len(todo), PROFILES_PER_CALL):
        profiles = await peers.profiles(todo[start : start + PROFILES_PER_CALL])
        reasons = await skip_reasons(session, campaign, profiles, now)
        for profile in profiles:
            reason = reasons[profile["id"]]
            outcome, variant_id = ("skipped", None) if reason else arm_of(campaign, profile["id"])
            if reason:
                skipped[reason] += 1
            else:
                arms[variant_id or outcome] += 1
        missing = len(todo[start : start + PROFILES_PER_CALL]) - len(profiles)
        if missing:
            skipped["profile_gone"] += missing
    variants = [
        {"variant_id": v["id"], "name": v["name"], "recipients": arms.get(v["id"], 0)} for v in campaign.variants
    ]
    return {"audience": len(audience), "already_exposed": len(done & set(audience)), "skipped": dict(skipped),
            "held_out": arms.get("held_out", 0), "waiting": arms.get("waiting", 0), "variants": variants,
            "sendable": sum(v["recipients"] for v in variants), "checked_at": now}  # fmt: skip


def _links(
    settings: Any, campaign_id: str, variant: dict[str, Any], profile_id: str, surveys: dict[str, dict[str, Any]]
) -> LinkSigner:
    """Links signed like a real send's, marked as a test: opening or clicking them records nothing."""
    secret = settings.link_secret.get_secret_value()
    variant_id = str(variant.get("id") or "preview")
    return LinkSigner(settings.tracking_public_url.rstrip("/"), secret, campaign_id, variant_id, profile_id, test=True,
                      surveys=surveys)  # fmt: skip


async def render_preview(
    settings: Any, campaign_id: str, variant: dict[str, Any], profile: dict[str, Any],
    surveys: dict[str, dict[str, Any]],
) -> Rendered:  # fmt: skip
    """A variant rendered for one member as it will be sent (off the event loop: templates have a time budget);
    422 naming `subject` or `body` and the line when a template fails."""
    links = _links(settings, campaign_id, variant, profile["id"], surveys)
    try:
        return await asyncio.to_thread(render_mail, variant, profile.get("traits", {}), links)
    except TemplateError as exc:
        raise _template_invalid(exc, variant, profile.get("traits", {})) from None


async def send_test(
    settings: Any, campaign_id: str, variant: dict[str, Any], profile: dict[str, Any], to: str,
    surveys: dict[str, dict[str, Any]],
) -> None:  # fmt: skip
    """Mail the variant as rendered for `profile` to `to`, subject marked [Test], links recording nothing."""
    links = _links(settings, campaign_id, variant, profile["id"], surveys)
    sender, traits = settings.mail_from, profile.get("traits", {})
    try:
        mail = await asyncio.to_thread(
            lambda: compose(to=to, sender=sender, variant=variant, traits=traits, links=links)
        )
    except TemplateError as exc:
        raise _template_invalid(exc, variant, profile.get("traits", {})) from None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    config = SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_username, password,
                        settings.smtp_starttls, 1, 0.0)  # fmt: skip
    [result] = await deliver(config, [(0, mail)])
    if result.outcome != "sent":
        raise Unavailable(f"The mail server did not take the test mail ({result.detail[:60] or result.outcome}).")


def _template_invalid(exc: TemplateError, variant: dict[str, Any], traits: dict[str, Any]) -> Invalid:
    """422 naming the template that failed (the subject is rendered on its own to tell which) and its line."""
    try:
        render_subject(variant.get("subject", ""), traits)
        field = "body"
    except TemplateError:
        field = "subject"
    where = f" (line {exc.line})" if exc.line else ""
    return Invalid(f"The {field} template does not render{where}: {exc.message}",
                   fields=[field_error(field, exc.message + where)])  # fmt: skip


def only_profile(profiles: list[dict[str, Any]], profile_id: str) -> dict[str, Any]:
    """The one profile a batch read for `profile_id` returned (its survivor if it was merged), or 404."""
    if not profiles:
        raise NotFound(f"Profile '{profile_id}' does not exist.")
    return profiles[0]
