"""Builders for instruments and hand-written market-data streams (scenario tests)."""

from __future__ import annotations

from decimal import Decimal

from tradewright.core.ids import InstrumentId
from tradewright.model.columnar import KIND_CLEAR, KIND_DELTA, KIND_TRADE, MarketStream, StreamBuilder
from tradewright.model.instrument import Instrument, InstrumentKind

__all__ = ["StreamRows", "btc_perp", "es_future", "make_instrument"]


def make_instrument(
    symbol: str = "TEST",
    venue: str = "SIM",
    *,
    tick: str = "0.1",
    lot: str = "0.001",
    maker_fee: str = "0",
    taker_fee: str = "0",
    multiplier: str = "1",
    kind: InstrumentKind = InstrumentKind.PERPETUAL,
    quote: str = "USDT",
) -> Instrument:
    return Instrument(
        id=InstrumentId.parse(f"{symbol}.{venue}"),
        kind=kind,
        base=symbol,
        quote=quote,
        settle=quote,
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        maker_fee=Decimal(maker_fee),
        taker_fee=Decimal(taker_fee),
        multiplier=Decimal(multiplier),
    )


def btc_perp(maker_fee: str = "0", taker_fee: str = "0") -> Instrument:
    return make_instrument(
        "BTCUSDT-PERP", "BINANCE", tick="0.1", lot="0.001", maker_fee=maker_fee, taker_fee=taker_fee
    )


def es_future() -> Instrument:
    return make_instrument(
        "ESH4", "CME", tick="0.25", lot="1", multiplier="50", kind=InstrumentKind.FUTURE, quote="USD"
    )


class StreamRows:
    """Write a scenario in ticks and lots, one message at a time, with explicit times in ms.

    >>> s = StreamRows(inst).snapshot(0, bids=[(100, 5)], asks=[(101, 5)]).trade(10, -1, 100, 2).build()
    """

    def __init__(self, instrument: Instrument) -> None:
        self._b = StreamBuilder(instrument, "scenario")
        self._uid = 0

    def _ns(self, ms: float) -> int:
        return int(ms * 1_000_000)

    def snapshot(self, ms: float, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> StreamRows:
        t = self._ns(ms)
        self._uid += 1
        self._b.add(t, t, KIND_CLEAR, 0, 0, 0, self._uid)
        for tick, lots in bids:
            self._b.add(t, t, KIND_DELTA, 1, tick, lots, self._uid)
        for tick, lots in asks:
            self._b.add(t, t, KIND_DELTA, -1, tick, lots, self._uid)
        self._b.end_message()
        return self

    def level(self, ms: float, side: int, tick: int, lots: int) -> StreamRows:
        """One message setting one level (lots 0 deletes it)."""
        t = self._ns(ms)
        self._uid += 1
        self._b.add(t, t, KIND_DELTA, side, tick, lots, self._uid)
        self._b.end_message()
        return self

    def trade(self, ms: float, aggressor: int, tick: int, lots: int) -> StreamRows:
        """A public trade; aggressor +1 = buyer took the ask, -1 = seller hit the bid."""
        t = self._ns(ms)
        self._uid += 1
        self._b.add(t, t, KIND_TRADE, aggressor, tick, lots, self._uid)
        self._b.end_message()
        return self

    def build(self) -> MarketStream:
        return self._b.build()
