"""bench/anchors.py case C on vectorbt (the rules are in that script's docstring).

vectorbt is vectorised: the whole run is the two moving averages, the crossings and one
`Portfolio.from_signals` simulation (all in / all out, long only, zero fees, executed at the next
bar's open). JIT warm-up (vectorbt's numba functions) is a first run on a short slice.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import vectorbt as vbt
from _common import shared

from tradewright.data.bars import load_bench_bars


def _run(close: pd.Series, open_: pd.Series) -> Any:
    fast = vbt.MA.run(close, 10)
    slow = vbt.MA.run(close, 30)
    entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)  # act at the next bar's open
    exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
    return vbt.Portfolio.from_signals(
        close, entries, exits, price=open_, init_cash=100_000.0, fees=0.0, size=np.inf, freq="1min"
    )


def sma_bars() -> dict[str, Any]:
    t0 = time.perf_counter()
    series = load_bench_bars(shared("bench/btc_1m_bench.csv.gz"))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = pd.to_datetime(series.ts_open_ns, utc=True)
    close = pd.Series(series.close, index=index)
    open_ = pd.Series(series.open, index=index)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run(close.iloc[:5_000], open_.iloc[:5_000])
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pf = _run(close, open_)
    run_s = time.perf_counter() - t0
    trades = pf.trades
    return {
        "events": len(series),
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": warm_s,
        "run_s": run_s,
        "outcome": {"round_trips": int(trades.count()), "final_equity_usd": f"{float(pf.final_value()):.6f}"},
    }


CASES = {"C-sma": sma_bars}
