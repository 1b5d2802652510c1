"""What a run writes down as it goes: the per-event recorder behind a run folder's orders, fills,
equity and events rows.

It sits below the mode runners so that a backtest, a paper session and a live node all record a run
the same way (and write the same run folder); `tradewright.analysis` reads what it recorded.
"""

from tradewright.runlog.recorder import EQUITY_COLUMNS, FILL_COLUMNS, RunRecorder

__all__ = ["EQUITY_COLUMNS", "FILL_COLUMNS", "RunRecorder"]
