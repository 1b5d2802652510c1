"""Bitget v2 spot over the shared CCXT base: books we verify (CRC32 top 25), limit orders (no native
amend on spot: the engine replaces), the `orders` user stream."""

from tradewright.venues.bitget.config import BitgetConfig
from tradewright.venues.bitget.factory import (
    CAPABILITIES,
    CONFIG_TYPES,
    FAMILY,
    BitgetFamily,
    connect,
    connect_market_data,
    credentials,
    list_markets,
)

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "BitgetConfig",
    "BitgetFamily",
    "connect",
    "connect_market_data",
    "credentials",
    "list_markets",
]
