"""Interactive Brokers through ib-async: futures (CME equity index and FX, with CME's roll rules) and
stocks on TWS or IB Gateway — quotes, bars, orders and brackets, executions, reconnects and
reconciliation. A venue package in the sense of `tradewright.venues.registry` (kind ``ib``)."""

from tradewright.venues.ib.config import IbConfig, IbInstrumentConfig, credentials
from tradewright.venues.ib.data import BAR_SIZES, IbMarketData
from tradewright.venues.ib.execution import IbExecutionClient
from tradewright.venues.ib.factory import CAPABILITIES, IbVenue, connect, list_markets

CONFIG_TYPES = (IbConfig,)

__all__ = [
    "BAR_SIZES",
    "CAPABILITIES",
    "CONFIG_TYPES",
    "IbConfig",
    "IbExecutionClient",
    "IbInstrumentConfig",
    "IbMarketData",
    "IbVenue",
    "connect",
    "credentials",
    "list_markets",
]
