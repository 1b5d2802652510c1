"""The rows the replay loop works on: a whole in-memory stream, or a sliding window over chunks.

A long recording (a Parquet cache read row group by row group, `tradewright.data.cache.iter_stream`)
is replayed a chunk at a time, so memory stays flat however long the data is: the window holds the
rows neither clock has finished (the strategy's clock lags the venue's by the market-data latency, so
a few rows carry over) plus the next chunk. The compiled loop asks for more (`R_REFILL`) when the
venue's cursor reaches the end of the window; indices the loop returns are window indices.

Both clocks are computed here: the venue sees row k at `ve[k]` (the running maximum of the receive
times, so time never goes back) and the strategy at `lo[k]` (the running maximum of ve + latency).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from tradewright.model.book import MAX_CAPACITY
from tradewright.model.columnar import COLUMNS, MarketStream

__all__ = ["StreamWindow"]


class StreamWindow:
    """See the module docstring. `chunks` must be one instrument's stream in time order."""

    def __init__(self, chunks: Iterable[MarketStream], market_data_latency_ns: int | np.ndarray = 0) -> None:
        self._chunks: Iterator[MarketStream] = iter(chunks)
        first = next(self._chunks, None)
        if first is None:
            raise ValueError("no market data: the stream has no chunks")
        self.instrument = first.instrument
        self._latency = market_data_latency_ns
        self.shared = bool(np.all(np.asarray(market_data_latency_ns) == 0))
        self.far_levels_dropped = 0
        self.rows_done = 0  # rows dropped from the front of the window so far
        self._ve_max = np.iinfo(np.int64).min
        self._lo_max = np.iinfo(np.int64).min
        self.stream, self.ve, self.lo = self._prepare(first)
        self._next: MarketStream | None = next(self._chunks, None)
        if self._next is not None and isinstance(market_data_latency_ns, np.ndarray):
            raise ValueError("a per-row market-data latency needs the whole stream in memory, not chunks")

    @property
    def more(self) -> bool:
        """Whether chunks are still to come."""
        return self._next is not None

    def _prepare(self, chunk: MarketStream) -> tuple[MarketStream, np.ndarray, np.ndarray]:
        # Levels absurdly far from the market never trade and do not fit the ladder: drop and count them.
        chunk, dropped = chunk.without_far_levels(MAX_CAPACITY // 4)
        self.far_levels_dropped += dropped
        if len(chunk) == 0:
            return chunk, chunk.ts_recv.copy(), chunk.ts_recv.copy()
        ve = np.maximum.accumulate(np.maximum(chunk.ts_recv, self._ve_max))
        lo = np.maximum.accumulate(np.maximum(ve + self._latency, self._lo_max))
        self._ve_max, self._lo_max = int(ve[-1]), int(lo[-1])
        return chunk, ve, lo

    def refill(self, keep_from: int) -> None:
        """Drop rows before `keep_from` (both clocks are past them) and append the next chunk."""
        assert self._next is not None
        chunk, ve, lo = self._prepare(self._next)
        self._next = next(self._chunks, None)
        old = self.stream
        cols = {name: np.concatenate([old.column(name)[keep_from:], chunk.column(name)]) for name in COLUMNS}
        self.stream = MarketStream(self.instrument, source=old.source, stats=dict(old.stats), **cols)
        self.ve = np.concatenate([self.ve[keep_from:], ve])
        self.lo = np.concatenate([self.lo[keep_from:], lo])
        self.rows_done += keep_from

    @property
    def total_rows(self) -> int:
        """Rows replayed or in the window so far (the whole stream's length once every chunk is in)."""
        return self.rows_done + len(self.stream)
