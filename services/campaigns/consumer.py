"""Campaigns' consumers: `tessera.segments.v1` → the membership replica and triggered sends;
`tessera.events.v1` → opens, clicks, unsubscribes, conversions and survey answers of
recipients, and social analytics' facts; `tessera.profiles.v1` → merges and erasures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.erasure import erased_messages, forget_erased, without_erased
from services.campaigns.measurement import record_events
from services.campaigns.merges import merge_messages, remember_merges
from services.campaigns.service import apply_segment_messages, queue_triggers
from services.campaigns.social.consumer import handle_tracked_events
from services.campaigns.surveys import record_answers
from shared.bus import EventBuffer
from shared.consuming import Handler, Received
from shared.events import EVENTS, PROFILES, SEGMENTS, PoisonMessage, TrackedEvent, decode_contract

_tracked: TypeAdapter[TrackedEvent] = TypeAdapter(TrackedEvent)


def tracked_events(values: Iterable[Any]) -> list[TrackedEvent]:
    """The consumed values parsed once into tracked events; one that breaks the contract is passed over, as
    campaigns only reads the topic (profiles rejects it)."""
    parsed = []
    for value in values:
        try:
            parsed.append(decode_contract(_tracked, value, "tracked event"))
        except PoisonMessage:
            continue
    return parsed


async def handle_segments(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Apply a batch of segment entries and exits; queue entries into triggered campaigns' segments."""
    entered = await apply_segment_messages(session, [m.value for m in messages])
    await queue_triggers(session, entered)


async def handle_events(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Keep what recipients did (email interactions, goal events, survey answers) and what social reports need,
    except what people erased with suppression do."""
    tracked = await without_erased(session, tracked_events(m.value for m in messages))
    await record_events(session, tracked)
    await handle_tracked_events(session, tracked)
    await record_answers(session, tracked)


async def handle_profiles(session: AsyncSession, messages: Sequence[Received], events: EventBuffer) -> None:
    """Follow merges (answers of a merged-away profile count for its survivor); erase what campaigns holds about
    erased people (their results stay, under a pseudonym)."""
    values = [m.value for m in messages]
    await remember_merges(session, merge_messages(values))
    await forget_erased(session, erased_messages(values))


HANDLERS: dict[str, Handler] = {SEGMENTS: handle_segments, EVENTS: handle_events, PROFILES: handle_profiles}
