"""Recorded bars replayed on a market clock, shared by the broker servers (IB, Alpaca).

Each contract with data has one `BarSeries` (e.g. the recorded one-minute CME 6EH4 bars). The
market clock starts after `warmup` bars and moves one bar at a time — `step()` in tests, or a paced
task (`seconds_per_bar` wall seconds a bar). When a bar completes it is revealed: its prices become
the last trade, the quotes sit around its close (`spread_ticks` wide, `quote_lots` a side) and
subscribers hear of it. Only recorded prices are ever shown: a contract without data has no quotes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tradewright.data.bars import BarSeries

__all__ = ["BarRow", "ReplayMarket"]


@dataclass(frozen=True, slots=True)
class BarRow:
    """One revealed bar in ticks (exact) and its volume."""

    ts_open_ns: int
    ts_close_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: Decimal


@dataclass(slots=True)
class _Feed:
    series: BarSeries
    tick: Decimal
    revealed: int = 0  # bars [0, revealed) are complete and public


class ReplayMarket:
    """Recorded bars per conId on one market clock (see the module docstring)."""

    def __init__(self, *, warmup: int = 60, spread_ticks: int = 1, quote_lots: int = 50) -> None:
        self.feeds: dict[int, _Feed] = {}
        self.warmup = warmup
        self.spread_ticks = spread_ticks
        self.quote_lots = quote_lots
        self.now_ns = 0
        self.listeners: list[Callable[[int, BarRow], None]] = []

    def add(self, con_id: int, series: BarSeries) -> None:
        if series.instrument is None or series.open_ticks is None:
            raise ValueError("replayed bars must be loaded with their instrument (exact ticks)")
        if len(series) <= self.warmup:
            raise ValueError(f"{series.source}: {len(series)} bars, fewer than the warm-up of {self.warmup}")
        self.feeds[con_id] = _Feed(series, series.instrument.tick_size, self.warmup)
        self.now_ns = max(self.now_ns, int(series.ts_close_ns[self.warmup - 1]))

    def has_data(self, con_id: int) -> bool:
        return con_id in self.feeds

    def tick_size(self, con_id: int) -> Decimal:
        return self.feeds[con_id].tick

    def row(self, con_id: int, i: int) -> BarRow:
        s = self.feeds[con_id].series
        assert s.open_ticks is not None and s.high_ticks is not None
        assert s.low_ticks is not None and s.close_ticks is not None
        volume = s.volume[i]
        return BarRow(
            int(s.ts_open_ns[i]),
            int(s.ts_open_ns[i]) + s.interval_ns,
            int(s.open_ticks[i]),
            int(s.high_ticks[i]),
            int(s.low_ticks[i]),
            int(s.close_ticks[i]),
            Decimal(0) if volume != volume else Decimal(int(volume)),
        )

    def interval_ns(self, con_id: int) -> int:
        return self.feeds[con_id].series.interval_ns

    def last_bar(self, con_id: int) -> BarRow | None:
        feed = self.feeds.get(con_id)
        if feed is None or feed.revealed == 0:
            return None
        return self.row(con_id, feed.revealed - 1)

    def completed(self, con_id: int, since_ns: int) -> list[BarRow]:
        """Revealed bars that opened at or after `since_ns`, oldest first."""
        feed = self.feeds[con_id]
        out = []
        for i in range(feed.revealed - 1, -1, -1):
            row = self.row(con_id, i)
            if row.ts_open_ns < since_ns:
                break
            out.append(row)
        return out[::-1]

    def quote(self, con_id: int) -> tuple[int, int] | None:
        """(bid, ask) in ticks around the last close, or None without data."""
        bar = self.last_bar(con_id)
        if bar is None:
            return None
        bid = bar.close - self.spread_ticks // 2
        return bid, bid + self.spread_ticks

    def step(self) -> list[tuple[int, BarRow]]:
        """Reveal the next bar (of whichever feed completes first); return what was revealed."""
        best: int | None = None
        for feed in self.feeds.values():
            if feed.revealed < len(feed.series):
                close = int(feed.series.ts_open_ns[feed.revealed]) + feed.series.interval_ns
                best = close if best is None else min(best, close)
        if best is None:
            return []
        out = []
        for con_id, feed in self.feeds.items():
            if feed.revealed < len(feed.series):
                close = int(feed.series.ts_open_ns[feed.revealed]) + feed.series.interval_ns
                if close == best:
                    out.append((con_id, self.row(con_id, feed.revealed)))
                    feed.revealed += 1
        self.now_ns = max(self.now_ns, best)
        for con_id, row in out:
            for listener in list(self.listeners):
                listener(con_id, row)
        return out

    def reveal(self, con_id: int) -> BarRow | None:
        """Reveal the next bar of one feed (a replay driven by a timeline of per-feed events)."""
        feed = self.feeds[con_id]
        if feed.revealed >= len(feed.series):
            return None
        row = self.row(con_id, feed.revealed)
        feed.revealed += 1
        self.now_ns = max(self.now_ns, row.ts_close_ns)
        for listener in list(self.listeners):
            listener(con_id, row)
        return row

    def pending(self) -> list[tuple[int, int]]:
        """(close time, key) of every bar not revealed yet, in time order (a replay's timeline)."""
        out = []
        for key, feed in self.feeds.items():
            s = feed.series
            for i in range(feed.revealed, len(s)):
                out.append((int(s.ts_open_ns[i]) + s.interval_ns, key))
        return sorted(out)

    @property
    def exhausted(self) -> bool:
        return all(f.revealed >= len(f.series) for f in self.feeds.values())
