"""Alpaca through alpaca-py: stocks and crypto, REST orders and brackets, the trade_updates stream, and
the market-data streams, paper or live by config. A venue package in the sense of
`tradewright.venues.registry` (kind ``alpaca``)."""

from tradewright.venues.alpaca.config import AlpacaConfig, credentials
from tradewright.venues.alpaca.data import BAR_INTERVALS, AlpacaMarketData
from tradewright.venues.alpaca.execution import AlpacaExecutionClient
from tradewright.venues.alpaca.factory import CAPABILITIES, AlpacaVenue, connect, list_markets

CONFIG_TYPES = (AlpacaConfig,)

__all__ = [
    "BAR_INTERVALS",
    "CAPABILITIES",
    "CONFIG_TYPES",
    "AlpacaConfig",
    "AlpacaExecutionClient",
    "AlpacaMarketData",
    "AlpacaVenue",
    "connect",
    "credentials",
    "list_markets",
]
