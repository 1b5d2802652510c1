"""Bars from trades: time bars, tick bars and volume bars.

Two shapes of the same rules:

* incremental aggregators for live and event-driven use: ``update(ts_ns, price, size)`` returns a
  `tradewright.model.data.Bar` when a bar completes, else None. Prices and sizes are converted to
  integer ticks and lots on the instrument's grid (off-grid input raises `GridError`), so OHLC and
  volume are exact;
* vectorised functions over numpy arrays for backtests (`time_bars`, `tick_bars`, `volume_bars`),
  returning `AggregatedBars`. Given int64 ticks and lots they are exact and give the same bars as
  the aggregators; given float64 they compute in floats.

The rules:

* **Time bars** cover ``[start, start + interval_ns)`` with ``start = origin_ns + k * interval_ns``.
  A trade exactly on a boundary opens the next bar. A bar closes on the first trade at or after its
  end (`ts_init` = that trade's time) or when `flush(now_ns)` is called with ``now_ns`` at or after
  its end (`ts_init` = ``now_ns``). `ts_event` is the bar's end. An interval without trades makes
  no bar (nothing is invented).
* **Tick bars** close on every `trades_per_bar`-th trade.
* **Volume bars** close on the trade that brings the bar's volume to at least `volume_per_bar`.
  That trade is NOT split: it goes whole into the closing bar, so a bar's volume is
  ``>= volume_per_bar`` and exceeds it by less than its last trade's size; the next bar starts
  from zero (the excess is not carried over). A single trade larger than the threshold is a bar.

For tick and volume bars `ts_event` is the last trade's time and `interval_ns` the time from the
first to the last trade of the bar. Trades must arrive in time order; a trade earlier than the
open time bar's start raises `DataError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradewright.core.errors import ConfigError, DataError
from tradewright.model.data import Bar
from tradewright.model.instrument import Instrument

__all__ = [
    "AggregatedBars",
    "TickBarAggregator",
    "TimeBarAggregator",
    "VolumeBarAggregator",
    "tick_bars",
    "time_bars",
    "volume_bars",
]


class _OpenBar:
    """The bar being built, in ticks and lots."""

    __slots__ = ("close", "first_ts", "high", "last_ts", "low", "open", "trades", "volume")

    def __init__(self, ts_ns: int, ticks: int, lots: int) -> None:
        self.open = self.high = self.low = self.close = ticks
        self.volume = lots
        self.first_ts = self.last_ts = ts_ns
        self.trades = 1

    def add(self, ts_ns: int, ticks: int, lots: int) -> None:
        if ticks > self.high:
            self.high = ticks
        elif ticks < self.low:
            self.low = ticks
        self.close = ticks
        self.volume += lots
        self.last_ts = ts_ns
        self.trades += 1


class _Aggregator(ABC):
    """Shared conversion and bar building."""

    __slots__ = ("_bar", "instrument")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self._bar: _OpenBar | None = None

    def update(self, ts_ns: int, price: Decimal, size: Decimal) -> Bar | None:
        """Add a trade; return the bar it completes, if any."""
        inst = self.instrument
        return self.update_ticks(ts_ns, inst.price_to_ticks(price), inst.size_to_lots(size))

    @abstractmethod
    def update_ticks(self, ts_ns: int, ticks: int, lots: int) -> Bar | None:
        """Add a trade given in ticks and lots; return the bar it completes, if any."""

    def reset(self) -> None:
        """Drop the bar being built."""
        self._bar = None

    def _emit(self, bar: _OpenBar, interval_ns: int, ts_event: int, ts_init: int) -> Bar:
        inst = self.instrument
        return Bar(
            instrument_id=inst.id,
            interval_ns=interval_ns,
            open=inst.ticks_to_price(bar.open),
            high=inst.ticks_to_price(bar.high),
            low=inst.ticks_to_price(bar.low),
            close=inst.ticks_to_price(bar.close),
            volume=inst.lots_to_size(bar.volume),
            ts_event=ts_event,
            ts_init=ts_init,
        )


class TimeBarAggregator(_Aggregator):
    """Time bars of `interval_ns`, aligned to `origin_ns` (the Unix epoch by default)."""

    __slots__ = ("_end", "_start", "interval_ns", "origin_ns")

    def __init__(self, instrument: Instrument, interval_ns: int, *, origin_ns: int = 0) -> None:
        super().__init__(instrument)
        _check_positive("TimeBarAggregator.interval_ns", interval_ns)
        self.interval_ns = interval_ns
        self.origin_ns = origin_ns
        self._start = 0
        self._end = 0

    def update_ticks(self, ts_ns: int, ticks: int, lots: int) -> Bar | None:
        """Add a trade given in ticks and lots; return the bar it closes, if any."""
        bar = self._bar
        if bar is not None and self._start <= ts_ns < self._end:
            bar.add(ts_ns, ticks, lots)
            return None
        closed = None
        if bar is not None:
            if ts_ns < self._start:
                raise DataError(
                    f"trade at {ts_ns} ns is earlier than the open bar starting at {self._start} ns"
                )
            closed = self._emit(bar, self.interval_ns, self._end, ts_ns)
        self._start = ts_ns - (ts_ns - self.origin_ns) % self.interval_ns
        self._end = self._start + self.interval_ns
        self._bar = _OpenBar(ts_ns, ticks, lots)
        return closed

    def flush(self, now_ns: int) -> Bar | None:
        """Close and return the open bar if its interval has ended by `now_ns` (e.g. on a timer)."""
        bar = self._bar
        if bar is None or now_ns < self._end:
            return None
        self._bar = None
        return self._emit(bar, self.interval_ns, self._end, now_ns)


class TickBarAggregator(_Aggregator):
    """A bar every `trades_per_bar` trades."""

    __slots__ = ("trades_per_bar",)

    def __init__(self, instrument: Instrument, trades_per_bar: int) -> None:
        super().__init__(instrument)
        _check_positive("TickBarAggregator.trades_per_bar", trades_per_bar)
        self.trades_per_bar = trades_per_bar

    def update_ticks(self, ts_ns: int, ticks: int, lots: int) -> Bar | None:
        """Add a trade given in ticks and lots; return the bar it completes, if any."""
        bar = self._bar
        if bar is None:
            bar = self._bar = _OpenBar(ts_ns, ticks, lots)
        else:
            bar.add(ts_ns, ticks, lots)
        if bar.trades < self.trades_per_bar:
            return None
        self._bar = None
        return self._emit(bar, bar.last_ts - bar.first_ts, bar.last_ts, ts_ns)


class VolumeBarAggregator(_Aggregator):
    """A bar each time the traded size reaches `volume_per_bar` (trades are not split; see the module)."""

    __slots__ = ("_threshold_lots", "volume_per_bar")

    def __init__(self, instrument: Instrument, volume_per_bar: Decimal) -> None:
        super().__init__(instrument)
        self.volume_per_bar = volume_per_bar
        self._threshold_lots = instrument.size_to_lots(volume_per_bar)
        _check_positive("VolumeBarAggregator.volume_per_bar", self._threshold_lots)

    def update_ticks(self, ts_ns: int, ticks: int, lots: int) -> Bar | None:
        """Add a trade given in ticks and lots; return the bar it completes, if any."""
        bar = self._bar
        if bar is None:
            bar = self._bar = _OpenBar(ts_ns, ticks, lots)
        else:
            bar.add(ts_ns, ticks, lots)
        if bar.volume < self._threshold_lots:
            return None
        self._bar = None
        return self._emit(bar, bar.last_ts - bar.first_ts, bar.last_ts, ts_ns)


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer (in lots for volumes), got {value!r}")


# --- vectorised ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AggregatedBars:
    """Bars as parallel arrays; prices and volume keep the input dtype (int64 ticks/lots or float64).

    `ts_open_ns`/`ts_close_ns` are the interval bounds for time bars and the first/last trade times
    for tick and volume bars (`ts_close_ns` is the incremental aggregators' `ts_event`).
    """

    ts_open_ns: np.ndarray
    ts_close_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    trades: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_open_ns)


def time_bars(
    ts_ns: np.ndarray, price: np.ndarray, size: np.ndarray, interval_ns: int, *, origin_ns: int = 0
) -> AggregatedBars:
    """Aggregate time-ordered trades into time bars (every interval with a trade, including the last)."""
    _check_positive("time_bars interval_ns", interval_ns)
    ts, price, size = _check_arrays(ts_ns, price, size)
    bucket = (ts - origin_ns) // interval_ns
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]]) if len(ts) else np.empty(0, np.int64)
    bars = _reduce(ts, price, size, starts)
    bar_start = bucket[starts] * interval_ns + origin_ns
    return AggregatedBars(bar_start, bar_start + interval_ns, *bars[2:])


def tick_bars(
    ts_ns: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    trades_per_bar: int,
    *,
    include_partial: bool = False,
) -> AggregatedBars:
    """Aggregate trades into bars of `trades_per_bar` trades; the incomplete tail only if `include_partial`."""
    _check_positive("tick_bars trades_per_bar", trades_per_bar)
    ts, price, size = _check_arrays(ts_ns, price, size)
    n = len(ts) if include_partial else len(ts) - len(ts) % trades_per_bar
    return AggregatedBars(*_reduce(ts[:n], price[:n], size[:n], np.arange(0, n, trades_per_bar)))


def volume_bars(
    ts_ns: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    volume_per_bar: int | float,
    *,
    include_partial: bool = False,
) -> AggregatedBars:
    """Aggregate trades into volume bars by the module's rule (the crossing trade is not split).

    Pass sizes as int64 lots and `volume_per_bar` in lots for exact boundaries; with floats the
    running sums round, so a bar may close one trade earlier or later than exact arithmetic would.
    """
    ts, price, size = _check_arrays(ts_ns, price, size)
    if not volume_per_bar > 0:
        raise ConfigError(f"volume_bars volume_per_bar must be > 0, got {volume_per_bar!r}")
    if (size < 0).any():
        raise DataError(f"trade size must not be negative (row {int(np.argmax(size < 0))})")
    cumulative = np.cumsum(size)
    starts: list[int] = []
    start, n = 0, len(ts)
    while start < n:
        before = cumulative[start - 1] if start else 0
        end = int(np.searchsorted(cumulative, before + volume_per_bar, side="left"))
        if end >= n and not include_partial:
            break
        starts.append(start)
        start = end + 1
    stop = n if start >= n else start
    return AggregatedBars(*_reduce(ts[:stop], price[:stop], size[:stop], np.asarray(starts, dtype=np.int64)))


def _check_arrays(ts_ns: np.ndarray, price: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, ...]:
    ts = np.asarray(ts_ns, dtype=np.int64)
    price = np.asarray(price)
    size = np.asarray(size)
    if not len(ts) == len(price) == len(size):
        raise ValueError(f"ts_ns, price and size differ in length: {len(ts)}, {len(price)}, {len(size)}")
    backwards = np.flatnonzero(ts[1:] < ts[:-1])
    if len(backwards):
        row = int(backwards[0]) + 1
        raise DataError(f"trade {row} at {ts[row]} ns is earlier than the trade before it ({ts[row - 1]} ns)")
    return ts, price, size


def _reduce(
    ts: np.ndarray, price: np.ndarray, size: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, ...]:
    """OHLCV of the row groups beginning at `starts` (sorted; the last group runs to the end)."""
    if len(starts) == 0:
        empty_i, empty_p, empty_s = np.empty(0, np.int64), price[:0], size[:0]
        return empty_i, empty_i, empty_p, empty_p, empty_p, empty_p, empty_s, empty_i
    ends = np.r_[starts[1:], len(ts)]
    return (
        ts[starts],
        ts[ends - 1],
        price[starts],
        np.maximum.reduceat(price, starts),
        np.minimum.reduceat(price, starts),
        price[ends - 1],
        np.add.reduceat(size, starts),
        ends - starts,
    )
