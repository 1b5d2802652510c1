"""An asyncio data client that plays a recorded stream in scaled real time.

It hands the node ranges of row indices whose time has come, so the node can process bursts in one go;
the node's queue never holds row objects, only (start, stop) pairs.
"""

from __future__ import annotations

import asyncio

import numpy as np

from tradewright.live.clock import ScaledClock
from tradewright.model.columnar import MarketStream

__all__ = ["ReplayDataClient"]


class ReplayDataClient:
    """Put (start, stop) row ranges on `queue` as data time passes; None at the end of the recording."""

    def __init__(
        self,
        stream: MarketStream | np.ndarray,
        clock: ScaledClock,
        queue: asyncio.Queue[tuple[int, int] | None],
    ) -> None:
        """`stream` is one recording, or the receive times of rows merged from several (in order)."""
        times = stream if isinstance(stream, np.ndarray) else stream.ts_recv
        self.clock = clock
        self.queue = queue
        self._times = np.maximum.accumulate(times) if len(times) else times
        self.delivered = 0

    async def run(self) -> None:
        n = len(self._times)
        k = 0
        while k < n:
            wait = self.clock.wall_seconds_until(int(self._times[k]))
            if wait > 0:
                await asyncio.sleep(min(wait, 0.05))
                continue
            stop = int(np.searchsorted(self._times, self.clock.now_ns(), side="right"))
            stop = max(stop, k + 1)
            await self.queue.put((k, stop))
            self.delivered = stop
            k = stop
        await self.queue.put(None)
