"""Rule segments: definitions, backfill (pushed down to SQL) and real-time evaluation of changed profiles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.exceptions import FeaturesNotFound, SegmentNotFound
from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.segments.explain import Explained, explain
from services.segmentation.segments.models import PastMembership, Segment, SegmentMembership, SegmentSize
from services.segmentation.segments.rules import (
    DefinitionInvalid,
    Features,
    Node,
    check_no_cycles,
    compile_predicate,
    dependencies,
    parse_definition,
    referenced_segments,
)  # fmt: skip
from services.segmentation.segments.rules_sql import to_sql
from shared.bus import EventBuffer
from shared.db import dialect_name, insert_many, new_id, transaction_lock, utcnow
from shared.errors import Invalid, field_error
from shared.events import SEGMENTS, SegmentEntered, SegmentExited


def parse_or_invalid(raw: Any) -> Node:
    """The parsed definition, or 422 naming the path of the bad node."""
    try:
        return parse_definition(raw)
    except DefinitionInvalid as exc:
        path = f"definition.{exc.path}" if exc.path else "definition"
        raise Invalid(f"The segment definition is not valid: {exc}", fields=[field_error(path, exc.reason)]) from None


async def _definitions(session: AsyncSession) -> dict[str, Node]:
    rows = (await session.execute(select(Segment.id, Segment.definition))).all()
    return {segment_id: parse_definition(definition) for segment_id, definition in rows}


async def validate_definition(session: AsyncSession, segment_id: str, raw: Any) -> Node:
    """Parse a definition and refuse unknown segment references and membership cycles (422)."""
    node = parse_or_invalid(raw)
    definitions = await _definitions(session)
    unknown = sorted(referenced_segments(node) - definitions.keys() - {segment_id})
    if unknown:
        raise Invalid(
            f"Unknown segment {unknown[0]!r}.", fields=[field_error("definition", f"unknown segment {unknown[0]}")]
        )
    try:
        check_no_cycles(segment_id, node, definitions | {segment_id: node})
    except DefinitionInvalid as exc:
        raise Invalid(f"The segment definition is not valid: {exc}",
                      fields=[field_error(f"definition.{exc.path}", exc.reason)]) from None  # fmt: skip
    return node


async def get_segment(session: AsyncSession, segment_id: str) -> Segment:
    """A segment by id, or 404."""
    segment = await session.get(Segment, segment_id)
    if segment is None:
        raise SegmentNotFound(f"Segment '{segment_id}' does not exist.")
    return segment


async def create_segment(
    session: AsyncSession, *, name: str, description: str, definition: Any, goal: dict[str, Any] | None = None,
    kind: str = "rules", segment_id: str | None = None,
) -> Segment:  # fmt: skip
    """A new segment, `building` until its backfill has run."""
    segment_id = segment_id or new_id()
    await validate_definition(session, segment_id, definition)
    segment = Segment(id=segment_id, name=name, description=description, definition=definition, goal=goal,
                      kind=kind, status="building")  # fmt: skip
    session.add(segment)
    await session.flush()
    return segment


async def update_segment(session: AsyncSession, segment_id: str, changes: dict[str, Any]) -> Segment:
    """Rename, describe or redefine a segment; a new definition makes it `building` again."""
    segment = await get_segment(session, segment_id)
    if "definition" in changes:
        if segment.kind == "cluster":
            raise Invalid("A cluster segment's members come from its clustering; its definition cannot change.",
                          fields=[field_error("definition", "cluster segments are not editable")])  # fmt: skip
        await validate_definition(session, segment_id, changes["definition"])
        segment.definition, segment.status = changes["definition"], "building"
    for key in ("name", "description", "goal"):
        if key in changes:
            setattr(segment, key, changes[key])
    segment.updated_at = utcnow()
    return segment


async def delete_segment(session: AsyncSession, segment: Segment, events: EventBuffer) -> None:
    """Delete a segment; its members exit, and segments that use it must be changed first (409-free: 422)."""
    segment_id = segment.id
    users = [sid for sid, node in (await _definitions(session)).items() if segment_id in referenced_segments(node)]
    if users:
        raise Invalid(
            f"Segment {users[0]} uses this segment; change it first.", fields=[field_error("segment_id", "in use")]
        )
    members = (
        await session.scalars(select(SegmentMembership.profile_id).where(SegmentMembership.segment_id == segment_id))
    ).all()
    await _exit(session, segment_id, members, events)
    await session.delete(segment)


def _member_sql(segment_id: str) -> ColumnElement[bool]:
    members = select(SegmentMembership.profile_id).where(SegmentMembership.segment_id == segment_id)
    return ProfileFeatures.profile_id.in_(members)


async def matching_ids(session: AsyncSession, node: Node, today: date) -> set[str]:
    """Profile ids matching a definition; the whole condition runs in SQL."""
    table = ProfileFeatures.__table__
    condition = to_sql(node, table, today, dialect_name=dialect_name(session), member_sql=_member_sql)
    return set((await session.scalars(select(ProfileFeatures.profile_id).where(condition))).all())


async def backfill(session: AsyncSession, segment: Segment, events: EventBuffer, today: date) -> None:
    """Recompute a segment's members; publish who entered and who left; mark it ready."""
    await lock_memberships(session, exclusive=True)
    node = parse_definition(segment.definition)
    matching = await matching_ids(session, node, today)
    current = set((await session.scalars(select(SegmentMembership.profile_id)
                                         .where(SegmentMembership.segment_id == segment.id))).all())  # fmt: skip
    await _enter(session, segment.id, sorted(matching - current), events)
    await _exit(session, segment.id, sorted(current - matching), events)
    segment.size, segment.status, segment.last_error = len(matching), "ready", None
    segment.last_computed_at = utcnow()
    session.add(SegmentSize(segment_id=segment.id, at=segment.last_computed_at, size=segment.size))


