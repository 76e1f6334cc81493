"""Reading a request body without buffering more than a limit (an upload or a batch may be any size on the wire)."""

from __future__ import annotations

from fastapi import Request

from shared.errors import PayloadTooLarge


async def read_limited(request: Request, limit: int, message: str) -> bytes:
    """The raw body, refused with 413 and `message` as soon as it passes `limit` bytes, declared or streamed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        if int(declared) > limit:
            raise PayloadTooLarge(message)
        return await request.body()  # the server never reads past Content-Length
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(message)
        chunks.append(chunk)
    return b"".join(chunks)
