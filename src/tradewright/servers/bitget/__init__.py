"""Bitget v2 spot local server: the v1 recording transcoded to v2, a signed private side."""

from tradewright.servers.bitget.protocol import BitgetProtocol

__all__ = ["BitgetProtocol"]
