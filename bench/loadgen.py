"""A lean HTTP/1.1 keep-alive client on asyncio streams, so the load generator's own cost stays small.

httpx spends far more CPU per request than the server under test; on a 2-core machine that cost would show
up as server latency. This client only writes a prepared request and reads status, headers and body.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit


class Connection:
    """One keep-alive connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, raw: bytes) -> int:
        """Send a prepared request; return the status once the whole response is read."""
        return (await self.exchange(raw))[0]

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send a prepared request; return the status and the body."""
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the keep-alive connection")
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return int(status_line.split(b" ", 2)[1]), body


class Pool:
    """Keep-alive connections to one host, opened on demand up to `size`."""

    def __init__(self, url: str, size: int = 64) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.size = size
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()
        self._opened = 0

    def prepare(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        """The bytes of a POST request, built once and sent many times."""
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def _connection(self, fresh: bool = False) -> Connection:
        if fresh or (self._idle.empty() and self._opened < self.size):
            self._opened += 1
            return Connection(*await asyncio.open_connection(self.host, self.port))
        return await self._idle.get()

    async def send(self, raw: bytes) -> tuple[int, float]:
        """Status and latency (ms) of one request, timed from when it was due, not when a socket was free."""
        status, _, ms = await self.send_read(raw)
        return status, ms

    async def send_read(self, raw: bytes) -> tuple[int, bytes, float]:
        """Status, body and latency (ms) of one request."""
        started = time.perf_counter()
        for attempt in (1, 2):  # an idle connection the server timed out is replaced once
            connection = await self._connection(fresh=attempt == 2)
            try:
                status, body = await connection.exchange(raw)
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                self._opened -= 1
                connection.writer.close()
                if attempt == 2:
                    raise
        self._idle.put_nowait(connection)
        return status, body, (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        """Close every idle connection."""
        while not self._idle.empty():
            self._idle.get_nowait().writer.close()
