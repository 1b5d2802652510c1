"""A live node for a broker venue (Interactive Brokers, Alpaca): one bar strategy on one instrument, with
the state store as the kernel's journal (commit before acting), the risk engine, brackets and OCA groups
held by the broker or by the engine (`tradewright.engine.contingent`), restart recovery and
reconciliation — the live path of `tradewright.live.node`, for venues that deliver bars and quotes
through the `tradewright.venues._common.ports` interface (`venues.registry`).

Start-up: read the credentials the venue's config names (refusing, with the variables' names, when they
are missing), connect (an unreachable gateway or rejected keys stop the start with the venue's message),
define the instrument from the venue, rebuild orders, positions and strategy state from the store,
start the order stream, reconcile (and resume the brackets a crash interrupted), then start the strategy,
the quotes and the bars. Each completed bar goes to the strategy as it would in a backtest; the quote
feeds the book the risk engine's spread and slippage guards read.

The clock is the wall clock; a node replaying a recorded session against a local server may be given a
clock that follows the venue's bars (`clock` with `advance_to`: moved to each bar's close), so the
trading day, the session close and the daily limits follow the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from tradewright.config.run import RunConfig
from tradewright.core.clock import Clock, LiveClock
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.core.ids import InstrumentId
from tradewright.engine.kernel import INF, Kernel
from tradewright.engine.reconcile import ReconcileConfig
from tradewright.live.recovery import Reconciler, ReconcileReport, RestoreSummary, VenueOrderActions, restore
from tradewright.live.store_sink import StoreSink
from tradewright.live.supervision import NodeTasks
from tradewright.model.bar_view import BarView
from tradewright.model.book import OrderBook
from tradewright.model.data import Bar
from tradewright.model.events import Event, OrderEvent
from tradewright.model.instrument import Instrument
from tradewright.portfolio.portfolio import Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.store.ports import StateStore
from tradewright.store.records import RunRecord
from tradewright.strategy.base import Strategy
from tradewright.strategy.loader import make_strategy
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ports import BarFeed, LiveVenue, VenueHooks, VenueStatus
from tradewright.venues.registry import venue_package

__all__ = ["BrokerNode"]

_STATE_VERSION = 1


class BrokerNode(NodeTasks):
    """See the module docstring. Use as ``async with BrokerNode(...) as node:`` (or `start`/`stop`)."""

    def __init__(
        self,
        venue_config: Any,
        run: RunConfig,
        store: StateStore,
        *,
        symbol: str | None = None,
        bar_interval_ns: int = 60_000_000_000,
        reconcile: ReconcileConfig | None = None,
        credentials: Credentials | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        name: str = "broker",
        log: logging.Logger | None = None,
    ) -> None:
        self.venue_config = venue_config
        self.run_config = run
        self.store = store
        self.symbol = symbol
        self.bar_interval_ns = bar_interval_ns
        self.reconcile_config = reconcile or ReconcileConfig(interval_s=0)
        self.package = venue_package(str(getattr(venue_config, "kind", "")))
        # Missing keys stop the start here, naming the variables (before anything connects).
        self.credentials = credentials or self.package.credentials(venue_config, environ)
        self.clock = clock or LiveClock()
        self.log = log or logging.getLogger("tradewright.live.broker")
        self.sink = StoreSink(store, log=self.log)
        started_ms = time.time_ns() // 1_000_000
        self.run_id = f"{name}-{started_ms}"
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio(),
            risk=RiskEngine(run.risk),
            sinks=[self.sink],
            journal=self.sink,
            id_prefix=f"B{started_ms % 10**9}",
            fence_strategy_errors=True,
            log=logging.getLogger("tradewright.kernel"),
        )
        self.events: list[Event] = []  # every event the kernel reported, in order (the node's event stream)
        self.kernel.sinks.append(_Collect(self.events))
        self.statuses: list[VenueStatus] = []
        self.venue: LiveVenue | None = None
        self.instrument: Instrument | None = None
        self.book: OrderBook | None = None
        self.strategy: Strategy | None = None
        self.reconciler: Reconciler | None = None
        self.restored = RestoreSummary()
        self.start_report: ReconcileReport | None = None
        self.bars = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.failure: str | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    async def __aenter__(self) -> BrokerNode:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        kernel = self.kernel
        hooks = VenueHooks(
            clock=self.clock, emit=self._on_venue_event, on_status=self._on_status, log=self.log
        )
        venue = await self.package.connect(self.venue_config, self.credentials, hooks)
        self.venue = venue
        try:
            inst = self._pick(venue.instruments)
        except ConfigError:
            await venue.close()
            raise
        if not isinstance(venue.market_data, BarFeed):
            await venue.close()
            raise ConfigError(f"venue {venue.venue} delivers no bars: a bar strategy cannot run on it")
        self.instrument = inst
        # Every instrument of the venue is known (an operator may hold positions in each, and the kill
        # switch closes them all); the strategy trades one.
        for other in venue.instruments.values():
            book = kernel.add_instrument(other)
            self.store.save_instrument(other, ts_ns=self.clock.now_ns())
            if other.id == inst.id:
                self.book = book
        kernel.add_execution_client(venue.execution)
        self.strategy = make_strategy(self.run_config, inst.id)
        kernel.add_strategy(self.strategy)
        now = self.clock.now_ns()
        self.store.start_run(
            RunRecord(
                run_id=self.run_id,
                mode="live",
                config_hash=_hash(self.run_config.source_text),
                started_ns=now,
            )
        )
        state = self.store.load_state()
        if not state.balances:
            snapshot = await venue.execution.account(list(venue.instruments))
            for currency, amount in snapshot.balances.items():
                kernel.portfolio.set_balance(currency, amount)
        self.restored = restore(kernel, state, venue.execution.track, self.log)
        if self.strategy.id not in state.snapshots:
            self._save_snapshot()
        self._spawn(venue.execution.run_user_stream(on_reconnect=self._reconnected), "order stream")
        if not await venue.execution.wait_user_stream(timeout_s=10):
            self.log.warning("the order stream is not connected yet; reconciling anyway")
        self.reconciler = Reconciler(
            kernel,
            venue.execution,
            self.store,
            self.reconcile_config,
            VenueOrderActions(venue.execution.cancel, venue.execution.cancel_unknown),
            min_order_age_s=0.0,
            log=logging.getLogger("tradewright.live.reconcile"),
        )
        self.start_report = await self.reconciler.at_start()
        kernel.start()
        for iid in venue.instruments:
            self._spawn(venue.market_data.run_book(iid, self._on_book), f"quotes {iid}")
        self._spawn(venue.market_data.run_bars(inst.id, self.bar_interval_ns, self._on_bar), "bars")
        self._spawn(self._timers(), "timers")
        self.log.info("live on %s: %s trading %s", venue.venue, self.strategy.id, inst.id)

    async def stop(self, *, cancel_orders: bool = True) -> None:
        """Stop the strategy, cancel every open order (unless told not to), wait for the broker to
        confirm, save the strategy's state and close the connection."""
        kernel = self.kernel
        if self.strategy is not None:
            self._save_snapshot()
            kernel.stop()
        if cancel_orders and self.venue is not None and kernel.store_failure is None:
            kernel.cancel_all_orders(actor="live:shutdown")
            await self.venue.execution.drain(5.0)
            deadline = time.monotonic() + 5.0
            while kernel.orders.open_orders() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        self.sink.flush()
        with contextlib.suppress(TradewrightError):
            self.store.end_run(self.run_id, ended_ns=self.clock.now_ns(), exit_status=self.failure or "ok")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.venue is not None:
            with contextlib.suppress(Exception):
                await self.venue.close()

    def flatten(self, reason: str, actor: str = "operator") -> None:
        """The kill switch: cancel every order, close every position, halt."""
        self.kernel.flatten_all(reason, actor)

    async def reconcile(self) -> ReconcileReport:
        assert self.reconciler is not None
        return await self.reconciler.run_once(check_all=True)

    # --- venue callbacks ------------------------------------------------------------------------
    def _on_venue_event(self, event: Event) -> None:
        if isinstance(event, OrderEvent):
            self.kernel.on_venue_event(event)

    def _on_status(self, status: VenueStatus) -> None:
        self.statuses.append(status)

    def _reconnected(self) -> None:
        if self.reconciler is not None:
            self._spawn(self._reconcile_quietly(), "reconcile after reconnect")

    async def _reconcile_quietly(self) -> None:
        try:
            await self.reconcile()
        except TradewrightError as exc:
            self.log.error("reconciliation after the reconnect failed: %s", exc)

    def _on_book(
        self, instrument_id: InstrumentId, bids: list[tuple[int, int]], asks: list[tuple[int, int]]
    ) -> None:
        book = self.kernel.books.get(instrument_id)
        if book is None:
            return
        book.clear()
        for tick, lots in bids:
            book.set_level(1, tick, lots)
        for tick, lots in asks:
            book.set_level(-1, tick, lots)
        self.kernel.on_book(instrument_id)

    def _on_bar(self, bar: Bar) -> None:
        inst = self.instrument
        assert inst is not None
        advance = getattr(self.clock, "advance_to", None)
        if advance is not None and bar.ts_event > self.clock.now_ns():
            self.kernel.run_due(bar.ts_event)  # timers due before this bar's close, in time order
            advance(bar.ts_event)
        self.bars += 1
        self.kernel.on_bar(BarView.of(bar, inst))

    async def _timers(self) -> None:
        kernel = self.kernel
        while True:
            if getattr(self.clock, "advance_to", None) is None:
                kernel.run_due(self.clock.now_ns())
            due = kernel.next_due_ns()
            wait_s = 0.05 if due >= INF else min(0.05, max(0.0, (due - self.clock.now_ns()) / 1e9))
            await asyncio.sleep(max(wait_s, 0.001))

    # --- helpers --------------------------------------------------------------------------------
    def _pick(self, instruments: Mapping[InstrumentId, Instrument]) -> Instrument:
        if self.symbol is None:
            if len(instruments) != 1:
                raise ConfigError(
                    f"the venue lists {len(instruments)} instruments; name the one to trade "
                    f"({', '.join(str(i) for i in instruments)})"
                )
            return next(iter(instruments.values()))
        for iid, inst in instruments.items():
            if iid.symbol == self.symbol or str(iid) == self.symbol:
                return inst
        raise ConfigError(
            f"{self.symbol} is not among the venue's instruments ({', '.join(map(str, instruments))})"
        )

    def _save_snapshot(self) -> None:
        strategy = self.strategy
        if strategy is None or self.kernel.store_failure is not None or self.kernel.is_stopped(strategy):
            return
        self.store.save_strategy_snapshot(
            strategy.id, _STATE_VERSION, strategy.snapshot_state(), ts_ns=self.clock.now_ns()
        )

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and self.failure is None:
            self.failure = f"task {task.get_name()!r} failed: {exc!r}"
            self.log.error("%s", self.failure, exc_info=exc)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Collect:
    """An event sink that keeps every event (the node's event stream, for its operator and tests)."""

    def __init__(self, into: list[Event]) -> None:
        self._into = into

    def on_event(self, event: Event) -> None:
        self._into.append(event)

    def on_command(self, command: Any) -> None:
        return None
