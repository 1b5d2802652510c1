"""Bar backtest throughput: the SMA(10)/SMA(30) cross, long-only, all in / all out, event-driven.

Every one of the 540,372 one-minute bars of btc_1m_bench goes through the same kernel, Strategy API
and bar venue as every backtest (`BarBacktestEngine`): `Kernel.on_bar` calls the strategy's `on_bar`
with the engine's `BarView`; each cross sends a market order (`ctx.submit`) that the bar venue fills
at the next bar's open, and the fill comes back through the kernel, the order state machine and the
portfolio (exact Decimal money). Two strategies are timed:

- `BenchSmaCross` below: the rule written as plainly as the other engines' benchmark strategies;
- the library's `SmaCross` (strategies/sma_cross.py) configured the same way (all in, no stop, no
  target, no regime detector): the same rule through the bracket machinery every bar strategy shares.

Recording (events.jsonl, equity rows) is off, as in the other engines' benchmark runs. The figure is
bars / median wall time over --repeats runs (CPU time is printed too: the machine may be shared);
loading the file is timed separately. For scale, on this kind of machine: NautilusTrader 11,500
bars/s, backtrader 8,000, vectorbt 80,000 (vectorised). `--profile` shows where one run's time goes.

    python bench/bars.py [--repeats 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from _common import report, shared

from tradewright.backtest.bar_engine import BarBacktestEngine
from tradewright.core.ids import InstrumentId
from tradewright.data.bars import BarSeries, load_bench_bars
from tradewright.indicators import SMA
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.strategies import SmaCross, SmaCrossConfig
from tradewright.strategy.base import Strategy

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


class BenchSmaCross(Strategy):
    """SMA(10)/SMA(30), long-only: on a cross up buy with all the cash at the next open; on a cross down
    sell it all at the next open."""

    def __init__(self, instrument_id: InstrumentId) -> None:
        super().__init__("SMA", [instrument_id])
        self.iid = instrument_id
        self.fast, self.slow = SMA(10), SMA(30)
        self._update_fast, self._update_slow = self.fast.update, self.slow.update
        self.above: bool | None = None
        self.held = Decimal(0)

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        close = bar.close
        self._update_fast(close)
        self._update_slow(close)
        slow = self.slow.value
        if slow != slow:  # NaN: warming up
            return
        above = self.fast.value > slow
        if above is self.above:
            return
        was, self.above = self.above, above
        if was is None:
            return
        if above and not self.held:
            inst = bar.instrument
            self.held = inst.round_size_down(self.ctx.balance(inst.settle) / bar.close_px)
            self.ctx.submit(self.iid, OrderSide.BUY, self.held)
        elif not above and self.held:
            self.ctx.submit(self.iid, OrderSide.SELL, self.held)
            self.held = Decimal(0)


STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "BenchSmaCross (this file)": lambda: BenchSmaCross(INSTRUMENT.id),
    "SmaCross (tradewright.strategies)": lambda: SmaCross("SMA", [INSTRUMENT.id], CONFIG),
}


def run_once(series: BarSeries, make: Callable[[], Strategy]) -> tuple[BarBacktestEngine, float, float]:
    engine = BarBacktestEngine(series, starting_balance=STARTING_CASH, record=False, equity_sample_ns=None)
    engine.add_strategy(make())
    cpu = time.process_time()
    wall = time.perf_counter()
    engine.run()
    return engine, time.perf_counter() - wall, time.process_time() - cpu


def round_trips(engine: BarBacktestEngine) -> int:
    """Sell orders that filled: each closes one long (long-only, all out)."""
    orders = engine.kernel.orders.all_orders
    return sum(1 for o in orders if o.side is OrderSide.SELL and o.status is OrderStatus.FILLED)


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
    rows = [("bars", f"{n:,}"), ("load (pyarrow, gzip CSV, exact ticks)", f"{load_s:.2f} s")]
    for name, make in STRATEGIES.items():
        runs = [run_once(series, make) for _ in range(args.repeats)]
        engine = runs[-1][0]
        wall = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        rows += [
            (name, ""),
            ("  round trips", f"{round_trips(engine):,}  ({len(engine.kernel.orders.all_orders):,} orders)"),
            ("  final equity", f"{engine.final_equity()} USD  (start {STARTING_CASH})"),
            (
                "  run, median wall / CPU",
                f"{wall:.3f} s / {cpu:.3f} s  (walls: {', '.join(f'{r[1]:.3f}' for r in runs)})",
            ),
            (
                "  bars/s (median wall)",
                f"{n / wall:,.0f}  ({wall * 1e9 / n:,.0f} ns/bar; CPU: {n / cpu:,.0f} bars/s)",
            ),
        ]
    report(
        f"SMA(10)/SMA(30) cross, long-only, all in / all out, btc_1m_bench — median of {args.repeats}", rows
    )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_once(series, STRATEGIES["BenchSmaCross (this file)"])
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        print(out.getvalue())


if __name__ == "__main__":
    main()