async def _enter(session: AsyncSession, segment_id: str, profile_ids: Sequence[str], events: EventBuffer) -> None:
    now = utcnow()
    rows = [{"segment_id": segment_id, "profile_id": p, "entered_at": now} for p in profile_ids]
    await insert_many(session, SegmentMembership.__table__, rows)
    for profile_id in profile_ids:
        events.add(
            SEGMENTS, SegmentEntered(segment_id=segment_id, profile_id=profile_id, occurred_at=now), key=profile_id
        )


async def _exit(session: AsyncSession, segment_id: str, profile_ids: Sequence[str], events: EventBuffer) -> None:
    now = utcnow()
    for start in range(0, len(profile_ids), 500):
        chunk = profile_ids[start : start + 500]
        where = (SegmentMembership.segment_id == segment_id, SegmentMembership.profile_id.in_(chunk))
        ended = (
            await session.execute(select(SegmentMembership.profile_id, SegmentMembership.entered_at).where(*where))
        ).all()
        await insert_many(session, PastMembership.__table__, [
            {"segment_id": segment_id, "profile_id": p, "entered_at": at, "exited_at": now} for p, at in ended
        ])  # fmt: skip
        await session.execute(delete(SegmentMembership).where(*where))
    for profile_id in profile_ids:
        events.add(
            SEGMENTS, SegmentExited(segment_id=segment_id, profile_id=profile_id, occurred_at=now), key=profile_id
        )


async def _memberships(session: AsyncSession, profile_ids: Iterable[str] | None) -> dict[str, set[str]]:
    query = select(SegmentMembership.profile_id, SegmentMembership.segment_id)
    if profile_ids is not None:
        query = query.where(SegmentMembership.profile_id.in_(list(profile_ids)))
    result: dict[str, set[str]] = {}
    for profile_id, segment_id in await session.execute(query):
        result.setdefault(profile_id, set()).add(segment_id)
    return result


def _ordered(segments: Sequence[Segment]) -> list[tuple[Segment, Node]]:
    """Segments with the ones others refer to first, so nested membership sees fresh results."""
    nodes = {s.id: (s, parse_definition(s.definition)) for s in segments}
    ordered: list[tuple[Segment, Node]] = []
    seen: set[str] = set()

    def visit(segment_id: str) -> None:
        if segment_id in seen or segment_id not in nodes:
            return
        seen.add(segment_id)
        for ref in referenced_segments(nodes[segment_id][1]):
            visit(ref)
        ordered.append(nodes[segment_id])

    for segment_id in nodes:
        visit(segment_id)
    return ordered


async def lock_memberships(session: AsyncSession, *, exclusive: bool) -> None:
    """Real-time evaluation (shared: batches run side by side) and recomputes (exclusive) of memberships take turns,
    across replicas: a recompute works on features no batch changes meanwhile, so it cannot bring back a member that
    a batch has just moved out (or the reverse)."""
    await transaction_lock(session, "segment-memberships", Segment.__table__, shared=not exclusive)


async def evaluate_profiles(session: AsyncSession, profile_ids: set[str], events: EventBuffer, today: date) -> None:
    """Re-evaluate the ready segments for changed profiles (real time); a profile without features (erased or
    merged away) matches nothing, so it leaves every segment."""
    if not profile_ids:
        return
    segments = (await session.scalars(select(Segment).where(Segment.status == "ready"))).all()
    compiled = [(s, compile_predicate(node, today)) for s, node in _ordered(segments)]
    features = {r.profile_id: r for r in await session.scalars(
        select(ProfileFeatures).where(ProfileFeatures.profile_id.in_(list(profile_ids))))}  # fmt: skip
    current = await _memberships(session, profile_ids)
    sizes: Counter[str] = Counter()
    for profile_id in sorted(profile_ids):
        row, now_in = features.get(profile_id), set(current.get(profile_id, set()))
        for segment, predicate in compiled:
            member = row is not None and predicate(Features(row.traits, row.computed, row.scores, frozenset(now_in)))
            if member and segment.id not in now_in:
                await _enter(session, segment.id, [profile_id], events)
                sizes[segment.id] += 1
                now_in.add(segment.id)
            elif not member and segment.id in now_in:
                await _exit(session, segment.id, [profile_id], events)
                sizes[segment.id] -= 1
                now_in.discard(segment.id)
    for segment_id, change in sizes.items():  # added in the database: another replica may move sizes too
        if change:
            query = update(Segment).where(Segment.id == segment_id).values(size=Segment.size + change)
            await session.execute(query.execution_options(synchronize_session=False))


