"""The local Turbine as a `ReplayServer` (there is nothing to replay: markets roll on the clock)."""

from __future__ import annotations

from typing import Any

from tradewright.servers._core import Pacing, ReplayServer, ServerOptions
from tradewright.servers.turbine.protocol import TurbineProtocol

__all__ = ["serve_turbine"]


def serve_turbine(*, port: int = 0, **kw: Any) -> ReplayServer:
    """A local Turbine (not started: `await server.start()`); keywords go to `TurbineProtocol`."""
    return ReplayServer(TurbineProtocol(**kw), ServerOptions(port=port, pacing=Pacing.FAST, start_on="now"))
