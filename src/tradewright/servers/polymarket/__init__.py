"""A local Polymarket (CLOB V2) on 127.0.0.1: the venue's REST and both WebSocket channels, replaying
its real payloads (../shared/data/venues/polymarket), with a private side that verifies L1/L2 auth and
every order's EIP-712 signature, matches across both outcome tokens, settles trades on a simulated
chain and resolves markets on command."""

import tradewright.venues._common.eth  # noqa: F401  (first: keeps the recursion limit; see that module)
from tradewright.servers.polymarket.protocol import DEFAULT_WALLET, PolymarketProtocol, WalletSpec
from tradewright.servers.polymarket.server import serve_polymarket
from tradewright.servers.polymarket.world import World, load_world

__all__ = [
    "DEFAULT_WALLET",
    "PolymarketProtocol",
    "WalletSpec",
    "World",
    "load_world",
    "serve_polymarket",
]
