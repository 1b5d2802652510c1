"""Lowest layer: clocks, the error tree, identifiers and argument checks."""

from tradewright.core.clock import Clock, LiveClock, SimClock
from tradewright.core.errors import (
    BookError,
    ChecksumMismatch,
    ConfigError,
    DataError,
    GridError,
    InvalidOrderError,
    InvalidStateTransition,
    SequenceGap,
    StoreError,
    StrategyError,
    TradewrightError,
    VenueError,
)
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, TradeId, Venue, VenueOrderId

__all__ = [
    "BookError",
    "ChecksumMismatch",
    "ClientOrderId",
    "Clock",
    "ConfigError",
    "DataError",
    "GridError",
    "InstrumentId",
    "InvalidOrderError",
    "InvalidStateTransition",
    "LiveClock",
    "SequenceGap",
    "SimClock",
    "StoreError",
    "StrategyError",
    "StrategyId",
    "TradeId",
    "TradewrightError",
    "Venue",
    "VenueError",
    "VenueOrderId",
]
