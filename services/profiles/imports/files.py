"""Imported files (customers or orders; CSV or CDNOW) → tracked events or rejected rows. Pure: no I/O.

Each accepted row becomes the event live data would have produced (`identify` for a customer, `Order
Completed` for an order, at its historical time), so every service sees imports exactly as live data.
The `messageId` of a customer row comes from the file's content and line, that of an order from the customer and
order id: importing the same file (or the same orders in another file) twice is a no-op.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.profiles.identity import normalise_email
from shared.errors import Invalid, field_error
from shared.events import is_junk_identifier

KINDS = ("customers", "orders")
FORMATS = ("csv", "cdnow")
# Column roles and the header names (normalised: lower case, `_` for spaces and dashes) that fill them.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "customer_id", "user_id"),
    "customer_id": ("customer_id", "user_id"),
    "email": ("email",),
    "order_id": ("order_id",),
    "timestamp": ("timestamp",),
    "revenue": ("revenue",),
    "currency": ("currency",),
}
REQUIRED = {"customers": ("id",), "orders": ("customer_id", "order_id", "timestamp", "revenue")}
OPTIONAL = {"customers": ("email", "timestamp"), "orders": ("currency",)}
DELIMITERS = ",;\t|"
MAX_ID_LENGTH = 500
MAX_REVENUE = 1e12  # what profiles counts as a plausible amount
FUTURE_SLACK = timedelta(days=1)
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
CURRENCY = re.compile(r"[A-Za-z]{3}")
LIBRARY = {"name": "tessera-import", "version": "1"}


class RowRejected(Exception):
    """A row that cannot be imported; the message is the reason shown to the user."""


@dataclass(frozen=True)
class ImportFile:
    """A decoded file whose header was checked: ready to be read row by row."""

    kind: str
    format: str
    text: str
    digest: str
    delimiter: str = ","
    columns: dict[str, int] = field(default_factory=dict)  # role → position
    extras: dict[str, int] = field(default_factory=dict)  # trait or property name → position


@dataclass(frozen=True)
class Row:
    """One data line: the event it became, or why it was rejected."""

    line: int
    event: dict[str, Any] | None = None
    reason: str | None = None


def open_file(kind: str, file_format: str, content: bytes) -> ImportFile:
    """Decode and check a file (format, header, at least one row); raise `Invalid` naming what is wrong."""
    if kind not in KINDS or file_format not in FORMATS:
        raise Invalid(f"Unknown import {kind!r} in format {file_format!r}.")
    if file_format == "cdnow" and kind != "orders":
        raise Invalid("The CDNOW format holds orders; import it with /v1/imports/orders.", fields=[
            field_error("format", "cdnow is only for orders")])  # fmt: skip
    text = _decode(content)
    digest = hashlib.sha1(content, usedforsecurity=False).hexdigest()[:12]
    if file_format == "cdnow":
        if not any(line.strip() for line in io.StringIO(text, newline="")):
            raise _empty()
        return ImportFile(kind, file_format, text, digest)
    return _open_csv(kind, text, digest)


def _decode(content: bytes) -> str:
    if not content.strip():
        raise _empty()
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"The file is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV.",
                      fields=[field_error("body", "not UTF-8")]) from exc  # fmt: skip


def _empty() -> Invalid:
    return Invalid("The file is empty: it has no rows to import.", fields=[field_error("body", "no rows")])


def _open_csv(kind: str, text: str, digest: str) -> ImportFile:
    end = text.find("\n")
    first_line = text[: end if end >= 0 else len(text)]
    delimiter = max(DELIMITERS, key=first_line.count) if any(d in first_line for d in DELIMITERS) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip() for cell in next(reader, [])]
    columns, extras = _map_header(kind, header)
    if not any(any(cell.strip() for cell in cells) for cells in reader):
        raise _empty()
    return ImportFile(kind, "csv", text, digest, delimiter, columns, extras)


def _map_header(kind: str, header: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Positions of the known columns and of the other (named) columns; `Invalid` when one is missing."""
    columns: dict[str, int] = {}
    extras: dict[str, int] = {}
    for position, name in enumerate(header):
        role = _role(kind, name)
        if role in columns:
            raise Invalid(f"The column {name!r} appears twice.", fields=[field_error(name, "duplicate column")])
        if role is not None:
            columns[role] = position
        elif name:
            extras.setdefault(name, position)
    for role in REQUIRED[kind]:
        if role not in columns:
            names = " or ".join(repr(a) for a in ALIASES[role])
            raise Invalid(f"The header has no {names} column; {kind} need it.",
                          fields=[field_error(role, "required column missing")])  # fmt: skip
    return columns, extras


