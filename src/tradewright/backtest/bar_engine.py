"""Run one strategy over one instrument's bars through the kernel and the bar venue (`sim.bar_fill`).

Per bar k (open ``o_k``, close ``c_k``), in this order:

1. everything scheduled up to ``o_k`` runs (order arrivals, timers, answers);
2. only if orders are working: the venue matches the open at ``o_k``, then anything scheduled inside
   the bar runs, then the venue walks the bar's path at ``c_k`` (see `tradewright.sim.bar_fill`);
3. everything scheduled up to ``c_k`` runs, and the strategies get `on_bar` at ``c_k``.

Strategies get one `BarView`, moved in place (see `tradewright.model.bar_view`); a bar with no
working orders costs the loop a few comparisons and the kernel's `on_bar` dispatch. Equity is
sampled at bar closes (at most one row per `equity_sample_ns`) and at every fill, marked at the last
price the venue saw (the open during the open phase, else the bar's close); in equity.csv the `mid`,
`best_bid` and `best_ask` of a bar run are that price.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from tradewright.backtest._gc import gc_paused
from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.data.bars import BarSeries
from tradewright.engine.kernel import Kernel
from tradewright.engine.ports import RiskGate
from tradewright.model.bar_view import BarView
from tradewright.model.book import OrderBook
from tradewright.model.commands import Command, SubmitOrder
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.portfolio.portfolio import Portfolio
from tradewright.runlog.recorder import RunRecorder
from tradewright.sim.bar_fill import BarFillConfig, BarVenue
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, LatencyModel
from tradewright.strategy.base import Strategy
from tradewright.strategy.tags import parse_tag

__all__ = ["TAG_COLUMNS", "BarBacktestEngine", "BarBacktestResult", "BarClock", "BarRecorder"]

_INF = 1 << 62
_CHUNK = 1 << 16  # bars between progress reports
#: Optional fills.csv columns a bar run adds (read by `tradewright.analysis.journal`).
TAG_COLUMNS = ("tag_regime", "tag_reason", "risk_r")


class BarClock:
    """The simulated clock of a bar run: the engine sets `now` directly (one store per bar)."""

    __slots__ = ("now",)

    def __init__(self, start_ns: int = 0) -> None:
        self.now = start_ns

    def now_ns(self) -> int:
        return self.now

    def advance_to(self, ts_ns: int) -> None:
        if ts_ns > self.now:
            self.now = ts_ns


@dataclass(slots=True)
class BarBacktestResult:
    kernel: Kernel
    venue: BarVenue
    recorder: BarRecorder | None
    instrument_id: InstrumentId
    bars: int
    wall_seconds: float
    matched_bars: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.wall_seconds if self.wall_seconds > 0 else float("inf")


class BarBacktestEngine:
    """Wire a kernel, a bar venue and strategies around one `BarSeries` (loaded with its instrument)."""

    def __init__(
        self,
        series: BarSeries,
        *,
        starting_balance: Decimal,
        latency: LatencyModel | None = None,
        fees: FeeModel | None = None,
        fill_config: BarFillConfig | None = None,
        risk: RiskGate | None = None,
        equity_sample_ns: int | None = 1_000_000_000,
        events_file: IO[bytes] | None = None,
        record: bool = True,
        id_prefix: str = "BT",
        end_flush_ns: int = 1_000_000_000,
    ) -> None:
        inst = series.instrument
        if inst is None or series.open_ticks is None:
            raise ValueError("a bar backtest needs bars loaded with their instrument (exact tick prices)")
        assert series.high_ticks is not None and series.low_ticks is not None
        assert series.close_ticks is not None
        self.series = series
        self.instrument: Instrument = inst
        self.n = len(series)
        self.interval_ns = series.interval_ns
        self.clock = BarClock(int(series.ts_open_ns[0]) if self.n else 0)
        self._at_open = False
        self.view = BarView(
            inst,
            series.interval_ns,
            series.ts_open_ns.tolist(),
            (series.open.tolist(), series.high.tolist(), series.low.tolist(), series.close.tolist()),
            (
                series.open_ticks.tolist(),
                series.high_ticks.tolist(),
                series.low_ticks.tolist(),
                series.close_ticks.tolist(),
            ),
            series.volume.tolist(),
        )
        portfolio = _BarPortfolio({inst.settle: starting_balance}, self._mark_price)
        self.kernel = Kernel(self.clock, portfolio=portfolio, risk=risk, id_prefix=id_prefix)
        self.kernel.add_instrument(inst)
        self.venue = BarVenue(
            inst.id.venue,
            self.clock,
            self.kernel.schedule,
            self.kernel.on_venue_event,
            latency=latency or ConstantLatency(0, 0),
            fees=fees,
            config=fill_config,
            drain=self._drain,
        )
        self.venue.add_instrument(inst)
        self.kernel.add_execution_client(self.venue)
        self.recorder: BarRecorder | None = None
        if record:
            self.recorder = BarRecorder(self.kernel, inst.id, events_file, self._mark_tick)
            self.kernel.sinks.append(self.recorder)
        self.equity_sample_ns = equity_sample_ns
        self.end_flush_ns = end_flush_ns
        self._next_sample = 0
        self.matched_bars = 0

    def add_strategy(self, strategy: Strategy) -> None:
        self.kernel.add_strategy(strategy)

    def flatten_at(self, ts_ns: int, reason: str, actor: str = "backtest:--flatten-at") -> None:
        """Fire the kill switch (`Kernel.flatten_all`) at data time `ts_ns` during the replay."""
        self.kernel.schedule(ts_ns, lambda _: self.kernel.flatten_all(reason, actor), None)

    def run(self, progress: Callable[[int, int], None] | None = None) -> BarBacktestResult:
        """Replay every bar; cancel what is still open at the end; return the result."""
        started = time.perf_counter()
        kernel = self.kernel
        kernel.start()
        n = self.n
        with gc_paused():  # see backtest/_gc.py
            for start in range(0, n, _CHUNK):
                self._run_bars(start, min(start + _CHUNK, n))
                if progress is not None:
                    progress(min(start + _CHUNK, n), n)
        self._finish()
        return BarBacktestResult(
            kernel=kernel,
            venue=self.venue,
            recorder=self.recorder,
            instrument_id=self.instrument.id,
            bars=n,
            wall_seconds=time.perf_counter() - started,
            matched_bars=self.matched_bars,
            stats=dict(self.venue.stats),
        )

    def start(self) -> None:
        """Start the kernel and its strategies (`run` does it; a caller that paces `step` calls it first)."""
        self.kernel.start()

    def step(self, start: int, stop: int) -> None:
        """Replay bars [start, stop) (`tradewright paper` on bars paces the replay with this)."""
        self._run_bars(start, stop)

    def finish(self) -> None:
        """End a paced replay as `run` ends: stop the strategies, cancel every order, take a last sample."""
        self._finish()

    def _run_bars(self, start: int, stop: int) -> None:
        """The hot loop (module docstring). Locals only; the kernel's queue head is read directly
        because a method call per bar would cost more than the rest of an idle bar."""
        kernel = self.kernel
        queue = kernel._queue
        run_due = kernel.run_due
        on_bar = kernel.on_bar
        working = self.venue.working
        clock = self.clock
        view = self.view
        ts_open = view._ts
        interval = self.interval_ns
        sample_every = self.equity_sample_ns
        recorder = self.recorder
        next_sample = self._next_sample if sample_every is not None and recorder is not None else _INF
        for i in range(start, stop):
            o = ts_open[i]
            c = o + interval
            if queue and queue[0][0] <= c:  # something is due by this bar's close
                if queue[0][0] <= o:
                    run_due(o)
                if working:
                    self._match(i, o, c)
                else:
                    view._i = i
                if queue and queue[0][0] <= c:
                    run_due(c)
            elif working:
                self._match(i, o, c)
                if queue and queue[0][0] <= c:
                    run_due(c)
            else:
                view._i = i  # the common bar: nothing due, nothing working
            clock.now = c
            on_bar(view)
            if c >= next_sample:
                assert recorder is not None and sample_every is not None
                recorder.sample(c)
                next_sample = c - (c - next_sample) % sample_every + sample_every
        if sample_every is not None and recorder is not None:
            self._next_sample = next_sample

    def _match(self, i: int, o: int, c: int) -> None:
        """Bar i with orders working: the open at `o`, what is due inside the bar, the path at `c`."""
        view = self.view
        iid = self.instrument.id
        venue = self.venue
        ot, ht, lt, ct = view._ot[i], view._ht[i], view._lt[i], view._ct[i]
        self.matched_bars += 1
        self.clock.advance_to(o)
        self._at_open = True
        try:
            venue.match_open(iid, o, ot, ht, lt)
        finally:
            self._at_open = False
        queue = self.kernel._queue
        if queue and queue[0][0] < c:
            self.kernel.run_due(c - 1)
        view._i = i  # the bar is complete at its close: reactions to path fills may read it
        self.clock.advance_to(c)
        if venue.working:
            venue.match_path(iid, o, ot, ht, lt, ct)

    def _drain(self) -> None:
        """Let the node hear (and answer) what is due now: called by the venue after each fill."""
        self.kernel.run_due(self.clock.now)

    def _mark_price(self) -> Decimal | None:
        tick = self._mark_tick()
        return None if tick is None else self.instrument.ticks_to_price(tick)

    def _mark_tick(self) -> int | None:
        """The last price the venue saw, in ticks (None before the first bar)."""
        view = self.view
        if not len(view):
            return None
        return view._ot[view._i] if self._at_open else view._ct[view._i]

    def _finish(self) -> None:
        """Stop the strategy, cancel every open order, let the venue answer, take a last sample."""
        kernel = self.kernel
        if self.n:
            kernel.run_due(self.clock.now + self.end_flush_ns)
        kernel.stop()
        kernel.cancel_all_orders(actor="backtest:end")
        while kernel.next_due_ns() < _INF:
            kernel.run_due(kernel.next_due_ns())
        if self.recorder is not None:
            self.recorder.sample(self.clock.now)

    def final_equity(self) -> Decimal:
        """Cash plus the open position at the last close (exact)."""
        inst = self.instrument
        portfolio = self.kernel.portfolio
        cash = portfolio.balance(inst.settle)
        mark = self._mark_tick()
        if mark is None:
            return cash
        return cash + portfolio.position_value(inst, inst.ticks_to_price(mark))


class _BarPortfolio(Portfolio):
    """The portfolio of a bar run: positions are marked at the last bar price (there is no book)."""

    __slots__ = ("_bar_mark",)

    def __init__(self, balances: dict[str, Decimal], bar_mark: Callable[[], Decimal | None]) -> None:
        super().__init__(balances)
        self._bar_mark = bar_mark

    def mark(self, instrument_id: InstrumentId, book: OrderBook | None) -> Decimal | None:
        return self._bar_mark()


class BarRecorder(RunRecorder):
    """`RunRecorder` for bar runs: marks at the last bar price, and keeps each fill's journal tags.

    A strategy tags an order through `ctx.submit(..., tag=...)` (see `tradewright.strategy.tags`); the
    tags of the order a fill belongs to go to fills.csv's optional `tag_regime`, `tag_reason` and
    `risk_r` columns. `risk_r` is the money at risk (1 R) the entry order's tag declares, shared
    pro rata among its fills.
    """

    def __init__(
        self,
        kernel: Kernel,
        instrument_id: InstrumentId,
        events_file: IO[bytes] | None,
        mark_tick: Callable[[], int | None],
    ) -> None:
        super().__init__(kernel, instrument_id, events_file)
        self._mark = mark_tick
        self._tags: dict[ClientOrderId, dict[str, str]] = {}
        self.fill_tags: list[tuple[str, str, str]] = []

    def on_command(self, command: Command) -> None:
        super().on_command(command)
        if type(command) is SubmitOrder:
            _, _, tag = command.actor.partition(":")
            if tag:
                self._tags[command.client_order_id] = parse_tag(tag)

    def on_event(self, event: Any) -> None:
        if type(event) is OrderFilled:
            tags = self._tags.get(event.client_order_id, {})
            self.fill_tags.append(
                (tags.get("regime", ""), tags.get("reason", ""), self._risk_share(event, tags))
            )
        super().on_event(event)

    def _risk_share(self, fill: OrderFilled, tags: dict[str, str]) -> str:
        """The part of the order's tagged risk that this fill carries (all of it for a whole fill)."""
        risk = tags.get("risk")
        order = self._kernel.orders.get(fill.client_order_id)
        if risk is None or order is None:
            return ""
        if fill.last_qty == order.quantity:
            return risk
        return str(Decimal(risk) * fill.last_qty / order.quantity)

    @property
    def has_tags(self) -> bool:
        return any(any(cells) for cells in self.fill_tags)

    def fill_rows_with_tags(self) -> list[tuple[str, ...]]:
        """fills.csv rows with `TAG_COLUMNS` appended."""
        return [row + tags for row, tags in zip(self.fills, self.fill_tags, strict=True)]

    def sample(self, ts_ns: int) -> None:
        """One equity sample at `ts_ns`, marked at the last bar price (see the module docstring).

        A sample is (time, bid tick, ask tick, account-state snapshot); the bar's price stands in for both
        sides, so the row's mid is the mark.
        """
        mark = self._mark()
        self._samples.append((ts_ns, mark, mark, self.snapshot_index()))
        self._formatted = None
