"""OKX v5 local server: the recorded market replayed verbatim, a signed private side."""

from tradewright.servers.okx.protocol import OkxProtocol

__all__ = ["OkxProtocol"]
