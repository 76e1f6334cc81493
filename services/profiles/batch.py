"""One consumer batch in memory: profiles and identities loaded in bulk, writes flushed in bulk."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profiles.identity import Key
from services.profiles.journeys.models import WebSession
from services.profiles.models import EventCount, Identity, Profile, TimelineEvent
from services.profiles.traits import SessionChange
from shared.db import insert_many, update_many, upsert, utcnow

CHUNK = 500  # keeps IN lists well under every backend's parameter limit
WINDOW_DAYS = 90  # daily counts published for "in the last N days" rules


@dataclass
class ProfileState:
    """A profile while a batch works on it."""

    id: str
    traits: dict[str, Any]
    trait_times: dict[str, str]
    computed: dict[str, Any]
    consent: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime
    user_ids: set[str] = field(default_factory=set)
    is_new: bool = False
    merged_into: str | None = None
    version: int = 0

    @classmethod
    def from_row(cls, row: Any) -> ProfileState:
        """State from a `profiles` row."""
        return cls(row.id, dict(row.traits), dict(row.trait_times), dict(row.computed), dict(row.consent),
                   row.first_seen_at, row.last_seen_at, merged_into=row.merged_into,
                   version=row.version or 0)  # fmt: skip

    def row(self) -> dict[str, Any]:
        """The `profiles` columns of this state."""
        return {"id": self.id, "traits": self.traits, "trait_times": self.trait_times, "computed": self.computed,
                "consent": self.consent, "first_seen_at": self.first_seen_at, "last_seen_at": self.last_seen_at,
                "merged_into": self.merged_into, "version": self.version, "updated_at": utcnow()}  # fmt: skip


@dataclass
class Batch:
    """What a batch read and what it will write."""

    session: AsyncSession
    profiles: dict[str, ProfileState] = field(default_factory=dict)
    directory: dict[Key, str] = field(default_factory=dict)
    new_identities: dict[Key, str] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[tuple[str, str, date]] = field(default_factory=Counter)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    async def load(self, keys: set[Key]) -> None:
        """Read the identities named in the batch and the profiles they point at."""
        by_kind: dict[str, list[str]] = {}
        for kind, value in keys:
            by_kind.setdefault(kind, []).append(value)
        for kind, values in by_kind.items():  # one kind at a time, so the (kind, value) key serves the lookup
            for start in range(0, len(values), CHUNK):
                rows = await self.session.execute(
                    select(Identity.value, Identity.profile_id).where(
                        Identity.kind == kind, Identity.value.in_(values[start : start + CHUNK])
                    )
                )
                self.directory.update({(kind, value): profile_id for value, profile_id in rows})
        await self.load_profiles(set(self.directory.values()))

    async def load_profiles(self, ids: set[str]) -> None:
        """Read and lock profiles (and their user ids) not held yet: row locks in id order on PostgreSQL, so an API
        edit, a merge undo or an erasure waits for this batch, or this batch for them (see `lock_profiles`)."""
        missing = sorted(ids - self.profiles.keys())
        table = Profile.__table__
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            query = select(table).where(table.c.id.in_(chunk)).order_by(table.c.id).with_for_update()
            for row in await self.session.execute(query):
                self.profiles[row.id] = ProfileState.from_row(row)
            users = await self.session.execute(
                select(Identity.profile_id, Identity.value).where(
                    Identity.profile_id.in_(chunk), Identity.kind == "user_id"
                )
            )
            for profile_id, value in users:
                self.profiles[profile_id].user_ids.add(value)

    def attach(self, key: Key, profile: ProfileState) -> None:
        """Point a new identity at a profile."""
        self.directory[key] = profile.id
        self.new_identities[key] = profile.id
        if key[0] == "user_id":
            profile.user_ids.add(key[1])

    def record(self, profile: ProfileState, row: dict[str, Any], name: str, day: date) -> None:
        """Queue a timeline row and a daily count."""
        self.timeline.append(row)
        self.counts[(profile.id, name, day)] += 1
        self.changed.add(profile.id)

    def record_session(self, profile: ProfileState, change: SessionChange) -> None:
        """Queue the latest state of a session."""
        self.sessions[change.id] = {
            "id": change.id, "profile_id": profile.id, "home_profile_id": profile.id,
            "started_at": change.started_at, "ended_at": change.ended_at, "page_views": change.page_views,
            "duration_seconds": (change.ended_at - change.started_at).total_seconds(),
            "events": change.events, "utm_source": change.utm.get("source"), "utm_medium": change.utm.get("medium"),
            "utm_campaign": change.utm.get("name"), "orders": change.orders, "revenue": change.revenue,
        }  # fmt: skip

    def rehome_pending(self, old: str, new: str) -> None:
        """Pending writes of a profile that was just merged go to the profile it was merged into."""
        for row in self.timeline:
            if row["profile_id"] == old:
                row["profile_id"] = new
        for key, profile_id in self.new_identities.items():
            if profile_id == old:
                self.new_identities[key] = new
        for (profile_id, name, day), n in list(self.counts.items()):
            if profile_id == old:
                del self.counts[(profile_id, name, day)]
                self.counts[(new, name, day)] += n
        for row in self.sessions.values():
            if row["profile_id"] == old:
                row["profile_id"] = new

    async def insert_now(self, state: ProfileState) -> None:
        """Write a profile made in this batch at once: a merge into it moves stored rows that must point at a row."""
        if state.is_new:
            await insert_many(self.session, Profile.__table__, [state.row() | {"created_at": utcnow()}])
            state.is_new = False

    async def flush(self) -> None:
        """Write everything the batch changed, set-wise."""
        states = [self.profiles[p] for p in self.changed if p in self.profiles]
        for state in states:
            state.version += 1
        fresh = [state for state in states if state.is_new]
        known = [state for state in states if not state.is_new]
        table = Profile.__table__
        if fresh:
            await insert_many(self.session, table, [state.row() | {"created_at": utcnow()} for state in fresh])
        await update_many(self.session, table, [state.row() for state in known], key="id")
        for state in fresh:
            state.is_new = False
        await self._flush_children()

    async def _flush_children(self) -> None:
        if self.new_identities:
            rows = [{"kind": k, "value": v, "profile_id": p, "created_at": utcnow()}
                    for (k, v), p in self.new_identities.items()]  # fmt: skip
            await insert_many(self.session, Identity.__table__, rows)
        if self.timeline:
            await insert_many(self.session, TimelineEvent.__table__, self.timeline)
        count_rows = [{"profile_id": p, "event_name": n, "day": d, "count": c} for (p, n, d), c in self.counts.items()]
        await upsert(self.session, EventCount.__table__, count_rows, keys=["profile_id", "event_name", "day"],
                     add=("count",))  # fmt: skip
        session_columns = ("profile_id", "started_at", "ended_at", "duration_seconds", "page_views", "events",
                           "utm_source", "utm_medium", "utm_campaign", "orders", "revenue")  # fmt: skip
        await upsert(self.session, WebSession.__table__, list(self.sessions.values()), keys=["id"],
                     replace=session_columns)  # fmt: skip
        self.new_identities, self.timeline, self.counts, self.sessions = {}, [], Counter(), {}


async def recent_counts(session: AsyncSession, profile_ids: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    """profile → event → day → count for the last `WINDOW_DAYS` days."""
    since = (utcnow() - timedelta(days=WINDOW_DAYS)).date()
    result: dict[str, dict[str, dict[str, int]]] = {p: {} for p in profile_ids}
    for start in range(0, len(profile_ids), CHUNK):
        chunk = profile_ids[start : start + CHUNK]
        rows = await session.execute(
            select(EventCount.profile_id, EventCount.event_name, EventCount.day, EventCount.count).where(
                EventCount.profile_id.in_(chunk), EventCount.day >= since
            )
        )
        for profile_id, name, day, count in rows:
            result[profile_id].setdefault(name, {})[day.isoformat()] = count
    return result
