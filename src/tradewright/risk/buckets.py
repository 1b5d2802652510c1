"""Token buckets on the kernel clock: the same decisions in a backtest as live, in exact integers."""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["RateLimiter", "TokenBucket"]


class TokenBucket:
    """`tokens` per `period_ns`, refilled continuously; a full bucket allows a burst of `tokens`.

    Levels are kept in token × period_ns units so that refilling (elapsed_ns × tokens) stays integral.
    """

    __slots__ = ("_capacity", "_cost", "_last_ns", "_level", "_rate")

    def __init__(self, tokens: int, period_ns: int, now_ns: int) -> None:
        if tokens <= 0 or period_ns <= 0:
            raise ValueError(f"a token bucket needs tokens > 0 and period_ns > 0, got {tokens}, {period_ns}")
        self._capacity = tokens * period_ns
        self._cost = period_ns
        self._rate = tokens
        self._level = self._capacity
        self._last_ns = now_ns

    def _refill(self, now_ns: int) -> None:
        if now_ns > self._last_ns:
            self._level = min(self._capacity, self._level + (now_ns - self._last_ns) * self._rate)
            self._last_ns = now_ns

    def available(self, now_ns: int) -> bool:
        self._refill(now_ns)
        return self._level >= self._cost

    def take(self, now_ns: int) -> None:
        """Use one token (callers check `available` first; the level never goes below zero)."""
        self._refill(now_ns)
        self._level = max(0, self._level - self._cost)

    def wait_ns(self, now_ns: int) -> int:
        """Nanoseconds until one token is available (0 if one is)."""
        self._refill(now_ns)
        missing = self._cost - self._level
        return 0 if missing <= 0 else -(-missing // self._rate)


class RateLimiter:
    """One bucket per key, created full on first use."""

    __slots__ = ("_buckets", "_period_ns", "_tokens")

    def __init__(self, tokens: int, period_ns: int) -> None:
        self._tokens = tokens
        self._period_ns = period_ns
        self._buckets: dict[Hashable, TokenBucket] = {}

    def bucket(self, key: Hashable, now_ns: int) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._tokens, self._period_ns, now_ns)
        return bucket
