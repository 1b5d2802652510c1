"""Polymarket (CLOB V2): Gamma discovery, the market and user channels, offline EIP-712 signing of
order versions 1 and 2, batch orders, heartbeats, rate limits, neg-risk markets and allowances.

The venue package's face for the registry: `CONFIG_TYPES`, `credentials`, `connect`, `list_markets`.
"""

import tradewright.venues._common.eth  # noqa: F401  (first: keeps the recursion limit; see that module)
from tradewright.venues.polymarket.config import PolymarketConfig
from tradewright.venues.polymarket.execution import CAPABILITIES, PolymarketExecution
from tradewright.venues.polymarket.factory import (
    CONFIG_TYPES,
    PolymarketVenue,
    connect,
    credentials,
    list_markets,
)

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "PolymarketConfig",
    "PolymarketExecution",
    "PolymarketVenue",
    "connect",
    "credentials",
    "list_markets",
]
