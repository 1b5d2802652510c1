"""Indicator throughput: updates/s of each streaming indicator over the 540,372-bar btc_1m_bench stream.

Each indicator gets every bar in order, from Python lists of floats, as a strategy would feed it bar
by bar; the figure is bars / median pass time over --repeats passes (the loop itself included; its
cost alone is the "loop only" row). Loading the stream is timed separately.

    python bench/indicators.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _common import median_run, report, shared

from tradewright.data.bars import load_bench_bars
from tradewright.indicators import (
    ADX,
    ATR,
    EMA,
    RSI,
    SMA,
    VWAP,
    BollingerBands,
    RealisedVolatility,
    TrueRange,
)

Columns = tuple[list[int], list[float], list[float], list[float], list[float]]


def close_pass(update: Callable[[float], None], cols: Columns) -> float:
    close = cols[3]
    start = time.perf_counter()
    for price in close:
        update(price)
    return time.perf_counter() - start


def bar_pass(update: Callable[[float, float, float], None], cols: Columns) -> float:
    _, high, low, close, _ = cols
    start = time.perf_counter()
    for h, lo, c in zip(high, low, close, strict=True):
        update(h, lo, c)
    return time.perf_counter() - start


def vwap_pass(vwap: VWAP, cols: Columns) -> float:
    update = vwap.update_bar
    start = time.perf_counter()
    for ts, h, lo, c, v in zip(*cols, strict=True):
        update(ts, h, lo, c, v)
    return time.perf_counter() - start


def noop(*_: float) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    bars = load_bench_bars(shared("bench/btc_1m_bench.csv.gz"))
    load_s = time.perf_counter() - start
    cols: Columns = (
        bars.ts_open_ns.tolist(),
        bars.high.tolist(),
        bars.low.tolist(),
        bars.close.tolist(),
        bars.volume.tolist(),
    )
    n = len(bars)

    cases: list[tuple[str, Callable[[], float]]] = [
        ("loop only (no-op update, close)", lambda: close_pass(noop, cols)),
        ("loop only (no-op update, h/l/c)", lambda: bar_pass(noop, cols)),
        ("SMA(20)", lambda: close_pass(SMA(20).update, cols)),
        ("EMA(20)", lambda: close_pass(EMA(20).update, cols)),
        ("RSI(14)", lambda: close_pass(RSI(14).update, cols)),
        ("BollingerBands(20, 2, 2)", lambda: close_pass(BollingerBands(20).update, cols)),
        (
            "RealisedVolatility(30)",
            lambda: close_pass(RealisedVolatility(30, periods_per_year=525_600).update, cols),
        ),
        ("TrueRange", lambda: bar_pass(TrueRange().update, cols)),
        ("ATR(14)", lambda: bar_pass(ATR(14).update, cols)),
        ("ADX(14) (+DI, -DI)", lambda: bar_pass(ADX(14).update, cols)),
        ("VWAP (UTC day, typical price)", lambda: vwap_pass(VWAP(), cols)),
    ]
    rows = [("bars", f"{n:,}"), ("load (pyarrow, gzip CSV)", f"{load_s:.2f} s")]
    for name, run in cases:
        median_s, _ = median_run(run, args.repeats)
        rows.append((name, f"{n / median_s:>12,.0f} updates/s  ({median_s * 1e9 / n:6.0f} ns/update)"))
    report(f"streaming indicators — btc_1m_bench, median of {args.repeats}", rows)


if __name__ == "__main__":
    main()
