"""The futures day-trading flow on recorded bars: modelled quotes for the guards and a bar run that can
journal into the state store (the paper day). See docs/futures.md."""

from tradewright.daytrade.quotes import BarQuotes, SpreadModel
from tradewright.daytrade.runner import DayRun, prepare_day_run, run_day_backtest

__all__ = ["BarQuotes", "DayRun", "SpreadModel", "prepare_day_run", "run_day_backtest"]
