"""Pure book replay: level updates/s and peak RSS on the ES and Binance benchmark streams.

Two figures per stream:
  * book kernel — every level update applied to the ladder book in one compiled pass;
  * engine replay — the backtest engine's replay loop (venue book + strategy-side checks) with no
    strategy attached, i.e. a strategy-less backtest (NautilusTrader's 206k events/s is this kind of run).

Run phase = the replay only (median of --repeats, after one warm-up that also compiles); whole process
= from interpreter start to the end of the last run, including data loading and compilation.

    python bench/book_replay.py [--repeats 5] [--stream es|binance|both]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import numpy as np
from _common import PROCESS_START, binance_stream, es_stream, level_updates, median_run, peak_rss_mb, report

from tradewright.backtest.engine import BacktestEngine
from tradewright.model.book import OrderBook
from tradewright.model.columnar import KIND_DELTA, MarketStream


def book_kernel_pass(stream: MarketStream) -> float:
    book = OrderBook(stream.instrument)
    mask = stream.kind == KIND_DELTA
    sides = stream.side[mask].astype(np.int64)
    ticks = stream.tick[mask]
    lots = stream.lots[mask]
    start = time.perf_counter()
    book.set_levels(sides, ticks, lots)
    elapsed = time.perf_counter() - start
    assert book.best_bid_tick is not None
    return elapsed


def engine_pass(stream: MarketStream) -> float:
    engine = BacktestEngine(stream, starting_balance=Decimal(0))
    result = engine.run()
    return result.wall_seconds


def bench(name: str, stream: MarketStream, repeats: int) -> None:
    updates = level_updates(stream)
    book_kernel_pass(stream)  # warm-up / compile
    kernel_s, _ = median_run(lambda: book_kernel_pass(stream), repeats)
    engine_pass(stream)
    engine_s, engine_all = median_run(lambda: engine_pass(stream), repeats)
    report(
        f"book replay — {name}",
        [
            ("rows (events)", f"{len(stream):,}"),
            ("level updates", f"{updates:,}"),
            ("book kernel, median", f"{updates / kernel_s:,.0f} level updates/s ({kernel_s * 1e3:.1f} ms)"),
            (
                "engine replay, median",
                f"{updates / engine_s:,.0f} level updates/s, {len(stream) / engine_s:,.0f} events/s "
                f"({engine_s:.3f} s)",
            ),
            ("engine runs (s)", ", ".join(f"{t:.3f}" for t in engine_all)),
            ("peak RSS so far", f"{peak_rss_mb():,.0f} MB"),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stream", choices=["es", "binance", "both"], default="both")
    args = parser.parse_args()
    if args.stream in ("es", "both"):
        bench("CME ES (es_l2_bench.csv.gz)", es_stream(), args.repeats)
    if args.stream in ("binance", "both"):
        bench("Binance USD-M BTCUSDT x3", binance_stream(), args.repeats)
    report(
        "whole process",
        [("wall", f"{time.perf_counter() - PROCESS_START:.1f} s"), ("peak RSS", f"{peak_rss_mb():,.0f} MB")],
    )


if __name__ == "__main__":
    main()