async def members_page(
    session: AsyncSession, segment_id: str, *, after: str | None, limit: int
) -> list[SegmentMembership]:
    """Members in profile-id order after the cursor."""
    await get_segment(session, segment_id)
    query = select(SegmentMembership).where(SegmentMembership.segment_id == segment_id)
    if after:
        query = query.where(SegmentMembership.profile_id > after)
    return list((await session.scalars(query.order_by(SegmentMembership.profile_id).limit(limit))).all())


async def count_members(session: AsyncSession, segment_id: str) -> int:
    """How many profiles are in a segment now."""
    query = select(func.count()).select_from(SegmentMembership).where(SegmentMembership.segment_id == segment_id)
    return int(await session.scalar(query) or 0)


async def list_segments(session: AsyncSession) -> Sequence[Segment]:
    """Every segment, oldest first."""
    return (await session.scalars(select(Segment).order_by(Segment.created_at))).all()


async def profile_memberships(session: AsyncSession, profile_id: str) -> Sequence[SegmentMembership]:
    """The segments a profile is in now."""
    query = select(SegmentMembership).where(SegmentMembership.profile_id == profile_id)
    return (await session.scalars(query.order_by(SegmentMembership.entered_at))).all()


async def past_memberships(session: AsyncSession, profile_id: str) -> Sequence[PastMembership]:
    """Memberships of a profile that ended, newest first."""
    query = select(PastMembership).where(PastMembership.profile_id == profile_id)
    return (await session.scalars(query.order_by(PastMembership.exited_at.desc()))).all()


async def size_history(session: AsyncSession, segment: Segment) -> Sequence[SegmentSize]:
    """A segment's size after each recompute, oldest first."""
    query = select(SegmentSize).where(SegmentSize.segment_id == segment.id).order_by(SegmentSize.at)
    return (await session.scalars(query)).all()


def has_time_window(segment: Segment) -> bool:
    """True when the definition counts events "in the last N days", so its members change as days pass."""
    return bool(dependencies(parse_definition(segment.definition)).events)


async def recompute_dependents(
    session: AsyncSession, segment_ids: Iterable[str], events: EventBuffer, today: date, *, scores_changed: bool
) -> list[str]:
    """Backfill the given segments, every segment that reads scores (when they changed) and every segment that
    refers to one of those, in dependency order; return the ids recomputed."""
    wanted, done = set(segment_ids), list[str]()
    for segment, node in _ordered((await session.scalars(select(Segment))).all()):
        needs = dependencies(node)
        if segment.id in wanted or (scores_changed and needs.scores) or needs.segments & set(done):
            await backfill(session, segment, events, today)
            done.append(segment.id)
    return done


async def explain_membership(session: AsyncSession, segment_id: str, profile_id: str, today: date) -> dict[str, Any]:
    """The segment's rule tree evaluated for one profile, next to whether it is a member now."""
    segment = await get_segment(session, segment_id)
    row = await session.get(ProfileFeatures, profile_id)
    if row is None:
        raise FeaturesNotFound(f"Segmentation has no features for profile '{profile_id}'.")
    query = select(SegmentMembership.segment_id).where(SegmentMembership.profile_id == profile_id)
    memberships = frozenset((await session.scalars(query)).all())
    features = Features(row.traits, row.computed, row.scores, memberships)
    tree: Explained = explain(parse_definition(segment.definition), segment.definition, features, today)
    return {"segment_id": segment.id, "profile_id": profile_id, "member": segment.id in memberships,
            "matches": tree.result, "as_of": row.updated_at, "tree": tree}  # fmt: skip


async def membership_changes(
    session: AsyncSession, *, segment_id: str | None, since: datetime | None, before: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Entries and exits, newest first: current memberships' entries, and ended ones' entries and exits."""
    entered_now = select(SegmentMembership.segment_id, SegmentMembership.profile_id,
                         literal("entered").label("change"), SegmentMembership.entered_at.label("at"))  # fmt: skip
    entered_then = select(PastMembership.segment_id, PastMembership.profile_id, literal("entered").label("change"),
                          PastMembership.entered_at.label("at"))  # fmt: skip
    exited = select(PastMembership.segment_id, PastMembership.profile_id, literal("exited").label("change"),
                    PastMembership.exited_at.label("at"))  # fmt: skip
    changes = union_all(entered_now, entered_then, exited).subquery()
    query = select(changes).order_by(changes.c.at.desc(), changes.c.profile_id.desc()).limit(limit)
    if segment_id:
        query = query.where(changes.c.segment_id == segment_id)
    if since:
        query = query.where(changes.c.at >= since)
    if before:
        at, profile_id = before
        query = query.where(or_(changes.c.at < at, and_(changes.c.at == at, changes.c.profile_id < profile_id)))
    return [dict(row._mapping) for row in await session.execute(query)]
