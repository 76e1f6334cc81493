"""Merging two profiles and undoing it: the database moves and the in-memory fold, logged for undo."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles import engagement
from services.profiles.batch import Batch, ProfileState
from services.profiles.config import get_settings
from services.profiles.journeys.models import WebSession
from services.profiles.locks import lock_profiles
from services.profiles.models import EventCount, Identity, Merge, Profile, TimelineEvent
from services.profiles.traits import apply_traits, fold_consent, merge_computed, unmerge_computed
from shared.bus import EventBuffer
from shared.db import new_id, upsert, utcnow
from shared.errors import Conflict, NotFound
from shared.events import PROFILES, ProfileMerged


def _half_life() -> float:
    return get_settings().engagement_half_life_days


def snapshot(state: ProfileState) -> dict[str, Any]:
    """What a profile was before it was merged away."""
    return {"traits": state.traits, "trait_times": state.trait_times, "computed": state.computed,
            "consent": state.consent, "first_seen_at": state.first_seen_at.isoformat(),
            "last_seen_at": state.last_seen_at.isoformat()}  # fmt: skip


def fold(kept: ProfileState, merged: ProfileState) -> None:
    """Fold one profile's state into another (traits and consent by time, counters added)."""
    for key, value in merged.traits.items():
        stamp = merged.trait_times.get(key)
        if stamp:
            apply_traits(kept.traits, kept.trait_times, {key: value}, datetime.fromisoformat(stamp))
    kept.consent = fold_consent(kept.consent, merged.consent)
    kept.computed = merge_computed(kept.computed, merged.computed)
    kept.computed[engagement.KEY] = engagement.combine(kept.computed.get(engagement.KEY),
                                                      merged.computed.get(engagement.KEY), _half_life())  # fmt: skip
    kept.first_seen_at = min(kept.first_seen_at, merged.first_seen_at)
    kept.last_seen_at = max(kept.last_seen_at, merged.last_seen_at)
    kept.user_ids |= merged.user_ids


async def move_rows(session: AsyncSession, from_id: str, to_id: str) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """Move identities, timeline, sessions and daily counts; return the moved identities and count rows."""
    identities = [[k, v] for k, v in await session.execute(
        select(Identity.kind, Identity.value).where(Identity.profile_id == from_id))]  # fmt: skip
    await session.execute(update(Identity).where(Identity.profile_id == from_id).values(profile_id=to_id))
    await session.execute(update(TimelineEvent).where(TimelineEvent.profile_id == from_id).values(profile_id=to_id))
    await session.execute(update(WebSession).where(WebSession.profile_id == from_id).values(profile_id=to_id))
    counts = [
        {"event_name": n, "day": d.isoformat(), "count": c}
        for n, d, c in await session.execute(
            select(EventCount.event_name, EventCount.day, EventCount.count).where(EventCount.profile_id == from_id)
        )
    ]
    await _add_counts(session, to_id, counts, sign=1)
    await session.execute(delete(EventCount).where(EventCount.profile_id == from_id))
    return identities, counts


async def _add_counts(session: AsyncSession, profile_id: str, counts: list[dict[str, Any]], *, sign: int) -> None:
    rows = [{"profile_id": profile_id, "event_name": c["event_name"], "day": date.fromisoformat(c["day"]),
             "count": sign * c["count"]} for c in counts]  # fmt: skip
    await upsert(session, EventCount.__table__, rows, keys=["profile_id", "event_name", "day"], add=("count",))


async def merge_in_batch(
    batch: Batch, kept: ProfileState, merged: ProfileState, *, reason: str, message_id: str | None, events: EventBuffer
) -> None:
    """Merge `merged` into `kept` during a batch, log it and announce it."""
    before = snapshot(merged)
    await batch.insert_now(kept)  # PostgreSQL checks the identities' foreign key as they move
    identities, counts = await move_rows(batch.session, merged.id, kept.id)
    identities += [[k, v] for (k, v), p in batch.new_identities.items() if p == merged.id]
    counts += [{"event_name": n, "day": d.isoformat(), "count": c}
               for (p, n, d), c in batch.counts.items() if p == merged.id]  # fmt: skip
    batch.rehome_pending(merged.id, kept.id)
    batch.directory.update({key: kept.id for key, owner in batch.directory.items() if owner == merged.id})
    fold(kept, merged)
    merged.merged_into = kept.id
    batch.changed |= {kept.id, merged.id}
    merge_id = new_id()
    await batch.session.execute(insert(Merge), [{
        "id": merge_id, "kept_id": kept.id, "merged_id": merged.id, "reason": reason, "message_id": message_id,
        "moved_identities": identities, "snapshot": before | {"counts": counts}, "created_at": utcnow(),
    }])  # fmt: skip
    # The merged profile is in `changed`: the batch's flush raises its version by one, to what this message says.
    message = ProfileMerged(profile_id=kept.id, merged_id=merged.id, merge_id=merge_id,
                            merged_version=merged.version + 1, occurred_at=utcnow())  # fmt: skip
    events.add(PROFILES, message, key=kept.id)


