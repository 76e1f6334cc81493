"""asyncio helpers. `asyncio.wait_for` on Python 3.11 can swallow a cancellation that races its timeout
(fixed in 3.12), which leaves a cancelled task running; `asyncio.timeout()` does not, so we use only that."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> None:
    """Return when `event` is set or after `seconds`, whichever comes first; cancellation always propagates."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass
