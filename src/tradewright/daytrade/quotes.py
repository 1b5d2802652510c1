"""The quotes of a bar run: a modelled best bid and offer around each bar's close.

Recorded bars say where the market traded, not what it quoted; but the spread and slippage guards,
the price band and the kill switch's closing price all read the book. So a bar run given
`[venue] bar_spread_ticks` shows, at each bar's close, a one-level book: the bid `spread // 2` ticks
below the close and the ask `spread` ticks above the bid, `bar_quote_size` lots each. The spread is a
model, stated in the config: ticks per instrument session (``rth = 1``) or local-time window
(``"07:20-07:30 America/Chicago" = 2``: wider in the first minutes of the day), the first entry whose
session holds the bar's open time wins, ``default`` for bars outside all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradewright.backtest.bar_engine import BarBacktestEngine
from tradewright.core.errors import ConfigError
from tradewright.model.instrument import Instrument, TradingSession

__all__ = ["DEFAULT_QUOTE_LOTS", "BarQuotes", "SpreadModel"]

DEFAULT_QUOTE_LOTS = 1000


class SpreadModel:
    """Spread in ticks by session or window (see the module docstring)."""

    def __init__(self, instrument: Instrument, spreads: Mapping[str, int]) -> None:
        self.rules: list[tuple[TradingSession, int]] = []
        self.default: int | None = None
        for key, ticks in spreads.items():
            if key == "default":
                self.default = ticks
                continue
            session = instrument.session(key) if not key[:2].isdigit() else TradingSession.parse(key, key)
            if session is None:
                raise ConfigError(
                    f"`venue.bar_spread_ticks`: {instrument.id} has no session {key!r} "
                    f"(it has {', '.join(s.name for s in instrument.sessions) or 'none'}; or give a window "
                    "like \"07:20-07:30 America/Chicago\")"
                )
            self.rules.append((session, ticks))
        if not self.rules and self.default is None:
            raise ConfigError("`venue.bar_spread_ticks` gives no spread")
        self._cache: dict[int, int] = {}

    def ticks_at(self, ts_ns: int) -> int:
        """The spread of a bar that opens at `ts_ns` (the quote is not shown when no rule applies: 0)."""
        key = ts_ns // 60_000_000_000  # one answer a minute: sessions move by whole minutes
        found = self._cache.get(key)
        if found is None:
            found = next((t for s, t in self.rules if s.contains(ts_ns)), self.default or 0)
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[key] = found
        return found


class BarQuotes:
    """Puts the modelled quote in the kernel's book at each bar's close, before the strategies hear of
    the bar (a callback the engine runs at the close, so orders sent in `on_bar` see it)."""

    def __init__(self, engine: BarBacktestEngine, model: SpreadModel, lots: Decimal | None = None) -> None:
        self.engine = engine
        self.model = model
        inst = engine.instrument
        self.lots = inst.size_to_lots(lots) if lots is not None else DEFAULT_QUOTE_LOTS
        self.book = engine.kernel.books[inst.id]
        self.shown = 0
        self.spreads: dict[int, int] = {}  # spread in ticks -> bars quoted with it

    def install(self) -> None:
        series = self.engine.series
        if len(series):
            self.engine.kernel.schedule(int(series.ts_open_ns[0]) + series.interval_ns, self._quote, 0)

    def _quote(self, i: int) -> None:
        engine = self.engine
        series = engine.series
        assert series.close_ticks is not None
        close = int(series.close_ticks[i])  # bar i completes now
        spread = self.model.ticks_at(int(series.ts_open_ns[i]))
        book = self.book
        book.clear()
        if spread > 0:
            bid = close - spread // 2
            book.set_level(1, bid, self.lots)
            book.set_level(-1, bid + spread, self.lots)
            self.shown += 1
            self.spreads[spread] = self.spreads.get(spread, 0) + 1
        if i + 1 < len(series):
            engine.kernel.schedule(int(series.ts_open_ns[i + 1]) + series.interval_ns, self._quote, i + 1)