async def undo_merge(session: AsyncSession, merge_id: str, events: EventBuffer) -> Merge:
    """Split a merged profile back out of the one it was folded into."""
    merge = await session.get(Merge, merge_id)
    if merge is None:
        raise NotFound(f"Merge '{merge_id}' does not exist.")
    if merge.undone_at is not None:
        raise Conflict("This merge was already undone.")
    locked = {p.id: p for p in await lock_profiles(session, [merge.kept_id, merge.merged_id])}
    kept, merged = locked.get(merge.kept_id), locked.get(merge.merged_id)
    if kept is None or merged is None:
        raise Conflict("A profile of this merge was erased; it cannot be undone.")
    if kept.merged_into is not None:
        raise Conflict(f"Profile {kept.id} was itself merged later; undo that merge first.")
    await _move_back(session, merge, kept.id, merged.id)
    _restore(kept, merged, merge.snapshot)
    await _rederive_extremes(session, kept)
    merge.undone_at = utcnow()
    kept.version, merged.version = (kept.version or 0) + 1, (merged.version or 0) + 1
    events.add(PROFILES, ProfileMerged(profile_id=kept.id, merged_id=merged.id, merge_id=merge.id, undone=True,
                                       merged_version=merged.version, occurred_at=utcnow()), key=kept.id)  # fmt: skip
    return merge


async def _move_back(session: AsyncSession, merge: Merge, kept_id: str, merged_id: str) -> None:
    keys = [tuple(pair) for pair in merge.moved_identities]
    if keys:
        await session.execute(
            update(Identity).where(tuple_(Identity.kind, Identity.value).in_(keys), Identity.profile_id == kept_id)
            .values(profile_id=merged_id)
        )  # fmt: skip
    for model in (TimelineEvent, WebSession):
        await session.execute(
            update(model).where(model.profile_id == kept_id, model.home_profile_id == merged_id)
            .values(profile_id=merged_id)
        )  # fmt: skip
    counts = merge.snapshot.get("counts", [])
    await _add_counts(session, kept_id, counts, sign=-1)
    await _add_counts(session, merged_id, counts, sign=1)
    await session.execute(delete(EventCount).where(EventCount.profile_id == kept_id, EventCount.count <= 0))


def _restore(kept: Profile, merged: Profile, before: dict[str, Any]) -> None:
    kept.computed = unmerge_computed(kept.computed, before["computed"])
    kept.computed[engagement.KEY] = engagement.combine(
        kept.computed.get(engagement.KEY), before["computed"].get(engagement.KEY), _half_life(), sign=-1
    )
    merged.traits, merged.trait_times = before["traits"], before["trait_times"]
    merged.computed, merged.consent = before["computed"], before["consent"]
    merged.first_seen_at = datetime.fromisoformat(before["first_seen_at"])
    merged.last_seen_at = datetime.fromisoformat(before["last_seen_at"])
    merged.merged_into = None
    merged.updated_at = kept.updated_at = utcnow()


async def _rederive_extremes(session: AsyncSession, profile: Profile) -> None:
    """First/last seen and first/last order come back from the timeline (extremes cannot be subtracted)."""
    span = select(func.min(TimelineEvent.occurred_at), func.max(TimelineEvent.occurred_at)).where(
        TimelineEvent.profile_id == profile.id
    )
    seen = (await session.execute(span)).one()
    if seen[0] is not None:
        profile.first_seen_at, profile.last_seen_at = seen[0], seen[1]
    orders = (await session.execute(span.where(TimelineEvent.name == "Order Completed"))).one()
    computed = dict(profile.computed)
    for key, value in (("first_order_at", orders[0]), ("last_order_at", orders[1])):
        if value is None:
            computed.pop(key, None)
        else:
            computed[key] = value.isoformat()
    profile.computed = computed
