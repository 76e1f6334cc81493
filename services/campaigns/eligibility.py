"""Who a campaign may reach on its channel: the profile's address, its consent, bounces and the frequency cap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.audiences import normalise_email, sha256_hex
from services.campaigns.models import Campaign, Exposure, Suppression

CONSENT_OF_CHANNEL = {"email": "email", "audience_export": "ads", "webhook": None}


def phone_of(profile: dict[str, Any]) -> str | None:
    """The profile's phone number as given (an identity, else a trait); normalised when hashed."""
    for identity in profile.get("identities", []):
        if identity["kind"] == "phone":
            return str(identity["value"])
    trait = profile.get("traits", {}).get("phone")
    return trait if isinstance(trait, str) else None


def email_of(profile: dict[str, Any]) -> str | None:
    """The profile's email address: its `email` identity, else its `email` trait."""
    for identity in profile.get("identities", []):
        if identity["kind"] == "email":
            return normalise_email(identity["value"])
    trait = profile.get("traits", {}).get("email")
    return normalise_email(trait) if isinstance(trait, str) else None


async def skip_reasons(
    session: AsyncSession, campaign: Campaign, profiles: Sequence[dict[str, Any]], now: datetime
) -> dict[str, str | None]:
    """Why each profile may not be reached on the campaign's channel (None: it may), one query per check."""
    consent = CONSENT_OF_CHANNEL[campaign.channel]
    emails = {p["id"]: email_of(p) for p in profiles}
    bounced = await _suppressed(session, [e for e in emails.values() if e]) if campaign.channel == "email" else set()
    capped = await _capped(session, campaign, [p["id"] for p in profiles], now)
    reasons: dict[str, str | None] = {}
    for profile in profiles:
        email, pid = emails[profile["id"]], profile["id"]
        granted = (profile.get("consent", {}).get(consent) or {}).get("granted") if consent else True
        reasons[pid] = ("no_email" if campaign.channel == "email" and email is None else
                        f"no_{consent}_consent" if not granted else
                        "bounced" if email is not None and sha256_hex(email) in bounced else
                        "frequency_cap" if pid in capped else None)  # fmt: skip
    return reasons


async def _suppressed(session: AsyncSession, emails: list[str]) -> set[str]:
    hashes = [sha256_hex(e) for e in emails]
    query = select(Suppression.email_sha256).where(Suppression.email_sha256.in_(hashes))
    return set((await session.scalars(query)).all()) if hashes else set()


async def _capped(session: AsyncSession, campaign: Campaign, profile_ids: list[str], now: datetime) -> set[str]:
    """Profiles already sent `max` times on this channel within the cap's days (across campaigns)."""
    cap = campaign.frequency_cap
    if not cap or not profile_ids:
        return set()
    since = now - timedelta(days=cap["days"])
    query = (select(Exposure.profile_id)
             .where(Exposure.profile_id.in_(profile_ids), Exposure.channel == campaign.channel,
                    Exposure.outcome == "sent", Exposure.at > since)
             .group_by(Exposure.profile_id).having(func.count() >= cap["max"]))  # fmt: skip
    return set((await session.scalars(query)).all())
