"""Clocks. Every timestamp in tradewright is an integer count of nanoseconds since the Unix epoch, UTC."""

from __future__ import annotations

import functools
import math
import time
from typing import Protocol

__all__ = ["Clock", "LiveClock", "ScaledClock", "SimClock", "ns_to_iso"]


class Clock(Protocol):
    """Tell the current time in UTC nanoseconds."""

    def now_ns(self) -> int: ...


class SimClock:
    """A clock that only moves when the kernel moves it (backtests)."""

    __slots__ = ("_now_ns",)

    def __init__(self, start_ns: int = 0) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def advance_to(self, ts_ns: int) -> None:
        """Move the clock forward; time never runs backwards."""
        if ts_ns > self._now_ns:
            self._now_ns = ts_ns


class LiveClock:
    """Wall-clock time (paper and live)."""

    __slots__ = ()

    def now_ns(self) -> int:
        return time.time_ns()


class ScaledClock:
    """Data time = start_ns + (wall elapsed) x speed. `freeze()` stops it for an orderly shutdown,
    after which `advance_to` moves it by hand (like a simulated clock)."""

    __slots__ = ("_frozen_ns", "_speed", "_start_ns", "_wall0")

    def __init__(self, start_ns: int, speed: float) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a finite number > 0, got {speed}")
        self._start_ns = start_ns
        self._speed = speed
        self._wall0 = time.monotonic_ns()
        self._frozen_ns: int | None = None

    def now_ns(self) -> int:
        if self._frozen_ns is not None:
            return self._frozen_ns
        return self._start_ns + int((time.monotonic_ns() - self._wall0) * self._speed)

    def wall_seconds_until(self, ts_ns: int) -> float:
        """Wall-clock seconds until data time reaches `ts_ns` (0 if it already has)."""
        return max(0.0, (ts_ns - self.now_ns()) / self._speed / 1e9)

    def freeze(self) -> None:
        self._frozen_ns = self.now_ns()

    def advance_to(self, ts_ns: int) -> None:
        if self._frozen_ns is not None and ts_ns > self._frozen_ns:
            self._frozen_ns = ts_ns


def ns_to_iso(ts_ns: int) -> str:
    """Format a UTC nanosecond timestamp as ISO-8601 with microseconds, e.g. for reports and CSVs."""
    secs, ns = divmod(ts_ns, 1_000_000_000)
    return _iso_second(secs) + f".{ns // 1000:06d}Z"


@functools.lru_cache(maxsize=4096)
def _iso_second(secs: int) -> str:
    # Rows come in time order, many to a second (fills, equity samples): format each second once.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
