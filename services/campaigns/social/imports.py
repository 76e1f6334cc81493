"""Social data coming in over REST: posts and their daily metrics as a JSON list or a CSV file, validated row by
row and upserted by natural key (platform + post id; platform + post id + date)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.social.models import Influencer, SocialPost, SocialPostMetric
from services.campaigns.social.schemas import MetricRow, PostRow
from shared.db import upsert, utcnow
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
        row = post.model_dump(exclude={"campaign"}) | {"utm_campaign": post.campaign}
        stored.append(row | {"competitor_handle": handle, "imported_at": utcnow()})
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
