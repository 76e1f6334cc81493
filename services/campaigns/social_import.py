"""Social data coming in: posts and their daily metrics as a JSON list or a CSV file, validated row by row and
upserted by natural key (platform + post id; platform + post id + date), and what social reports keep from
`tessera.events.v1` (visits with a UTM campaign, coded sign-ups and orders, mentions, contest entries, user content)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.measurement import message_key
from services.campaigns.models import (
    BrandMention,
    ContestEntry,
    Influencer,
    SocialConversion,
    SocialPost,
    SocialPostMetric,
    SocialVisit,
    UserContent,
)
from services.campaigns.social_schemas import MetricRow, PostRow
from shared.db import insert_new, upsert, utcnow
from shared.errors import DomainError, Invalid, field_error

M = TypeVar("M", bound=BaseModel)
JSON_TYPES = frozenset({"application/json"})
CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
MAX_ROWS = 100_000
CHUNK = 1000


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"


@dataclass(frozen=True, slots=True)
class Row:
    """One row as read: where it was, its values, or why it could not be read at all."""

    line: int
    values: Any
    error: str | None = None


def read_rows(body: bytes, media_type: str, required: Sequence[str]) -> list[Row]:
    """The rows of a JSON list (line = index) or a CSV file with a header (line = the file's line)."""
    if media_type in JSON_TYPES or media_type.endswith("+json"):
        return _json_rows(body)
    if media_type in CSV_TYPES:
        return _csv_rows(body, required)
    raise UnsupportedMediaType(
        f"Send a JSON list (application/json) or a CSV file with a header (text/csv), not '{media_type}'.",
        fields=[field_error("content-type", "must be application/json or text/csv")],
    )


def _json_rows(body: bytes) -> list[Row]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid("The body is not valid JSON.", fields=[field_error("body", str(exc))]) from exc
    if not isinstance(document, list):
        raise Invalid("The body must be a JSON list of rows.", fields=[field_error("body", "expected a JSON list")])
    _check_size(len(document))
    return [Row(index, item) for index, item in enumerate(document)]


def _csv_rows(body: bytes, required: Sequence[str]) -> list[Row]:
    line = 1
    try:
        reader = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
        header = [name.strip().lower() for name in next(reader, [])]
        _check_header(header, required)
        rows, line = [], reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append(_csv_row(line, header, cells))
            line = reader.line_num + 1
            _check_size(len(rows))
    except UnicodeDecodeError as exc:
        raise Invalid("The CSV file is not UTF-8 text.", fields=[field_error("body", str(exc))]) from exc
    except csv.Error as exc:
        raise Invalid(f"The CSV file cannot be read at line {line}.", fields=[field_error("body", str(exc))]) from exc
    return rows


def _check_header(header: list[str], required: Sequence[str]) -> None:
    if not any(header):
        raise Invalid("The CSV file has no header row.", fields=[field_error("body", "expected a header row")])
    missing = [name for name in required if name not in header]
    if missing:
        fields = [field_error(name, "missing column") for name in missing]
        raise Invalid(f"The CSV header lacks {', '.join(missing)}.", fields=fields)


def _csv_row(line: int, header: list[str], cells: list[str]) -> Row:
    if len(cells) != len(header):
        return Row(line, None, f"expected {len(header)} columns, found {len(cells)}")
    return Row(line, {name: cell for name, cell in zip(header, cells, strict=True) if name and cell.strip()})


def _check_size(rows: int) -> None:
    if rows > MAX_ROWS:
        raise Invalid(f"Send at most {MAX_ROWS:,} rows at a time.", fields=[field_error("body", "too many rows")])


def validate_rows(rows: Iterable[Row], model: type[M]) -> tuple[list[tuple[int, M]], list[dict[str, Any]]]:
    """The rows that fit the model (with their lines), and a refusal per problem of the others."""
    good: list[tuple[int, M]] = []
    rejected: list[dict[str, Any]] = []
    for row in rows:
        if row.error or not isinstance(row.values, dict):
            rejected.append(_refusal(row.line, "row", row.error or "expected an object"))
            continue
        values = {k: v for k, v in row.values.items() if v is not None and v != ""}
        try:
            good.append((row.line, model.model_validate(values)))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "row"
                rejected.append(_refusal(row.line, where, str(error["msg"])))
    return good, rejected


def _refusal(line: int, field: str, reason: str) -> dict[str, Any]:
    return {"line": line, "field": field, "reason": reason}


async def import_posts(session: AsyncSession, body: bytes, media_type: str) -> dict[str, Any]:
    """Store the valid posts (a post already known is replaced); refuse the rest, line by line."""
    good, rejected = validate_rows(read_rows(body, media_type, ("platform", "post_id")), PostRow)
    known = await _influencers(session, {p.influencer_id for _, p in good if p.influencer_id})
    stored = []
    for line, post in good:
        if post.influencer_id and post.influencer_id not in known:
            rejected.append(_refusal(line, "influencer_id", "no influencer with this id"))
            continue
        handle = post.competitor_handle or (post.author if post.competitor else None)
        stored.append(post.model_dump() | {"competitor_handle": handle, "imported_at": utcnow()})
    await _upsert(session, SocialPost, stored, ["platform", "post_id"])
    return {"accepted": len(stored), "rejected": sorted(rejected, key=lambda r: r["line"])}


async def import_metrics(session: AsyncSession, body: bytes, media_type: str) -> dict[str, Any]:
    """Store the valid daily metrics of known posts (a day already known is replaced); refuse the rest."""
    good, rejected = validate_rows(read_rows(body, media_type, ("platform", "post_id", "date")), MetricRow)
    posts = await _posts(session, {(m.platform, m.post_id) for _, m in good})
    stored = []
    for line, metric in good:
        if (metric.platform, metric.post_id) not in posts:
            rejected.append(_refusal(line, "post_id", "no such post on this platform; import it first"))
        elif metric.impressions and metric.reach > metric.impressions:
            rejected.append(_refusal(line, "reach", "cannot exceed impressions"))
        else:
            stored.append(metric.model_dump() | {"imported_at": utcnow()})
    await _upsert(session, SocialPostMetric, stored, ["platform", "post_id", "date"])
    return {"accepted": len(stored), "rejected": sorted(rejected, key=lambda r: r["line"])}


async def _influencers(session: AsyncSession, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    return set((await session.scalars(select(Influencer.id).where(Influencer.id.in_(ids)))).all())


async def _posts(session: AsyncSession, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        wanted = tuple_(SocialPost.platform, SocialPost.post_id).in_(ordered[start : start + CHUNK])
        found |= {
            (p, i) for p, i in await session.execute(select(SocialPost.platform, SocialPost.post_id).where(wanted))
        }
    return found


async def _upsert(session: AsyncSession, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert or replace by natural key; a key repeated in one import keeps its last row."""
    unique = list({tuple(row[k] for k in keys): row for row in rows}.values())
    replace = tuple(c.name for c in model.__table__.columns if c.name not in keys)
    for start in range(0, len(unique), CHUNK):
        await upsert(session, model.__table__, unique[start : start + CHUNK], keys=keys, replace=replace)


# What social reports keep from `tessera.events.v1`; every other event (most are page views without a UTM
# campaign) is passed over before anything else is looked at.
SOCIAL_EVENTS = frozenset({"page", "Signed Up", "Order Completed", "Brand Mentioned", "Contest Entered",
                           "Content Submitted"})  # fmt: skip
_KEYS = {SocialVisit: ("utm_campaign", "session_key"), SocialConversion: ("message_id",),
         BrandMention: ("message_id",), ContestEntry: ("message_id",), UserContent: ("id",)}  # fmt: skip


async def record_social_events(session: AsyncSession, values: Sequence[Any]) -> None:
    """Keep UTM-tagged visits, sign-ups and orders with a code or UTM campaign, brand mentions, contest entries
    and user content; idempotent (message id or natural key), so replays change nothing."""
    batches: dict[Any, dict[tuple[Any, ...], dict[str, Any]]] = {model: {} for model in _KEYS}
    for value in values:
        if _wanted(value):
            fact = _fact(value)
            if fact is not None:
                model, row = fact
                batches[model].setdefault(tuple(row[k] for k in _KEYS[model]), row)
    for model, rows in batches.items():
        await insert_new(session, model.__table__, list(rows.values()), list(_KEYS[model]))


def _wanted(value: Any) -> bool:
    """The cheap test first: a social event name, or a page view that carries a UTM campaign."""
    name = _name(value) if isinstance(value, dict) else None
    if name == "page":
        return bool(_mapping(_mapping(value.get("context")).get("campaign")).get("name"))
    return isinstance(name, str) and name in SOCIAL_EVENTS


def _fact(value: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
    at, message_id = _time(value), _text(value.get("messageId")) and message_key(value)
    person = _text(value.get("userId") or value.get("anonymousId"))
    if at is None or person is None or message_id is None:
        return None
    properties, context = _mapping(value.get("properties")), _mapping(value.get("context"))
    base = {"person": person, "at": at, "message_id": message_id}
    match _name(value):
        case "page":
            return _visit(base, properties, context)
        case "Signed Up":
            return _conversion(base | {"kind": "signup"}, properties, context)
        case "Order Completed":
            return _conversion(base | {"kind": "order"}, properties, context)
        case "Brand Mentioned":
            brand = _handle(properties.get("brand") or properties.get("handle"))
            row = base | {"brand": brand, "platform": _lower(properties.get("platform"), 40)}
            return (BrandMention, _only(row, BrandMention)) if brand else None
        case "Contest Entered":
            contest = _text(properties.get("contest_id"))
            return (ContestEntry, _only(base | {"contest_id": contest}, ContestEntry)) if contest else None
        case _:
            return _content(base, properties)


def _visit(base: dict[str, Any], properties: dict[str, Any], context: dict[str, Any]) -> Any:
    campaign = _lower(_mapping(context.get("campaign")).get("name"), 200)
    if campaign is None:
        return None
    session_id = _text(context.get("sessionId") or properties.get("session_id"), 250)
    key = f"session:{session_id}" if session_id else f"day:{base['at'].date().isoformat()}:{base['person']}"
    return SocialVisit, {"utm_campaign": campaign, "session_key": key[:300], "person": base["person"], "at": base["at"]}


def _conversion(base: dict[str, Any], properties: dict[str, Any], context: dict[str, Any]) -> Any:
    code = _lower(properties.get("referral_code") or properties.get("coupon"), 200)
    campaign = _lower(_mapping(context.get("campaign")).get("name"), 200)
    if code is None and campaign is None:
        return None
    revenue = _number(properties.get("revenue", properties.get("total")))
    row = base | {"referral_code": code, "utm_campaign": campaign, "order_id": _text(properties.get("order_id")),
                  "revenue": revenue if base["kind"] == "order" else 0.0}  # fmt: skip
    return SocialConversion, row


def _content(base: dict[str, Any], properties: dict[str, Any]) -> Any:
    # The id is part of review URLs: a content id or the bare message id (a message key has a slash).
    row = {"id": _text(properties.get("content_id")) or base["message_id"].partition("/")[2], "person": base["person"],
           "contest_id": _text(properties.get("contest_id")), "type": _lower(properties.get("type"), 40),
           "url": _text(properties.get("url"), 2000), "status": "pending", "submitted_at": base["at"]}  # fmt: skip
    return UserContent, row


def _only(row: dict[str, Any], model: Any) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in model.__table__.columns}


def _name(value: dict[str, Any]) -> Any:
    return value.get("event") if value.get("type") == "track" else value.get("type")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = 200) -> str | None:
    """A short, storable string (NUL characters dropped), or None for nothing."""
    if value is None or isinstance(value, dict | list) or value == "":
        return None
    text = str(value).replace("\x00", "").strip()[:limit]
    return text or None


def _lower(value: Any, limit: int) -> str | None:
    text = _text(value, limit)
    return text.lower() if text else None


def _handle(value: Any) -> str | None:
    text = _text(value)
    return _lower(text.lstrip("@"), 200) if text else None


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if number == number and abs(number) < 1e12 else 0.0


def _time(value: dict[str, Any]) -> datetime | None:
    """The event's time in UTC, or None when it has none that a database could store."""
    try:
        at = datetime.fromisoformat(str(value.get("timestamp")))
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
