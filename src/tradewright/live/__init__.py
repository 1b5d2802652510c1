"""The asyncio runtime: paper trading on a replayed feed (live venues build on the same node)."""

from tradewright.live.clock import ScaledClock
from tradewright.live.paper import PaperNode, run_paper
from tradewright.live.replay_feed import ReplayDataClient

__all__ = ["PaperNode", "ReplayDataClient", "ScaledClock", "run_paper"]
