"""bench/anchors.py cases run on tradewright itself (see that script for the rules)."""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import Any

from _common import REPO, es_stream, shared

from tradewright.backtest.bar_engine import BarBacktestEngine
from tradewright.backtest.engine import BacktestEngine
from tradewright.model.book import OrderBook
from tradewright.model.columnar import MarketStream
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderEvent
from tradewright.sim.latency import ConstantLatency
from tradewright.strategy.base import BookTrigger

sys.path.insert(0, str(REPO / "examples"))
from symmetric_mm import SymmetricMarketMaker, SymmetricMMConfig

MS = 1_000_000
WARMUP_ROWS = 20_000  # a short run first: loads numba's compiled code (JIT warm-up, reported apart)


class EveryBatchMM(SymmetricMarketMaker):
    """The same quoter, called after every book message (as NautilusTrader and hftbacktest call theirs).

    Like the anchors' strategies it first checks whether the touch moved since it last quoted and
    returns if not (the rule: cancel/replace a side when its touch price moves); a fill or a cancel
    re-quotes at once, as in the touch-change run.
    """

    book_trigger = BookTrigger.EVERY
    _touch: tuple[int | None, int | None] | None = None

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        touch = book.top_ticks()
        if touch == self._touch:
            return
        self._touch = touch
        super().on_book(book)

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        self._touch = None  # whatever happened to a quote, the next look at the book re-quotes
        super().on_order(event)


def _mm_engine(stream: MarketStream, every: bool) -> BacktestEngine:
    inst = stream.instrument
    engine = BacktestEngine(stream, starting_balance=Decimal(0), latency=ConstantLatency(MS, MS))
    cls = EveryBatchMM if every else SymmetricMarketMaker
    cfg = SymmetricMMConfig(size=inst.lot_size, max_position=inst.lot_size * 5, offset_ticks=0)
    engine.add_strategy(cls("MM", [inst.id], cfg))
    return engine


def _mm(every: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    stream = es_stream()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _mm_engine(stream.slice(0, WARMUP_ROWS), every).run()
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = _mm_engine(stream, every)
    build_s = time.perf_counter() - t0
    cpu0 = time.process_time()
    result = engine.run()
    run_cpu_s = time.process_time() - cpu0  # robust to a busy machine (wall time is not)
    run_s = result.wall_seconds
    kernel = result.kernel
    inst = stream.instrument
    pos = kernel.portfolio.position(inst).quantity
    mid = kernel.books[inst.id].mid
    assert mid is not None
    pnl = kernel.portfolio.balance(inst.settle) + kernel.portfolio.value_at(inst, pos, mid)
    return {
        "events": len(stream),
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": warm_s,
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "outcome": {
            "strategy_calls": result.stops["book"],
            "orders": len(kernel.orders.all_orders),
            "fills": len(result.recorder.fills),
            "position": str(pos),
            "pnl_usd": str(pnl),
        },
    }


def mm_touch() -> dict[str, Any]:
    return _mm(every=False)


def mm_every() -> dict[str, Any]:
    return _mm(every=True)


def replay() -> dict[str, Any]:
    t0 = time.perf_counter()
    stream = es_stream()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    BacktestEngine(stream.slice(0, WARMUP_ROWS), starting_balance=Decimal(0)).run()
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = BacktestEngine(stream, starting_balance=Decimal(0))
    build_s = time.perf_counter() - t0
    cpu0 = time.process_time()
    result = engine.run()
    run_cpu_s = time.process_time() - cpu0  # robust to a busy machine (wall time is not)
    book = result.kernel.books[stream.instrument.id]
    return {
        "events": len(stream),
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": warm_s,
        "run_s": result.wall_seconds,
        "run_cpu_s": run_cpu_s,
        "outcome": {"best_bid": str(book.best_bid), "best_ask": str(book.best_ask)},
    }


def sma_bars() -> dict[str, Any]:
    from bars import INSTRUMENT, STARTING_CASH, BenchSmaCross

    from tradewright.data.bars import load_bench_bars

    t0 = time.perf_counter()
    series = load_bench_bars(shared("bench/btc_1m_bench.csv.gz"), INSTRUMENT)
    load_s = time.perf_counter() - t0

    def engine_for(n: int | None) -> BarBacktestEngine:
        s = series if n is None else series.slice(0, n)
        engine = BarBacktestEngine(s, starting_balance=STARTING_CASH, record=False, equity_sample_ns=None)
        engine.add_strategy(BenchSmaCross(INSTRUMENT.id))
        return engine

    t0 = time.perf_counter()
    engine_for(5_000).run()
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = engine_for(None)
    build_s = time.perf_counter() - t0
    cpu0 = time.process_time()
    result = engine.run()
    run_cpu_s = time.process_time() - cpu0  # robust to a busy machine (wall time is not)
    orders = engine.kernel.orders.all_orders
    trips = sum(1 for o in orders if o.side is OrderSide.SELL and o.status is OrderStatus.FILLED)
    return {
        "events": len(series),
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": warm_s,
        "run_s": result.wall_seconds,
        "run_cpu_s": run_cpu_s,
        "outcome": {"round_trips": trips, "final_equity_usd": str(engine.final_equity())},
    }


CASES = {"A-touch": mm_touch, "A-every": mm_every, "B-replay": replay, "C-sma": sma_bars}
