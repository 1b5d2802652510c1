"""Gate v4 USDT-futures local server: the recorded market replayed verbatim, a signed private side."""

from tradewright.servers.gate.protocol import GateProtocol

__all__ = ["GateProtocol"]
