"""The columnar market-data stream: what loaders produce, the Parquet cache stores and backtests replay.

One `MarketStream` is one instrument's data as parallel numpy arrays, sorted by `ts_recv`:

| column    | dtype | meaning |
|-----------|-------|---------|
| ts_event  | int64 | venue time, ns UTC (Binance `E`/`T`) |
| ts_recv   | int64 | our receive time, ns UTC (recording's local time); replay order |
| kind      | int8  | KIND_DELTA, KIND_CLEAR, KIND_TRADE, KIND_QUOTE |
| side      | int8  | book side +1 bid / -1 ask; for trades the aggressor (+1 buy, -1 sell, 0 unknown) |
| tick      | int64 | price in ticks of the instrument |
| lots      | int64 | size in lots (for deltas the new total at that level; 0 deletes it) |
| flags     | int8  | F_LAST on the last row of a venue message (the book is consistent after it) |
| update_id | int64 | venue sequence id: a depth message's final id (`u`), a bookTicker's `u`, a trade's id |

A snapshot is a KIND_CLEAR row followed by KIND_DELTA rows. A bookTicker is two KIND_QUOTE rows
(bid then ask, same update_id). No Python object is created per row on the replay path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tradewright.model.instrument import Instrument

__all__ = [
    "COLUMNS",
    "F_LAST",
    "KIND_CLEAR",
    "KIND_DELTA",
    "KIND_QUOTE",
    "KIND_TRADE",
    "MarketStream",
    "StreamBuilder",
]

KIND_DELTA = 0
KIND_CLEAR = 1
KIND_TRADE = 2
KIND_QUOTE = 3
F_LAST = 1

COLUMNS: dict[str, type] = {
    "ts_event": np.int64,
    "ts_recv": np.int64,
    "kind": np.int8,
    "side": np.int8,
    "tick": np.int64,
    "lots": np.int64,
    "flags": np.int8,
    "update_id": np.int64,
}


@dataclass(slots=True)
class MarketStream:
    """One instrument's market data as parallel arrays (see the module docstring)."""

    instrument: Instrument
    ts_event: np.ndarray
    ts_recv: np.ndarray
    kind: np.ndarray
    side: np.ndarray
    tick: np.ndarray
    lots: np.ndarray
    flags: np.ndarray
    update_id: np.ndarray
    source: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ts_recv)

    def column(self, name: str) -> np.ndarray:
        value: np.ndarray = getattr(self, name)
        return value

    def slice(self, start: int, stop: int) -> MarketStream:
        cols = {name: self.column(name)[start:stop] for name in COLUMNS}
        return MarketStream(self.instrument, source=self.source, stats=dict(self.stats), **cols)

    def count(self, kind: int) -> int:
        return int(np.count_nonzero(self.kind == kind))

    def without_far_levels(self, max_distance_ticks: int) -> tuple[MarketStream, int]:
        """Drop level updates more than `max_distance_ticks` from the median level price.

        Venues keep stale orders at absurd prices (Binance spot showed an ask at 200,000 with the market
        at 61,000). They can never trade and do not fit a bounded price ladder, so replays drop them and
        count them. Returns the (possibly identical) stream and the number of rows dropped.
        """
        deltas = self.kind == KIND_DELTA
        if not deltas.any():
            return self, 0
        centre = int(np.median(self.tick[deltas]))
        far = deltas & (np.abs(self.tick - centre) > max_distance_ticks)
        dropped = int(np.count_nonzero(far))
        if dropped == 0:
            return self, 0
        keep = ~far
        cols = {name: self.column(name)[keep] for name in COLUMNS}
        stats = dict(self.stats)
        stats["far_levels_dropped"] = stats.get("far_levels_dropped", 0) + dropped
        return MarketStream(self.instrument, source=self.source, stats=stats, **cols), dropped


class StreamBuilder:
    """Append rows one message at a time; `build()` returns the arrays. Used by loaders, not by replay."""

    def __init__(self, instrument: Instrument, source: str = "") -> None:
        self.instrument = instrument
        self.source = source
        self._cols: dict[str, list[int]] = {name: [] for name in COLUMNS}
        self.stats: dict[str, int] = {}

    def add(
        self, ts_event: int, ts_recv: int, kind: int, side: int, tick: int, lots: int, update_id: int
    ) -> None:
        c = self._cols
        c["ts_event"].append(ts_event)
        c["ts_recv"].append(ts_recv)
        c["kind"].append(kind)
        c["side"].append(side)
        c["tick"].append(tick)
        c["lots"].append(lots)
        c["flags"].append(0)
        c["update_id"].append(update_id)

    def end_message(self) -> None:
        """Mark the last added row as the end of a venue message."""
        if self._cols["flags"]:
            self._cols["flags"][-1] |= F_LAST

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def __len__(self) -> int:
        return len(self._cols["ts_recv"])

    def build(self) -> MarketStream:
        arrays: dict[str, np.ndarray] = {
            name: np.asarray(values, dtype=dtype)
            for (name, values), dtype in zip(self._cols.items(), COLUMNS.values(), strict=True)
        }
        return MarketStream(self.instrument, source=self.source, stats=dict(self.stats), **arrays)
