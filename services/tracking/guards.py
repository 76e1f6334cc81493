"""Per-write-key rate limiting and recent-messageId dedup, both in bounded memory."""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class RateLimiter:
    """A token bucket per key: `rate` requests a second with bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys

    def retry_after(self, key: str, now: float | None = None) -> int:
        """0 if the request may go ahead (and take a token), else the seconds to wait."""
        if self.rate <= 0:
            return 0
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return 0 if allowed else max(1, math.ceil((1 - tokens) / self.rate))


class RecentIds:
    """Remembers ids for `window` seconds, at most `max_ids` of them (oldest forgotten first)."""

    def __init__(self, window_seconds: float, max_ids: int) -> None:
        self.window = window_seconds
        self.max_ids = max_ids
        self._seen: OrderedDict[str, float] = OrderedDict()

    def seen_before(self, key: str, now: float | None = None) -> bool:
        """True if `key` was recorded within the window; records it otherwise."""
        now = time.monotonic() if now is None else now
        self._expire(now)
        if key in self._seen:
            return True
        self._seen[key] = now
        if len(self._seen) > self.max_ids:
            self._seen.popitem(last=False)
        return False

    def forget(self, key: str) -> None:
        """Drop a key (its event was not made durable after all)."""
        self._seen.pop(key, None)

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest_key, at = next(iter(self._seen.items()))
            if now - at < self.window:
                break
            self._seen.popitem(last=False)
