"""Applying a batch of tracked events: identity resolution, merges, traits, computed traits, timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import insert

from services.profiles import engagement
from services.profiles.batch import Batch, ProfileState, recent_counts
from services.profiles.config import get_settings
from services.profiles.feedback.service import feedback_row, insert_items
from services.profiles.identity import Key, alias_identities, event_identities
from services.profiles.imports.service import record_applied
from services.profiles.merging import merge_in_batch
from services.profiles.models import IdentityConflict, Profile, processed_messages
from services.profiles.suppression import erased_among, opt_out_returning, without_suppressed
from services.profiles.traits import (
    CONSENT_CHANNELS,
    add_engagement,
    apply_event,
    apply_traits,
    public_computed,
    set_consent,
)  # fmt: skip
from shared.bus import EventBuffer
from shared.db import new_id, take_write_lock, utcnow
from shared.events import PROFILES, ProfileUpserted, TrackedEvent, decode_contract
from shared.inbox import mark_processed, unseen
from shared.merge_chains import chain_end, load_chains

_tracked_event: TypeAdapter[TrackedEvent] = TypeAdapter(TrackedEvent)
CONTEXT_KEPT = ("page", "campaign", "channel", "userAgentData", "referrer")


def parse_event(value: Any) -> TrackedEvent:
    """A tracked event, or `PoisonMessage` when it breaks the contract."""
    return decode_contract(_tracked_event, value, "tracked event")


async def apply_events(
    session: Any, values: Sequence[Any], events: EventBuffer, *, points: Mapping[str, float] | None = None
) -> None:
    """Apply new events (ids already applied are skipped, events naming an erased person dropped) and publish each
    changed profile once; `points` per event name default to the `points_per_event` setting."""
    parsed = [parse_event(v) for v in values]
    await take_write_lock(session, Profile.__table__)  # SQLite: before anything is read (PostgreSQL: row locks)
    todo = await _fresh(session, parsed)
    if not todo:
        await record_applied(session, parsed)  # an import of rows applied before: they count for its job too
        return
    batch = Batch(session)
    erased = await erased_among(session, await _load(batch, todo))
    applied = without_suppressed(todo, erased)
    points = get_settings().points_per_event if points is None else points
    feedback: list[dict[str, Any]] = []
    for event in applied:
        target = await (
            _resolve_alias(batch, event, events) if event.type == "alias" else _resolve(batch, event, events)
        )
        if erased:
            opt_out_returning(target, event, erased)
        _apply(batch, target, event)
        _engage(target, event, points, feedback)
    await batch.flush()
    await insert_items(session, feedback)  # after the flush: their profiles exist by now
    await mark_processed(session, processed_messages, [e.dedup_key for e in todo])
    await record_applied(session, parsed)
    await _publish(batch, events)


async def _fresh(session: Any, parsed: list[TrackedEvent]) -> list[TrackedEvent]:
    """The events not applied before, each once (a redelivery may repeat one within a batch)."""
    fresh = await unseen(session, processed_messages, {e.dedup_key for e in parsed})
    todo: list[TrackedEvent] = []
    for event in parsed:
        if event.dedup_key in fresh:
            fresh.discard(event.dedup_key)
            todo.append(event)
    return todo


async def _load(batch: Batch, todo: list[TrackedEvent]) -> set[Key]:
    """Load (and lock) the profiles the batch's identities point at; return those identities."""
    keys: set[Key] = set()
    for event in todo:
        keys |= set(event_identities(event)) | set(alias_identities(event))
    await batch.load({k for k in keys if k[0] != "profile_id"})
    # Email events name the profile itself; a profile merged away since points at its successor.

    async def level(ids: set[str]) -> dict[str, str | None]:
        await batch.load_profiles(ids)
        return {state.id: state.merged_into for state in batch.profiles.values()}

    await load_chains({v for k, v in keys if k == "profile_id"}, level)
    return keys


def _live(batch: Batch, profile_id: str) -> ProfileState | None:
    def merged_into(state_id: str) -> str | None:
        state = batch.profiles.get(state_id)
        return state.merged_into if state else None

    return batch.profiles.get(chain_end(profile_id, merged_into))


def _owners(batch: Batch, keys: list[Key]) -> list[ProfileState]:
    owners: list[ProfileState] = []
    for kind, value in keys:
        owner_id = value if kind == "profile_id" else batch.directory.get((kind, value))
        owner = _live(batch, owner_id) if owner_id else None
        if owner is not None and owner not in owners:
            owners.append(owner)
    return owners


def _new_profile(batch: Batch, event: TrackedEvent) -> ProfileState:
    state = ProfileState(new_id(), {}, {}, {}, {}, event.timestamp, event.timestamp, is_new=True)
    batch.profiles[state.id] = state
    return state


async def _resolve(batch: Batch, event: TrackedEvent, events: EventBuffer) -> ProfileState:
    """The profile an event belongs to; merges profiles it proves to be one person, unless user ids clash."""
    keys = event_identities(event)
    owners = _owners(batch, keys)
    user = next((v for k, v in keys if k == "user_id"), None)
    user_ids = set().union(*(o.user_ids for o in owners)) | ({user} if user else set())
    if not owners:
        target = _new_profile(batch, event)
    elif len(user_ids) <= 1:
        target = next((o for o in owners if o.user_ids), min(owners, key=lambda o: o.first_seen_at))
        for other in owners:
            if other is not target:
                await merge_in_batch(batch, target, other, reason="identify", message_id=event.messageId, events=events)
    else:
        target = await _conflict(batch, event, keys, owners, user)
    _attach_unclaimed(batch, keys, target)
    return target


async def _conflict(
    batch: Batch, event: TrackedEvent, keys: list[Key], owners: list[ProfileState], user: str | None
) -> ProfileState:
    """Two known people in one event: record it, merge nothing, apply the event to the user id's profile."""
    await batch.session.execute(insert(IdentityConflict), [{
        "id": new_id(), "message_id": event.messageId, "profile_ids": [o.id for o in owners],
        "identities": [list(k) for k in keys], "created_at": utcnow(),
    }])  # fmt: skip
    if user is None:
        return owners[0]
    owner = next((o for o in owners if user in o.user_ids), None)
    return owner or _new_profile(batch, event)


async def _resolve_alias(batch: Batch, event: TrackedEvent, events: EventBuffer) -> ProfileState:
    """`alias`: the previous id's profile is merged into the user id's profile, explicitly."""
    keys = event_identities(event)
    target = next(iter(_owners(batch, keys[:1])), None) or _new_profile(batch, event)
    for previous in _owners(batch, alias_identities(event)):
        if previous is not target:
            await merge_in_batch(batch, target, previous, reason="alias", message_id=event.messageId, events=events)
    _attach_unclaimed(batch, keys, target, force_user=True)
    # The previous anonymous id is this person's from now on, also when its own events arrive after the alias
    # (they travel under another key, so on another partition).
    _attach_unclaimed(batch, [k for k in alias_identities(event) if k[0] == "anonymous_id"], target)
    return target


def _attach_unclaimed(batch: Batch, keys: list[Key], target: ProfileState, *, force_user: bool = False) -> None:
    for key in keys:
        if key[0] == "profile_id" or key in batch.directory:
            continue
        if key[0] == "user_id" and target.user_ids and not force_user:
            continue  # at most one user id per profile, except by an explicit alias
        batch.attach(key, target)


def _apply(batch: Batch, target: ProfileState, event: TrackedEvent) -> None:
    at = event.timestamp
    if not (event.type == "identify" and event.sourceId.startswith("import:")):  # an import is not a visit
        target.first_seen_at, target.last_seen_at = min(target.first_seen_at, at), max(target.last_seen_at, at)
    if event.type == "identify" and event.traits:
        traits = {k: v for k, v in event.traits.items() if k != "consent"}
        apply_traits(target.traits, target.trait_times, traits, at)
        _consent_from(target, event)
    if event.type == "track" and event.event == "Unsubscribed":
        set_consent(target.consent, "email", False, "unsubscribe", at)
    change = apply_event(target.computed, event, new_id)
    if change is not None:
        batch.record_session(target, change)
    name = event.event if event.type == "track" and event.event else event.type
    context = {k: event.context[k] for k in CONTEXT_KEPT if k in event.context}
    row = {"message_id": event.dedup_key, "profile_id": target.id, "home_profile_id": target.id, "type": event.type,
           "name": name, "occurred_at": at, "session_id": change.id if change else None,
           "properties": event.properties, "context": context}  # fmt: skip
    batch.record(target, row, name, at.date())


def _consent_from(target: ProfileState, event: TrackedEvent) -> None:
    """`traits.consent` of an identify: an opt-in counts after an opt-out only from a trusted (server) source."""
    consent = event.traits.get("consent")
    if not isinstance(consent, dict):
        return
    source = "server" if event.sourceTrusted else "identify"
    for channel in CONSENT_CHANNELS:
        if isinstance(consent.get(channel), bool):
            set_consent(target.consent, channel, consent[channel], source, event.timestamp)


def _engage(target: ProfileState, event: TrackedEvent, points: Mapping[str, float], feedback: list[Any]) -> None:
    """Points and engagement score for the event and, for a comment, mention, review or survey answer, a feedback
    item."""
    name = event.event if event.type == "track" and event.event else event.type
    rule = get_settings().engagement_rule()
    target.computed[engagement.KEY] = engagement.add(target.computed.get(engagement.KEY), rule.weight(name),
                                                     event.timestamp, rule.half_life_days)  # fmt: skip
    earned = points.get(event.event, 0.0) if event.type == "track" and event.event else 0.0
    item = feedback_row(event, target.id)
    if item is not None:
        feedback.append(item)
    add_engagement(target.computed, points=earned, compound=item["compound"] if item else None)


async def _publish(batch: Batch, events: EventBuffer) -> None:
    live = [batch.profiles[p] for p in batch.changed if batch.profiles[p].merged_into is None]
    counts = await recent_counts(batch.session, [s.id for s in live])
    for state in live:
        events.add(PROFILES, upserted_message(state, counts[state.id]), key=state.id)


def upserted_message(state: ProfileState, counts: dict[str, dict[str, int]]) -> ProfileUpserted:
    """The `profile.upserted.v1` message of a profile: what segmentation needs."""
    computed = public_computed(state.computed) | {
        "first_seen_at": state.first_seen_at.isoformat(), "last_seen_at": state.last_seen_at.isoformat(),
        "daily_counts": counts,
    }  # fmt: skip
    score = engagement.published(state.computed, get_settings().engagement_half_life_days)
    if score is not None:  # the state itself, so segmentation decays it to the time of its reports
        computed[engagement.KEY] = score
    consent = {channel: bool(d.get("granted")) for channel, d in state.consent.items()}
    # Built from our own state, so pydantic's validation would only re-check what we just made.
    return ProfileUpserted.model_construct(profile_id=state.id, version=state.version, traits=state.traits,
                                           computed=computed, consent=consent, occurred_at=utcnow())  # fmt: skip
