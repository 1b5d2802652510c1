"""The local Polymarket as a `ReplayServer` that also stops the venue's background work."""

from __future__ import annotations

from typing import Any

from tradewright.servers._core import Pacing, ReplayServer, ServerOptions
from tradewright.servers.polymarket.protocol import PolymarketProtocol

__all__ = ["PolymarketServer", "serve_polymarket"]


class PolymarketServer(ReplayServer):
    protocol: PolymarketProtocol

    async def stop(self) -> None:
        await self.protocol.stop_ticker()
        await super().stop()


def serve_polymarket(
    data: str, *, port: int = 0, pacing: Pacing = Pacing.FAST, speed: float = 1.0, **kw: Any
) -> PolymarketServer:
    """A local Polymarket over the payloads in `data` (not started: `await server.start()`)."""
    protocol = PolymarketProtocol(data, **kw)
    # The replay starts at once: REST clients see the recorded books without subscribing first.
    return PolymarketServer(protocol, ServerOptions(port=port, pacing=pacing, speed=speed, start_on="now"))
