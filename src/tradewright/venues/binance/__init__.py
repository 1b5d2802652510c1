"""Binance USD-M futures over CCXT: orders, the user stream, market data and account state."""

from tradewright.venues.binance.config import BinanceConfig, Credentials
from tradewright.venues.binance.execution import BinanceExecutionClient
from tradewright.venues.binance.factory import (
    CAPABILITIES,
    BinanceVenue,
    VenueCapabilities,
    connect_binance_usdm,
)

__all__ = [
    "CAPABILITIES",
    "BinanceConfig",
    "BinanceExecutionClient",
    "BinanceVenue",
    "Credentials",
    "VenueCapabilities",
    "connect_binance_usdm",
]
