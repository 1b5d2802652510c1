"""The run recorder moved to `tradewright.runlog` (backtest, paper and live all record through it);
this name stays for existing imports."""

from tradewright.runlog.recorder import EQUITY_COLUMNS, FILL_COLUMNS, RunRecorder

__all__ = ["EQUITY_COLUMNS", "FILL_COLUMNS", "RunRecorder"]