def _role(kind: str, name: str) -> str | None:
    normalised = re.sub(r"[\s\-]+", "_", name.strip().lower())
    for role in REQUIRED[kind] + OPTIONAL[kind]:
        if normalised in ALIASES[role]:
            return role
    return None


def read_rows(file: ImportFile, *, job_id: str, now: datetime) -> Iterator[Row]:
    """Every data row of the file, in order, as an event or a rejection (blank lines are skipped)."""
    rows = _rows(file, job_id, now)
    return _without_repeated_orders(rows) if file.kind == "orders" else rows


def _without_repeated_orders(rows: Iterator[Row]) -> Iterator[Row]:
    """An order id seen earlier in the file is a repeated row, not a second order: it would count twice."""
    first_line: dict[str, int] = {}
    for row in rows:
        order_id = row.event["properties"]["order_id"] if row.event is not None else None
        if order_id is not None and order_id in first_line:
            row = Row(row.line, reason=f"order_id {order_id[:40]!r} repeats line {first_line[order_id]}")
        elif order_id is not None:
            first_line[order_id] = row.line
        yield row


def _rows(file: ImportFile, job_id: str, now: datetime) -> Iterator[Row]:
    lines = _cdnow_lines(file) if file.format == "cdnow" else _csv_lines(file)
    build = _cdnow_order if file.format == "cdnow" else (_customer if file.kind == "customers" else _order)
    for line, cells in lines:
        if isinstance(cells, str):
            yield Row(line, reason=cells)
            continue
        try:
            fields = build(file, line, cells, now)
        except RowRejected as exc:
            yield Row(line, reason=str(exc))
            continue
        event = _event(file, line, job_id, now) | fields
        if event.get("event") == "Order Completed":
            event["messageId"] = order_message_id(event["userId"], event["properties"]["order_id"])
        yield Row(line, event=event)


def order_message_id(user_id: str, order_id: str) -> str:
    """Orders are identified by customer and order id, so the same order in another file counts once."""
    digest = hashlib.sha1(f"{user_id}\x00{order_id}".encode(), usedforsecurity=False).hexdigest()[:24]
    return f"import-order-{digest}"


def _csv_lines(file: ImportFile) -> Iterator[tuple[int, list[str] | str]]:
    """(line where the record starts, its cells or why it cannot be read); the header is line 1."""
    reader = csv.reader(io.StringIO(file.text, newline=""), delimiter=file.delimiter)
    width = len(next(reader))
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"unreadable CSV: {exc}"
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if any(cell.strip() for cell in cells[width:]):
            yield start, f"{len(cells)} cells but the header has {width} columns"
            continue
        yield start, cells + [""] * (width - len(cells))


def _cdnow_lines(file: ImportFile) -> Iterator[tuple[int, list[str] | str]]:
    for number, text in enumerate(io.StringIO(file.text, newline=""), 1):
        cells = text.split()
        if not cells:
            continue
        if len(cells) != 5:
            yield number, f"{len(cells)} fields; CDNOW lines have 5: customer id, sample id, date, CDs, dollars"
            continue
        yield number, cells


def _event(file: ImportFile, line: int, job_id: str, now: datetime) -> dict[str, Any]:
    return {
        "messageId": f"import-{file.kind}-{file.digest}-{line}", "sourceId": f"import:{job_id}", "sourceTrusted": True,
        "receivedAt": now.isoformat(), "properties": {}, "traits": {}, "context": {"library": LIBRARY},
    }  # fmt: skip


def _cell(file: ImportFile, cells: list[str], role: str) -> str:
    position = file.columns.get(role)
    return cells[position].strip() if position is not None else ""


