"""Backtests: replay recorded data through the kernel and the simulated venue; write a run folder."""

from tradewright.backtest.engine import BacktestEngine, BacktestResult
from tradewright.backtest.runner import run_backtest
from tradewright.backtest.session import Backtest, BacktestRun
from tradewright.config.run import RunConfig, load_run_config

__all__ = [
    "Backtest",
    "BacktestEngine",
    "BacktestResult",
    "BacktestRun",
    "RunConfig",
    "load_run_config",
    "run_backtest",
]
