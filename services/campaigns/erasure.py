"""GDPR erasure in campaigns (`profile.erased.v1`): the person's identifiers leave every table; the rows past results
count stay, under a pseudonym that nobody can link back, so those results do not change (survey answers lose their
comment, which is free text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.audiences import hash_email, hash_phone
from services.campaigns.merges import merged_into
from services.campaigns.models import (
    AudienceExport,
    Conversion,
    ErasedIdentity,
    Exposure,
    Interaction,
    KnownIdentity,
    ProfileMerge,
    SegmentMember,
    SurveyResponse,
    TriggerRequest,
)  # fmt: skip
from services.campaigns.social.consumer import forget_people
from shared.db import new_id, upsert, utcnow
from shared.events import ProfileErased, TrackedEvent, decode_contract, identity_digest

_erased: TypeAdapter[ProfileErased] = TypeAdapter(ProfileErased)
PSEUDONYMOUS = (Exposure, Interaction, Conversion)  # what results count: kept under a pseudonym
DELETED = (KnownIdentity, TriggerRequest, SegmentMember)
PERSON_KINDS = ("user_id", "anonymous_id")  # what social tables call a person
CHUNK = 500


def erased_messages(values: Sequence[Any]) -> list[ProfileErased]:
    """The erasures among `tessera.profiles.v1` messages (upserts and merges are not campaigns' concern)."""
    wanted = [v for v in values if isinstance(v, dict) and v.get("type") == "profile.erased.v1"]
    return [decode_contract(_erased, v, "profile erasure") for v in wanted]


async def forget_erased(session: AsyncSession, erased: Sequence[ProfileErased]) -> None:
    """Apply erasures: identifiers deleted or replaced by a pseudonym, suppressed identities remembered."""
    for message in erased:
        pseudonym = await _pseudonymise(session, message.profile_id)
        for merged_away in await merged_into(session, message.profile_id):  # profiles erases those too
            await _pseudonymise(session, merged_away)
        persons = [value for kind, value in message.identities if kind in PERSON_KINDS]
        await forget_people(session, [*persons, f"profile:{message.profile_id}"], pseudonym)
        await _drop_from_exports(session, message.identities)
        if message.suppressed:
            rows = [{"kind": kind, "digest": identity_digest(kind, value), "erased_at": utcnow()}
                    for kind, value in message.identities]  # fmt: skip
            await upsert(session, ErasedIdentity.__table__, rows, keys=["kind", "digest"], replace=("erased_at",))


async def _pseudonymise(session: AsyncSession, profile_id: str) -> str:
    """A profile's rows: results and answers kept under a new pseudonym, the rest deleted; the pseudonym."""
    pseudonym = f"erased-{new_id()[:24]}"
    for model in PSEUDONYMOUS:
        await session.execute(update(model).where(model.profile_id == profile_id).values(profile_id=pseudonym))
    for deleted in DELETED:
        await session.execute(delete(deleted).where(deleted.profile_id == profile_id))
    await session.execute(delete(ProfileMerge).where(ProfileMerge.merged_id == profile_id))
    answers = update(SurveyResponse).where(SurveyResponse.profile_id == profile_id)
    await session.execute(answers.values(profile_id=pseudonym, comment=None))  # scores count; comments may name
    return pseudonym


async def _drop_from_exports(session: AsyncSession, identities: Sequence[tuple[str, str]]) -> None:
    """Audience exports hold hashed e-mail addresses and phones: the person's rows leave every export."""
    hashes = {hash_email(v) for k, v in identities if k == "email"}
    hashes |= {hash_phone(v, platform=p) for k, v in identities if k == "phone" for p in ("google_ads", "meta")}
    hashes.discard(None)
    if not hashes:
        return
    for export in (await session.scalars(select(AudienceExport))).all():
        export.rows = [row for row in export.rows if not hashes & set(row)]
        export.removed = [row for row in export.removed if not hashes & set(row)]


async def without_erased(session: AsyncSession, values: list[TrackedEvent]) -> list[TrackedEvent]:
    """Tracked events that name no person erased with suppression (one cheap query when nobody was)."""
    if not values or not await session.scalar(select(exists().select_from(ErasedIdentity))):
        return values
    named = [_digests(v) for v in values]
    wanted, erased = sorted({d for ds in named for d in ds}), set[str]()
    for start in range(0, len(wanted), CHUNK):
        query = select(ErasedIdentity.digest).where(ErasedIdentity.digest.in_(wanted[start : start + CHUNK]))
        erased |= set((await session.scalars(query)).all())
    return [value for value, digests in zip(values, named, strict=True) if not digests & erased]


def _digests(value: TrackedEvent) -> set[str]:
    pairs = (("user_id", value.userId), ("anonymous_id", value.anonymousId))
    return {identity_digest(kind, str(v)) for kind, v in pairs if v}
