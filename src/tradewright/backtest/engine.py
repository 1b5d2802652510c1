"""Run one strategy over one recorded L2 stream through the kernel and the simulated venue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

import numpy as np

from tradewright.backtest import _loop
from tradewright.backtest._gc import gc_paused
from tradewright.backtest._window import StreamWindow
from tradewright.core.clock import SimClock
from tradewright.core.ids import InstrumentId
from tradewright.engine.kernel import Kernel
from tradewright.engine.ports import RiskGate
from tradewright.model.book import OrderBook
from tradewright.model.columnar import MarketStream
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.runlog.recorder import RunRecorder
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, LatencyModel
from tradewright.sim.queue import ConservativeQueue, QueueModel
from tradewright.sim.venue import SimVenue
from tradewright.strategy.base import BookTrigger, Strategy

__all__ = ["BacktestEngine", "BacktestResult"]

_take_samples: Callable[..., None] = _loop.take_samples
_replay: Callable[..., Iterator[int]] = _loop.replay  # compiled; typed loosely for mypy
_make_state: Callable[..., object] = _loop.make_state


def _c(column: np.ndarray, dtype: type = np.int64) -> np.ndarray:
    """The column as the compiled loop reads it: C-contiguous, writeable (its type), of `dtype`. The
    loaders produce exactly that, so this copies nothing; anything else is copied once."""
    if column.dtype == dtype and column.flags.c_contiguous and column.flags.writeable:
        return column
    return np.array(column, dtype=dtype, order="C")


_TRIGGERS = {
    BookTrigger.TOP_PRICE: _loop.TRIGGER_TOP_PRICE,
    BookTrigger.TOP: _loop.TRIGGER_TOP,
    BookTrigger.EVERY: _loop.TRIGGER_EVERY,
}


@dataclass(slots=True)
class BacktestResult:
    kernel: Kernel
    venue: SimVenue
    recorder: RunRecorder
    instrument_id: InstrumentId
    rows: int
    wall_seconds: float
    stops: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.rows / self.wall_seconds if self.wall_seconds > 0 else float("inf")


class BacktestEngine:
    """Wire a kernel, a simulated venue and a strategy around one stream, then replay it."""

    def __init__(
        self,
        stream: MarketStream | Iterable[MarketStream],
        *,
        starting_balance: Decimal,
        latency: LatencyModel | None = None,
        market_data_latency_ns: int | np.ndarray = 0,
        queue_model: QueueModel | None = None,
        fees: FeeModel | None = None,
        risk: RiskGate | None = None,
        mark_price: MarkPrice = MarkPrice.MID,
        equity_sample_ns: int = 1_000_000_000,
        events_file: IO[bytes] | None = None,
        id_prefix: str = "BT",
        end_flush_ns: int = 1_000_000_000,
    ) -> None:
        # A stream in memory is one chunk; chunks (e.g. `data.cache.iter_stream`) are replayed through a
        # sliding window, so memory does not grow with the data (see backtest/_window.py).
        self.window = StreamWindow(
            [stream] if isinstance(stream, MarketStream) else stream, market_data_latency_ns
        )
        self.far_levels_dropped = self.window.far_levels_dropped
        self.stream = self.window.stream
        inst = self.window.instrument
        self.clock = SimClock(int(self.stream.ts_recv[0]) if len(self.stream) else 0)
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio({inst.settle: starting_balance}, mark_price=mark_price),
            risk=risk,
            id_prefix=id_prefix,
        )
        self.venue_book = OrderBook(inst)
        self.shared = self.window.shared
        strategy_book = self.venue_book if self.shared else OrderBook(inst)
        self.kernel.add_instrument(inst, strategy_book)
        self.venue = SimVenue(
            inst.id.venue,
            self.clock,
            self.kernel.schedule,
            self.kernel.on_venue_event,
            latency=latency or ConstantLatency(0, 0),
            fees=fees,
            queue_model=queue_model or ConservativeQueue(),
        )
        self.own = self.venue.add_instrument(inst, self.venue_book)
        self.kernel.add_execution_client(self.venue)
        self.recorder = RunRecorder(self.kernel, inst.id, events_file)
        self.kernel.sinks.append(self.recorder)
        if equity_sample_ns <= 0:
            raise ValueError(f"equity_sample_ns must be > 0, got {equity_sample_ns}")
        self.equity_sample_ns = equity_sample_ns
        self.end_flush_ns = end_flush_ns

    def add_strategy(self, strategy: Strategy) -> None:
        self.kernel.add_strategy(strategy)

    def flatten_at(self, ts_ns: int, reason: str, actor: str = "backtest:--flatten-at") -> None:
        """Fire the kill switch (`Kernel.flatten_all`) at data time `ts_ns` during the replay."""
        self.kernel.schedule(ts_ns, lambda _: self.kernel.flatten_all(reason, actor), None)

    def run(self, progress: Callable[[int, int], None] | None = None) -> BacktestResult:
        """Replay the whole stream; cancel what is still open at the end; return the result."""
        started = time.perf_counter()
        kernel = self.kernel
        window = self.window
        iid = window.instrument.id
        stops: dict[str, int] = {"book": 0, "trade": 0, "venue": 0, "scheduled": 0, "grow": 0, "refill": 0}
        # Equity is sampled on a time grid inside the compiled loop (no return to Python per sample):
        # it records the strategy book's top and the index of the current account-state snapshot. The
        # grid array is sized for the rows in hand and handed to the recorder whenever more arrive.
        first = int(window.lo[0]) if len(window.stream) else 0
        samp = self._grid_for(window)
        samp_st = np.array([first, 0, self.equity_sample_ns, 0], dtype=np.int64)
        recorder = self.recorder
        kernel.start()
        trigger = (
            _TRIGGERS[kernel.book_trigger(iid)]
            if any(s.wants("on_book") for s in kernel.strategies_for(iid))
            else _loop.TRIGGER_NONE
        )
        want_trades = kernel.needs_trades or any(s.wants("on_trade") for s in kernel.strategies_for(iid))
        cur = np.zeros(_loop.CURSOR_SIZE, dtype=np.int64)
        cur[_loop.C_BB] = cur[_loop.C_BA] = -2
        qm = self.venue.queue_model
        scratch = self.venue._scratch
        strategy_book = kernel.books[iid]
        own = self.own
        last_progress = 0

        def stepper() -> Callable[[], int]:
            # The compiled generator holds the arrays: made anew only when one is replaced (new rows, a
            # book ladder or the own-order slots grew).
            vb, va, vst = self.venue_book.arrays
            sb, sa, sst = strategy_book.arrays
            st = window.stream
            state = _make_state(
                *(
                    _c(st.kind, np.int8),
                    _c(st.side, np.int8),
                    _c(st.tick),
                    _c(st.lots),
                    _c(st.flags, np.int8),
                ),
                *(_c(window.ve), _c(window.lo), vb, va, vst, sb, sa, sst, self.shared),
                *own.arrays(),
                *(qm.code, float(qm.param), scratch, cur, trigger, want_trades, samp, samp_st, window.more),
            )
            return _replay(state).__next__

        # The loop below runs once per return from the compiled loop (up to once per book message):
        # names are bound locally, cursors read through a memoryview (plain ints, no numpy scalars) and
        # the most frequent reasons are tested first.
        R_BOOK, R_LIMIT, R_VENUE, R_END = _loop.R_BOOK, _loop.R_LIMIT, _loop.R_VENUE, _loop.R_END
        C_OUT, C_LIMIT = _loop.C_OUT, _loop.C_LIMIT
        curv = cur.data
        clock_to = self.clock.advance_to
        on_book = kernel.on_book
        run_due = kernel.run_due
        after_row = self.venue.after_row
        n_book = n_sched = n_venue = 0
        with gc_paused():  # see backtest/_gc.py
            step = stepper()
            slots = own.active
            next_due = kernel.next_due_ns
            stream = window.stream
            lov, vev = window.lo.data, window.ve.data
            while True:
                if own.active is not slots:
                    step, slots = stepper(), own.active
                if recorder.dirty:
                    samp_st[3] = recorder.snapshot_index()
                curv[C_LIMIT] = next_due()
                reason = step()
                if reason == R_BOOK:
                    n_book += 1
                    clock_to(lov[curv[C_OUT]])
                    on_book(iid)
                elif reason == R_LIMIT:
                    n_sched += 1
                    run_due(curv[C_LIMIT])  # the compiled loop took the grid's samples up to then
                elif reason == R_VENUE:
                    n_venue += 1
                    k = curv[C_OUT]
                    clock_to(vev[k])
                    after_row(iid, curv[_loop.C_CODE], stream, k)
                elif reason == R_END:
                    break
                elif reason == _loop.R_TRADE:
                    stops["trade"] += 1
                    k = curv[C_OUT]
                    clock_to(lov[k])
                    kernel.on_trade(self._trade(k))
                elif reason == _loop.R_GROW:
                    stops["grow"] += 1
                    k = curv[C_OUT]
                    book = self.venue_book if curv[_loop.C_CODE] == 0 else strategy_book
                    book.ensure_range(int(stream.tick[k]))
                    step = stepper()
                elif reason == _loop.R_REFILL:
                    stops["refill"] += 1
                    keep = int(cur[_loop.C_IV]) if self.shared else int(min(cur[_loop.C_IV], cur[_loop.C_IS]))
                    window.refill(keep)
                    cur[_loop.C_IV] -= keep
                    if not self.shared:
                        cur[_loop.C_IS] -= keep
                    self.stream = stream = window.stream
                    lov, vev = window.lo.data, window.ve.data
                    recorder.add_grid(samp[: int(samp_st[1])])
                    samp_st[1] = 0
                    if len(samp) < self._grid_rows(window):
                        samp = self._grid_for(window)
                    step = stepper()
                if progress is not None and window.rows_done + cur[_loop.C_IV] - last_progress >= 50_000:
                    last_progress = int(window.rows_done + cur[_loop.C_IV])
                    progress(last_progress, window.total_rows)
            stops["book"], stops["scheduled"], stops["venue"] = n_book, n_sched, n_venue
            if len(stream):
                _take_samples(samp, samp_st, strategy_book.arrays[2], int(window.lo[-1]) + 1)
            recorder.add_grid(samp[: int(samp_st[1])])
            self.far_levels_dropped = window.far_levels_dropped
            self._finish()
        n = window.total_rows
        if progress is not None:
            progress(n, n)
        return BacktestResult(
            kernel=kernel,
            venue=self.venue,
            recorder=self.recorder,
            instrument_id=iid,
            rows=n,
            wall_seconds=time.perf_counter() - started,
            stops=stops,
        )

    def _grid_rows(self, window: StreamWindow) -> int:
        """How many equity-grid samples the rows in the window can produce (at most)."""
        span = int(window.lo[-1]) - int(window.lo[0]) if len(window.stream) else 0
        return span // self.equity_sample_ns + 2

    def _grid_for(self, window: StreamWindow) -> np.ndarray:
        return np.empty((self._grid_rows(window), 4), dtype=np.int64)

    def _finish(self) -> None:
        """Stop the strategy, cancel every open order, let the venue answer, take a last sample."""
        kernel = self.kernel
        # Let answers already in flight reach the strategy before it stops (latency outlives the data).
        if len(self.window.stream):
            kernel.run_due(int(self.window.lo[-1]) + self.end_flush_ns)
        kernel.stop()
        kernel.cancel_all_orders(actor="backtest:end")
        while kernel.next_due_ns() < (1 << 62):
            kernel.run_due(kernel.next_due_ns())
        self.recorder.sample(self.clock.now_ns())

    def _trade(self, k: int) -> TradeTick:
        stream = self.stream
        inst = stream.instrument
        side = int(stream.side[k])
        return TradeTick(
            instrument_id=inst.id,
            price=inst.ticks_to_price(int(stream.tick[k])),
            size=inst.lots_to_size(int(stream.lots[k])),
            aggressor=None if side == 0 else (OrderSide.BUY if side > 0 else OrderSide.SELL),
            trade_id=str(int(stream.update_id[k])),
            ts_event=int(stream.ts_event[k]),
            ts_init=self.clock.now_ns(),
        )
