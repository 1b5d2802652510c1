"""Identifiers as types: venues, instruments, orders, trades, strategies."""

from __future__ import annotations

from typing import NewType

import msgspec

__all__ = ["ClientOrderId", "InstrumentId", "StrategyId", "TradeId", "Venue", "VenueOrderId"]

Venue = NewType("Venue", str)
ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
TradeId = NewType("TradeId", str)
StrategyId = NewType("StrategyId", str)


class InstrumentId(msgspec.Struct, frozen=True, order=True):
    """An instrument on a venue, written ``SYMBOL.VENUE`` (e.g. ``BTCUSDT-PERP.BINANCE``)."""

    symbol: str
    venue: Venue

    @classmethod
    def parse(cls, value: str) -> InstrumentId:
        """Parse ``SYMBOL.VENUE``; the venue is the part after the last dot."""
        symbol, dot, venue = value.rpartition(".")
        if not dot or not symbol or not venue:
            raise ValueError(f"instrument id {value!r} is not of the form SYMBOL.VENUE")
        return cls(symbol, Venue(venue))

    def __str__(self) -> str:
        return f"{self.symbol}.{self.venue}"
