"""tradewright: one engine for backtest, paper and live algorithmic trading.

`Backtest` and `BacktestRun` (from `tradewright.backtest.session`) are the Python API for notebooks
and scripts; they are imported on first use, so `import tradewright` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Backtest", "BacktestRun", "__version__"]

__version__ = "0.1.0"

# No import of them here, not even for type checkers: every module imports this package (for
# __version__), and the layer contracts would see the analysis layer import the backtest one.
_LAZY = {"Backtest": "tradewright.backtest.session", "BacktestRun": "tradewright.backtest.session"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tradewright' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
