"""Kraken spot local server: the v1 recording transcoded to WebSocket v2 (checksums recomputed,
per-subscriber depth windows), a signed, nonce-checked private side."""

from tradewright.servers.kraken.protocol import KrakenProtocol

__all__ = ["KrakenProtocol"]
