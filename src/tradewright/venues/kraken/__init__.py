"""Kraken spot over the shared CCXT base: WebSocket v2 books verified by Kraken's checksum, orders with
native amend, the `executions` user stream."""

from tradewright.venues.kraken.config import KrakenConfig
from tradewright.venues.kraken.factory import (
    CAPABILITIES,
    CONFIG_TYPES,
    FAMILY,
    KrakenFamily,
    connect,
    connect_market_data,
    credentials,
    list_markets,
)

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "KrakenConfig",
    "KrakenFamily",
    "connect",
    "connect_market_data",
    "credentials",
    "list_markets",
]
