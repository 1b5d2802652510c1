"""Client-side rate limits: token buckets holding a venue's documented request weights.

A request waits for its weight before it is sent (never a retry storm); a 429/418 or a venue's own
"too many requests" answer empties the bucket and pauses it for the venue's Retry-After, so the next
requests wait instead of hammering the venue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["RateLimited", "TokenBucket"]


class RateLimited(Exception):
    """A request would wait longer than its caller allows."""


class TokenBucket:
    """`capacity` tokens refilled at `capacity / period_s` a second.

    `acquire(weight)` waits until the weight is available (FIFO among waiters). `penalise(pause_s)`
    applies a venue's back-off: the bucket is empty and no token is granted for `pause_s`.
    """

    def __init__(
        self,
        name: str,
        capacity: float,
        period_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0 or period_s <= 0:
            raise ValueError(f"rate bucket {name}: capacity and period must be positive")
        self.name = name
        self.capacity = float(capacity)
        self.rate_per_s = capacity / period_s
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.waits = 0  # requests that had to wait
        self.waited_s = 0.0
        self.penalties = 0  # 429/418-style answers applied

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now

    def available(self) -> float:
        now = self._clock()
        self._refill(now)
        return 0.0 if now < self._paused_until else self._tokens

    def delay_for(self, weight: float) -> float:
        """Seconds until `weight` tokens can be granted (0 when now)."""
        now = self._clock()
        self._refill(now)
        pause = max(0.0, self._paused_until - now)
        missing = max(0.0, weight - self._tokens)
        return max(pause, missing / self.rate_per_s)

    async def acquire(self, weight: float = 1.0, *, max_wait_s: float | None = None) -> float:
        """Take `weight` tokens, waiting as needed; return the seconds waited."""
        if weight > self.capacity:
            raise ValueError(f"rate bucket {self.name}: weight {weight} exceeds capacity {self.capacity}")
        waited = 0.0
        async with self._lock:
            while True:
                delay = self.delay_for(weight)
                if delay <= 0:
                    self._tokens -= weight
                    break
                if max_wait_s is not None and waited + delay > max_wait_s:
                    raise RateLimited(
                        f"{self.name}: request of weight {weight:g} would wait {waited + delay:.2f} s"
                    )
                await asyncio.sleep(delay)
                waited += delay
        if waited:
            self.waits += 1
            self.waited_s += waited
        return waited

    def penalise(self, pause_s: float) -> None:
        """The venue said "too many requests": grant nothing for `pause_s` and start from empty."""
        now = self._clock()
        self._refill(now)
        self._tokens = 0.0
        self._updated = now
        self._paused_until = max(self._paused_until, now + max(0.0, pause_s))
        self.penalties += 1
