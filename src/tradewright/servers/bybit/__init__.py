"""Bybit v5 (linear) local server: real v5 order-book frames, a signed private side."""

from tradewright.servers.bybit.protocol import BybitProtocol

__all__ = ["BybitProtocol"]
