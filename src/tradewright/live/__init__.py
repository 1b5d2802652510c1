"""The asyncio runtime: the live node, paper trading on a replayed feed, and their clocks.

Submodules are imported on first use, so `import tradewright.live.clock` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["PaperNode", "ReplayDataClient", "ScaledClock", "run_paper"]

_WHERE = {
    "PaperNode": "tradewright.live.paper",
    "run_paper": "tradewright.live.paper",
    "ReplayDataClient": "tradewright.live.replay_feed",
    "ScaledClock": "tradewright.live.clock",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tradewright.live' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
