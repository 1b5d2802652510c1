"""A local Turbine on 127.0.0.1: rotating quick markets, the REST API and the public stream, with a
private side that verifies bearer tokens, order and permit signatures, matches orders, resolves
markets and pays claims. Its payloads are written from Turbine's documentation and the official
client (no capture of the live venue exists), and say so where they are built."""

import tradewright.venues._common.eth  # noqa: F401  (first: keeps the recursion limit; see that module)
from tradewright.servers.turbine.protocol import TurbineProtocol, TurbineWalletSpec
from tradewright.servers.turbine.server import serve_turbine

__all__ = ["TurbineProtocol", "TurbineWalletSpec", "serve_turbine"]