def _extras(file: ImportFile, cells: list[str]) -> dict[str, str]:
    """The columns that are not known roles, blank cells left out (an empty cell says nothing)."""
    return {name: cells[p].strip() for name, p in file.extras.items() if cells[p].strip()}


def _customer(file: ImportFile, line: int, cells: list[str], now: datetime) -> dict[str, Any]:
    user_id = parse_user_id(_cell(file, cells, "id"), "id")
    traits: dict[str, Any] = _extras(file, cells)
    email = _cell(file, cells, "email")
    if email:
        if normalise_email(email) is None:
            raise RowRejected(f"email {email[:80]!r} is not an email address")
        traits["email"] = email
    stamp = _cell(file, cells, "timestamp")
    at = parse_time(stamp, now) if stamp else now
    return {"type": "identify", "userId": user_id, "traits": traits, "timestamp": at.isoformat()}


def _order(file: ImportFile, line: int, cells: list[str], now: datetime) -> dict[str, Any]:
    user_id = parse_user_id(_cell(file, cells, "customer_id"), "customer_id")
    order_id = _cell(file, cells, "order_id")
    if not order_id:
        raise RowRejected("order_id is empty")
    at = parse_time(_cell(file, cells, "timestamp"), now)
    properties = _extras(file, cells) | {
        "order_id": order_id, "revenue": parse_revenue(_cell(file, cells, "revenue")),
        "currency": parse_currency(_cell(file, cells, "currency")),
    }  # fmt: skip
    return _order_fields(user_id, at, properties)


def _cdnow_order(file: ImportFile, line: int, cells: list[str], now: datetime) -> dict[str, Any]:
    """`master_id sample_id YYYYMMDD cds dollars` → an order by the master id (kept as written)."""
    master, _, day, cds, dollars = cells
    user_id = parse_user_id(master, "customer id")
    at = parse_time(day, now)
    if not cds.isdigit():
        raise RowRejected(f"CD count {cds[:40]!r} is not a whole number")
    properties = {"order_id": f"cdnow-{line}", "revenue": parse_revenue(dollars),
                  "currency": "USD", "quantity": int(cds)}  # fmt: skip
    return _order_fields(user_id, at, properties)


def _order_fields(user_id: str, at: datetime, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "track", "event": "Order Completed", "userId": user_id, "timestamp": at.isoformat(),
            "properties": properties}  # fmt: skip


def parse_user_id(text: str, column: str) -> str:
    """A customer id, or `RowRejected` when it is empty, a placeholder (`null`, `0` …) or too long."""
    if not text:
        raise RowRejected(f"{column} is empty")
    if is_junk_identifier(text):
        raise RowRejected(f"{column} {text[:40]!r} is a placeholder, not an id")
    if len(text) > MAX_ID_LENGTH:
        raise RowRejected(f"{column} is longer than {MAX_ID_LENGTH} characters")
    return text


def parse_time(text: str, now: datetime) -> datetime:
    """ISO-8601 or `YYYYMMDD` (UTC when no offset is given), not in the future."""
    try:
        at = datetime.strptime(text, "%Y%m%d") if re.fullmatch(r"\d{8}", text) else datetime.fromisoformat(text)
    except ValueError:
        raise RowRejected(f"timestamp {text[:40]!r} is not ISO-8601 or YYYYMMDD") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > now + FUTURE_SLACK:
        raise RowRejected(f"timestamp {text[:40]!r} is in the future")
    return at


def parse_revenue(text: str) -> float:
    """A non-negative plain decimal amount (`12`, `12.5`; no symbols, separators or exponents)."""
    if not NUMBER.fullmatch(text):
        raise RowRejected(f"revenue {text[:40]!r} is not a number" if text else "revenue is empty")
    amount = float(text)
    if amount < 0:
        raise RowRejected(f"revenue {text!r} is negative")
    if amount >= MAX_REVENUE:
        raise RowRejected(f"revenue {text!r} is implausibly large")
    return amount


def parse_currency(text: str) -> str:
    """An ISO-4217 code in upper case; USD when the cell is empty."""
    if not text:
        return "USD"
    if not CURRENCY.fullmatch(text):
        raise RowRejected(f"currency {text[:40]!r} is not a three-letter code")
    return text.upper()
