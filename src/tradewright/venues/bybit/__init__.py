"""Bybit v5 linear perpetuals over the shared CCXT base: books whose update ids we chain ourselves,
orders with native amend and batches, the `order`/`execution` user stream."""

from tradewright.venues.bybit.config import BybitConfig
from tradewright.venues.bybit.factory import (
    CAPABILITIES,
    CONFIG_TYPES,
    FAMILY,
    BybitFamily,
    connect,
    connect_market_data,
    credentials,
    list_markets,
)

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "BybitConfig",
    "BybitFamily",
    "connect",
    "connect_market_data",
    "credentials",
    "list_markets",
]
