"""Publish accepted events: to Kafka within a deadline, else to the durable spool, replayed in order."""

from __future__ import annotations

import asyncio

import structlog

from services.tracking.spool import Spool
from shared.aio import wait_event
from shared.bus import Bus, OutboundMessage
from shared.errors import Unavailable

log = structlog.get_logger(__name__)


class Publisher:
    """Makes every accepted event durable before the request is answered."""

    def __init__(self, bus: Bus, spool: Spool, *, timeout_seconds: float) -> None:
        self.bus = bus
        self.spool = spool
        self.timeout_seconds = timeout_seconds
        self._wakeup = asyncio.Event()

    async def publish(self, messages: list[OutboundMessage]) -> str:
        """Return where the events are durable: `broker` or `spool`; 503 if neither took them."""
        if not messages:
            return "broker"
        # While anything is spooled, new events queue behind it so one person's events stay in order.
        if self.spool.pending == 0:
            try:
                async with asyncio.timeout(self.timeout_seconds):
                    await self.bus.send_many(messages)
                return "broker"
            except Exception as exc:
                log.warning("broker_unavailable_spooling", error=type(exc).__name__, events=len(messages))
        try:
            await self.spool.append(messages)
        except Exception as exc:
            log.error("spool_write_failed", error=type(exc).__name__)
            raise Unavailable("Events cannot be stored right now.", headers={"Retry-After": "5"}) from exc
        self._wakeup.set()
        return "spool"

    async def replay_forever(self, *, batch_size: int = 500) -> None:
        """Send spooled events to the broker in order, deleting each batch once acknowledged."""
        delay = 0.2
        while True:
            await wait_event(self._wakeup, 1.0)
            self._wakeup.clear()
            try:
                await self.replay_once(batch_size=batch_size)
                delay = 0.2
            except Exception as exc:
                log.info("spool_replay_waiting", error=type(exc).__name__, pending=self.spool.pending)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                self._wakeup.set()

    async def replay_once(self, *, batch_size: int = 500) -> int:
        """Drain the spool; return how many events were sent."""
        sent = 0
        while self.spool.pending:
            rows = await self.spool.peek(batch_size)
            if not rows:
                self.spool.pending = 0
                break
            async with asyncio.timeout(max(self.timeout_seconds, 10.0)):
                await self.bus.send_many([m for _, m in rows])
            await self.spool.remove([row_id for row_id, _ in rows])
            sent += len(rows)
        return sent
