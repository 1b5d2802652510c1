"""Market-data records as typed structs (the live path and the schema).

The backtest path does not build these per event: it reads columnar arrays (see `tradewright.model.columnar`).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.enums import OrderSide

__all__ = ["DATA_TYPES", "Bar", "BookDelta", "BookDeltas", "QuoteTick", "TradeTick"]


# gc=False on market-data records: values only, never part of a cycle (see `model.events.Event`).
class BookDelta(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One price level's new total size; size 0 removes the level. `side` is 1 for bids, -1 for asks."""

    side: int
    price: Decimal
    size: Decimal


class BookDeltas(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """One venue message's level changes, applied atomically. `is_snapshot` replaces the whole book.

    `checksum` is the venue's own checksum of the book after this message, where it sends one (OKX,
    Bitget, Kraken), so a recording can be verified again offline.
    """

    instrument_id: InstrumentId
    deltas: tuple[BookDelta, ...]
    is_snapshot: bool = False
    first_update_id: int = 0
    last_update_id: int = 0
    prev_update_id: int = 0
    checksum: int | None = None
    ts_event: int
    ts_init: int


class QuoteTick(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """The venue's own best bid and offer (e.g. Binance bookTicker)."""

    instrument_id: InstrumentId
    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal
    update_id: int = 0
    ts_event: int
    ts_init: int


class TradeTick(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """A public trade. `aggressor` is the taker's side (None when the venue does not say)."""

    instrument_id: InstrumentId
    price: Decimal
    size: Decimal
    aggressor: OrderSide | None
    trade_id: str
    ts_event: int
    ts_init: int


class Bar(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """An OHLCV bar; `ts_event` is the bar's close time, `interval_ns` its length."""

    instrument_id: InstrumentId
    interval_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    ts_event: int
    ts_init: int


DATA_TYPES: tuple[type[msgspec.Struct], ...] = (BookDeltas, QuoteTick, TradeTick, Bar)
