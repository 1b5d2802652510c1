"""Market-making backtest throughput: events/s and peak RSS on the ES and Binance benchmark streams.

The setup matches the anchor figures in the foundation issue: a symmetric quoter at the touch
(examples/symmetric_mm.py), size 1 lot, position limit 5 lots, 1 ms order-entry latency (and 1 ms
response latency), conservative queue model, equity sampled every second of data time.

Run phase = BacktestEngine.run() only (median of --repeats after one warm-up run that also compiles);
whole process = interpreter start to the end of the last run (loading, compiling, all runs).

    python bench/mm_backtest.py [--repeats 5] [--stream es|binance|both] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from decimal import Decimal

from _common import PROCESS_START, REPO, binance_stream, es_stream, median_run, peak_rss_mb, report

from tradewright.backtest.engine import BacktestEngine, BacktestResult
from tradewright.model.columnar import MarketStream
from tradewright.sim.latency import ConstantLatency

sys.path.insert(0, str(REPO / "examples"))
from symmetric_mm import SymmetricMarketMaker, SymmetricMMConfig

MS = 1_000_000


def one_run(stream: MarketStream) -> BacktestResult:
    inst = stream.instrument
    engine = BacktestEngine(stream, starting_balance=Decimal(1_000_000), latency=ConstantLatency(MS, MS))
    config = SymmetricMMConfig(size=inst.lot_size, max_position=inst.lot_size * 5, offset_ticks=0)
    engine.add_strategy(SymmetricMarketMaker("MM", [inst.id], config))
    return engine.run()


def bench(name: str, stream: MarketStream, repeats: int, profile: bool) -> None:
    warm = one_run(stream)
    last: list[BacktestResult] = [warm]

    cpu: list[float] = []

    def timed() -> float:
        c0 = time.process_time()
        result = one_run(stream)
        cpu.append(time.process_time() - c0)
        last[0] = result
        return result.wall_seconds

    run_s, all_s = median_run(timed, repeats)
    cpu_s = statistics.median(cpu)
    result = last[0]
    summary = result.recorder
    rows = [
        ("events (rows)", f"{len(stream):,}"),
        ("run phase, median", f"{len(stream) / run_s:,.0f} events/s ({run_s:.3f} s)"),
        (
            "run phase CPU, median",
            f"{len(stream) / cpu_s:,.0f} events/s ({cpu_s:.3f} s CPU; robust to a busy machine)",
        ),
        ("runs (s)", ", ".join(f"{t:.3f}" for t in all_s)),
        ("orders / fills", f"{len(result.kernel.orders.all_orders):,} / {len(summary.fills):,}"),
        ("python stops", ", ".join(f"{k}={v:,}" for k, v in result.stops.items())),
        ("peak RSS so far", f"{peak_rss_mb():,.0f} MB"),
    ]
    report(f"market-making backtest — {name}", rows)
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        one_run(stream)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stream", choices=["es", "binance", "both"], default="both")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one extra run")
    args = parser.parse_args()
    if args.stream in ("es", "both"):
        bench("CME ES (es_l2_bench.csv.gz)", es_stream(), args.repeats, args.profile)
    if args.stream in ("binance", "both"):
        bench("Binance USD-M BTCUSDT x3", binance_stream(), args.repeats, args.profile)
    report(
        "whole process",
        [("wall", f"{time.perf_counter() - PROCESS_START:.1f} s"), ("peak RSS", f"{peak_rss_mb():,.0f} MB")],
    )


if __name__ == "__main__":
    main()
