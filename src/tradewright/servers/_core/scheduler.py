"""A timer heap for the simulated venue's delayed work, run on the replay's clock."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from tradewright.core.clock import SimClock

__all__ = ["Scheduler"]


class Scheduler:
    """`schedule(ts, callback, arg)` as `SimVenue` expects; `run_due(ts)` moves the clock and runs what is due."""

    __slots__ = ("_heap", "_seq", "clock")

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._heap: list[tuple[int, int, Callable[[Any], None], Any]] = []
        self._seq = 0

    def schedule(self, ts_ns: int, callback: Callable[[Any], None], arg: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (ts_ns, self._seq, callback, arg))

    def run_due(self, ts_ns: int) -> int:
        """Run every callback due at or before `ts_ns` in time order (including ones they add)."""
        ran = 0
        heap = self._heap
        while heap and heap[0][0] <= ts_ns:
            due, _, callback, arg = heapq.heappop(heap)
            self.clock.advance_to(due)
            callback(arg)
            ran += 1
        self.clock.advance_to(ts_ns)
        return ran
