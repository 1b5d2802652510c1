"""Bar backtest throughput: the SMA(10)/SMA(30) cross, long-only, all in / all out, event-driven.

The built-in `SmaCross` strategy runs through the same kernel, Strategy API and bar venue as every
backtest (`BarBacktestEngine`): each of the 540,372 one-minute bars of btc_1m_bench is delivered to
`on_bar`; each cross sends a market order that fills at the next bar's open. Recording (events.jsonl,
equity rows) is off, as in the other engines' benchmark runs. The figure is bars / median wall time
of the run over --repeats runs (loading the file is timed separately).

For scale, on this kind of machine: NautilusTrader 11,500 bars/s, backtrader 8,000, vectorbt 80,000
(vectorised). `--profile` prints where the time of one run goes.

    python bench/bars.py [--repeats 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from decimal import Decimal

from _common import median_run, report, shared

from tradewright.backtest.bar_engine import BarBacktestEngine, BarBacktestResult
from tradewright.core.ids import InstrumentId
from tradewright.data.bars import BarSeries, load_bench_bars
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.strategies import SmaCross, SmaCrossConfig

STARTING_CASH = Decimal(100_000)
INSTRUMENT = Instrument(
    id=InstrumentId.parse("BTC-PERP.FTX"),
    kind=InstrumentKind.PERPETUAL,
    base="BTC",
    quote="USD",
    settle="USD",
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.0001"),
)
CONFIG = SmaCrossConfig(
    fast=10, slow=30, long_only=True, sizing="all_in", stop_atr=0.0, target_r=0.0, use_regime=False
)


def run_once(series: BarSeries) -> tuple[BarBacktestEngine, BarBacktestResult]:
    engine = BarBacktestEngine(series, starting_balance=STARTING_CASH, record=False, equity_sample_ns=None)
    engine.add_strategy(SmaCross("SMA", [INSTRUMENT.id], CONFIG))
    return engine, engine.run()


def round_trips(engine: BarBacktestEngine) -> int:
    """Sell orders that filled: each closes one long (long-only, all out)."""
    return sum(
        1
        for o in engine.kernel.orders.all_orders
        if o.side is OrderSide.SELL and o.status is OrderStatus.FILLED
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile one run and print the top functions")
    args = parser.parse_args()

    start = time.perf_counter()
    series = load_bench_bars(shared("bench/btc_1m_bench.csv.gz"), INSTRUMENT)
    load_s = time.perf_counter() - start
    n = len(series)

    results: list[tuple[BarBacktestEngine, BarBacktestResult]] = []
    cpu: list[float] = []

    def timed() -> float:
        cpu_start = time.process_time()
        engine, result = run_once(series)
        cpu.append(time.process_time() - cpu_start)
        results.append((engine, result))
        return result.wall_seconds

    median_s, times = median_run(timed, args.repeats)
    engine, result = results[-1]
    orders = len(engine.kernel.orders.all_orders)
    rows = [
        ("bars", f"{n:,}"),
        ("load (pyarrow, gzip CSV, exact ticks)", f"{load_s:.2f} s"),
        (
            "round trips",
            f"{round_trips(engine):,}  ({orders:,} orders, {result.matched_bars:,} bars matched)",
        ),
        ("final equity", f"{engine.final_equity()} USD  (start {STARTING_CASH})"),
        ("run, median wall", f"{median_s:.3f} s  (all: {', '.join(f'{t:.3f}' for t in times)})"),
        ("run, median CPU", f"{sorted(cpu)[len(cpu) // 2]:.3f} s"),
        ("bars/s (median wall)", f"{n / median_s:,.0f}"),
        ("ns/bar", f"{median_s * 1e9 / n:,.0f}"),
    ]
    report(f"SMA(10)/SMA(30) cross, all in / all out, btc_1m_bench — median of {args.repeats}", rows)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_once(series)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        print(out.getvalue())


if __name__ == "__main__":
    main()
