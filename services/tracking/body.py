"""Request bodies: JSON whatever the Content-Type, gzip with a cap on the decompressed size."""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from shared.errors import BadRequest, PayloadTooLarge, field_error


def decompress(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """The body as sent, gunzipped when `Content-Encoding: gzip`; 413 past `limit` bytes."""
    if len(raw) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadRequest(f"Content-Encoding '{encoding}' is not supported; use gzip.")
    wbits = zlib.MAX_WBITS | (16 if "gzip" in encoding else 0)
    inflater = zlib.decompressobj(wbits)
    try:
        # max_length stops a gzip bomb after limit+1 bytes instead of inflating all of it.
        body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise BadRequest("The body is not valid gzip.") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"The decompressed body is larger than the limit of {limit} bytes.")
    return body


def parse_json(body: bytes) -> Any:
    """The body parsed as JSON, or 400 naming the position of the error."""
    if not body.strip():
        raise BadRequest("The body is empty; send a JSON object.", fields=[field_error("body", "empty")])
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("The body is not valid JSON.", fields=[field_error("body", str(exc))]) from None
    try:
        # orjson reads 1024 levels but writes 254: refuse now what could not be published (or spooled) later,
        # keeping one level spare for the rejected-topic envelope around an event.
        orjson.dumps({"payload": parsed})
    except orjson.JSONEncodeError:
        raise BadRequest("The body is nested too deeply.", fields=[field_error("body", "nested too deeply")]) from None
    return parsed
