"""The local Polymarket on the generic `ReplayServer`."""

from __future__ import annotations

from typing import Any

from tradewright.servers._core import Pacing, ReplayServer, ServerOptions
from tradewright.servers.polymarket.protocol import PolymarketProtocol

__all__ = ["serve_polymarket"]


def serve_polymarket(
    data: str, *, port: int = 0, pacing: Pacing = Pacing.FAST, speed: float = 1.0, **kw: Any
) -> ReplayServer:
    """A local Polymarket over the payloads in `data` (not started: `await server.start()`); keywords go
    to `PolymarketProtocol`. The replay starts at once, so REST clients see the recorded books."""
    return ReplayServer(
        PolymarketProtocol(data, **kw), ServerOptions(port=port, pacing=pacing, speed=speed, start_on="now")
    )
