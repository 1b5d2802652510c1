"""Clocks. Every timestamp in tradewright is an integer count of nanoseconds since the Unix epoch, UTC."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "LiveClock", "SimClock", "ns_to_iso"]


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


def ns_to_iso(ts_ns: int) -> str:
    """Format a UTC nanosecond timestamp as ISO-8601 with microseconds, e.g. for reports and CSVs."""
    secs, ns = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns // 1000:06d}Z"
