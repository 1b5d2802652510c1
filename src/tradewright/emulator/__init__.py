"""A local exchange that speaks Binance's real REST and WebSocket protocol (spot and USD-M futures),
replays a recording and fills orders with the queue-aware simulated venue. See docs/emulator.md.
"""

from tradewright.emulator.config import AccountConfig, EmulatorConfig, load_emulator_config
from tradewright.emulator.errors import BinanceError
from tradewright.emulator.faults import FaultSettings
from tradewright.emulator.server import HOST, EmulatorServer

__all__ = [
    "HOST",
    "AccountConfig",
    "BinanceError",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultSettings",
    "load_emulator_config",
]
