"""The bar a strategy sees in `on_bar`: one reusable, read-only view over columnar bars.

Building a `Bar` struct with five `Decimal`s per bar costs more than everything else a simple bar
strategy does, so the bar path hands every strategy the same `BarView` object, moved to the next bar
in place. Prices are there twice: as floats (`open` .. `close`) for indicators, and exactly, as tick
counts (`open_ticks` .. `close_ticks`) or `Decimal`s on demand (`open_px` .. `close_px`) for orders.

The view changes under you: a strategy that wants to keep a bar must copy it (`bar.copy()` gives an
immutable `Bar`; or keep the few floats it needs). Strategies must not write to it.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from decimal import Decimal

from tradewright.core.ids import InstrumentId
from tradewright.model.data import Bar
from tradewright.model.instrument import Instrument

__all__ = ["BarView"]


class BarView:
    """The current bar of one instrument's series (see the module docstring).

    `ts_open_ns` is the bar's open time, `ts_event` its close time (= open + `interval_ns`), when the
    bar is complete and delivered. `index` is the bar's position in the series.
    """

    __slots__ = (
        "_c",
        "_ct",
        "_h",
        "_ht",
        "_i",
        "_l",
        "_lt",
        "_o",
        "_ot",
        "_ts",
        "_v",
        "instrument",
        "instrument_id",
        "interval_ns",
    )

    def __init__(
        self,
        instrument: Instrument,
        interval_ns: int,
        ts_open_ns: Sequence[int],
        prices: tuple[Sequence[float], Sequence[float], Sequence[float], Sequence[float]],
        ticks: tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[int]],
        volume: Sequence[float],
    ) -> None:
        self.instrument = instrument
        self.instrument_id: InstrumentId = instrument.id
        self.interval_ns = interval_ns
        # array.array: compact, and indexing it yields plain Python floats/ints (fast arithmetic).
        self._ts = array("q", ts_open_ns)
        self._o, self._h, self._l, self._c = (array("d", p) for p in prices)
        self._ot, self._ht, self._lt, self._ct = (array("q", t) for t in ticks)
        self._v = array("d", volume)
        n = len(self._ts)
        if any(len(col) != n for col in (self._o, self._h, self._l, self._c, self._ot, self._ct, self._v)):
            raise ValueError("BarView columns must all have the same length")
        # The engine moves the view by setting `_i` (the hot path: one store per bar, no call).
        self._i = 0

    @classmethod
    def of(cls, bar: Bar, instrument: Instrument) -> BarView:
        """A one-bar view of a `Bar` struct (live feeds and tests); prices must be on the tick grid."""
        o, h, lo, c = bar.open, bar.high, bar.low, bar.close
        return cls(
            instrument,
            bar.interval_ns,
            [bar.ts_event - bar.interval_ns],
            ([float(o)], [float(h)], [float(lo)], [float(c)]),
            (
                [instrument.price_to_ticks(o)],
                [instrument.price_to_ticks(h)],
                [instrument.price_to_ticks(lo)],
                [instrument.price_to_ticks(c)],
            ),
            [float(bar.volume)],
        )

    def __len__(self) -> int:
        return len(self._ts)

    # --- where -------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """The bar's position in its series (0 for the first bar)."""
        return self._i

    @property
    def ts_open_ns(self) -> int:
        return self._ts[self._i]

    @property
    def ts_event(self) -> int:
        """The bar's close time (when it was complete)."""
        return self._ts[self._i] + self.interval_ns

    # --- floats, for indicators --------------------------------------------------------------
    @property
    def open(self) -> float:
        return self._o[self._i]

    @property
    def high(self) -> float:
        return self._h[self._i]

    @property
    def low(self) -> float:
        return self._l[self._i]

    @property
    def close(self) -> float:
        return self._c[self._i]

    @property
    def volume(self) -> float:
        """Traded volume (NaN when the source has none)."""
        return self._v[self._i]

    # --- exact prices, for orders ------------------------------------------------------------
    @property
    def open_ticks(self) -> int:
        return self._ot[self._i]

    @property
    def high_ticks(self) -> int:
        return self._ht[self._i]

    @property
    def low_ticks(self) -> int:
        return self._lt[self._i]

    @property
    def close_ticks(self) -> int:
        return self._ct[self._i]

    @property
    def open_px(self) -> Decimal:
        return self.instrument.ticks_to_price(self._ot[self._i])

    @property
    def high_px(self) -> Decimal:
        return self.instrument.ticks_to_price(self._ht[self._i])

    @property
    def low_px(self) -> Decimal:
        return self.instrument.ticks_to_price(self._lt[self._i])

    @property
    def close_px(self) -> Decimal:
        return self.instrument.ticks_to_price(self._ct[self._i])

    # --- keeping a bar -----------------------------------------------------------------------
    def copy(self) -> Bar:
        """The current bar as an immutable `Bar` (exact prices): keep this, not the view."""
        volume = self._v[self._i]
        return Bar(
            instrument_id=self.instrument_id,
            interval_ns=self.interval_ns,
            open=self.open_px,
            high=self.high_px,
            low=self.low_px,
            close=self.close_px,
            volume=Decimal(repr(volume)) if volume == volume else Decimal(0),
            ts_event=self.ts_event,
            ts_init=self.ts_event,
        )

    def __repr__(self) -> str:
        if not len(self._ts):
            return f"BarView({self.instrument_id}, empty)"
        return (
            f"BarView({self.instrument_id} #{self._i} open={self.open_px} high={self.high_px} "
            f"low={self.low_px} close={self.close_px} volume={self.volume})"
        )
