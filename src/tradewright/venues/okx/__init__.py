"""OKX v5 over the shared CCXT base: books we verify (CRC32 top 25), orders with native amend and
batches, the `orders` user stream, balances and positions."""

from tradewright.venues.okx.config import OkxConfig
from tradewright.venues.okx.factory import (
    CAPABILITIES,
    CONFIG_TYPES,
    FAMILY,
    OkxFamily,
    connect,
    credentials,
    list_markets,
)

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "OkxConfig",
    "OkxFamily",
    "connect",
    "credentials",
    "list_markets",
]
