"""Gate v4 USDT perpetual futures over the shared CCXT base: books chained by update id onto the REST
snapshot, orders with native amend, the `futures.orders`/`futures.usertrades` user stream."""

from tradewright.venues.gate.config import GateConfig
from tradewright.venues.gate.factory import (
    CAPABILITIES,
    CONFIG_TYPES,
    FAMILY,
    GateFamily,
    connect,
    credentials,
    list_markets,
)

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "GateConfig",
    "GateFamily",
    "connect",
    "credentials",
    "list_markets",
]
