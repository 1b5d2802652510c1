"""The live node: one kernel on a wall clock, one strategy, one venue over its real wire protocol, and
the state store as the kernel's journal (commit before acting).

Start-up: connect to the venue and define the instrument from it; open the store; rebuild orders,
positions, balances and strategy state from it (`recovery.restore`); start the user stream; reconcile
with the venue; then start the strategy and the market data. While running: timers, a reconciliation
every `reconcile.interval_s`, strategy snapshots every `node.snapshot_interval_s`.

Stopping: SIGTERM/SIGINT stop the strategy, cancel every open order (with
`risk.close_positions_on_sigterm`, fire the kill switch instead: cancel and close the position), wait
(up to `node.shutdown_timeout_s`) for the venue to confirm, save the strategy snapshots and exit 0.
A flatten request (`tradewright flatten --pid`, queued in `flatten_requests`) fires the kill switch,
waits until the node is flat with no order left, and stops with exit 0 and the reason. A store
that fails stops new orders at once (the kernel's journal failed), cancels every order and exits 3; an
unexpected error in any task does the same and exits 1. A kill -9 at any moment loses nothing that
was committed: the next start restores it and reconciles the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from tradewright.core.clock import LiveClock
from tradewright.core.errors import StoreError, TradewrightError
from tradewright.core.ids import InstrumentId
from tradewright.core.redact import install_log_redaction
from tradewright.engine.executor import MultiLegExecutor
from tradewright.engine.kernel import INF, Kernel
from tradewright.live.config import LiveConfig
from tradewright.live.crash import CrashHooks
from tradewright.live.operator import NodeService
from tradewright.live.recovery import Reconciler, RestoreSummary, VenueOrderActions, restore
from tradewright.live.status import StatusSink, StatusTracker, StrategyFailures
from tradewright.live.store_sink import StoreSink
from tradewright.live.supervision import NodeTasks
from tradewright.live.venue_link import VenueLink
from tradewright.live.workflows import attach_durable_executor, resume_workflows
from tradewright.model.book import OrderBook
from tradewright.model.data import TradeTick
from tradewright.model.events import OrderEvent, OrderFilled, TradingState, VenueIntegrityViolation
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.risk.state import instrument_scope
from tradewright.store.ports import StateStore
from tradewright.store.records import RunRecord
from tradewright.strategy.base import BookTrigger, Strategy
from tradewright.strategy.loader import make_strategy
from tradewright.venues.binance.config import Credentials
from tradewright.venues.binance.data import BookLevels
from tradewright.venues.binance.factory import BinanceVenue, connect_binance_usdm

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_STORE_FAILED", "LiveNode", "order_id_prefix"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_STORE_FAILED = 3
_STATE_VERSION = 1
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _url_password(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [] if password is None else [password]


def order_id_prefix(now_ms: int) -> str:
    """A prefix for this run's client order ids: `T` + the start time in base 36 (ids never repeat
    across restarts, and stay well inside Binance's 36 characters)."""
    text = ""
    while now_ms:
        now_ms, digit = divmod(now_ms, 36)
        text = _DIGITS[digit] + text
    return "T" + (text or "0")


class LiveNode(NodeTasks):
    """See the module docstring. `run` returns the process exit code."""

    def __init__(
        self,
        config: LiveConfig,
        credentials: Credentials,
        store: StateStore,
        *,
        hooks: CrashHooks | None = None,
        log: logging.Logger | None = None,
        status: StatusSink | None = None,
        services: Sequence[NodeService] = (),
    ) -> None:
        # No log line of this process (CCXT's DEBUG requests included) may show a credential.
        install_log_redaction([credentials.api_key, credentials.secret, *_url_password(config.store.url)])
        self.config = config
        self.credentials = credentials
        self.store = store
        self.hooks = hooks or CrashHooks()
        self.log = log or logging.getLogger("tradewright.live")
        self.clock = LiveClock()
        self.sink = StoreSink(store, hooks=self.hooks, on_failure=self._sink_failed, log=self.log)
        started_ms = time.time_ns() // 1_000_000
        self.run_id = f"{config.node.name}-{started_ms}"
        self.id_prefix = order_id_prefix(started_ms)
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio(mark_price=MarkPrice(config.node.mark_price)),
            risk=RiskEngine(config.risk),
            sinks=[self.sink],
            journal=self.sink,
            id_prefix=self.id_prefix,
            fence_strategy_errors=True,
            log=logging.getLogger("tradewright.kernel"),
        )
        self.failures = StrategyFailures(self.kernel)
        self.kernel.log.addHandler(self.failures)
        self.status_sink = status
        self.tracker: StatusTracker | None = None
        self.events = 0  # market data updates received
        self.flatten_requests: list[str] = []  # queued by `tradewright flatten` (live.control)
        self._flattening: str | None = None
        # A fill the venue could not have made is refused by the order manager and handed here.
        self.kernel.orders.on_violation = self._venue_integrity
        self.integrity_violations = 0
        self.venue: BinanceVenue | None = None
        self.book: OrderBook | None = None
        self.strategy: Strategy | None = None
        self.reconciler: Reconciler | None = None
        self.link: VenueLink | None = None  # venue connection lost -> HALTED until back and reconciled
        self.executor: MultiLegExecutor | None = None
        self.restored = RestoreSummary()
        self.trading = False
        self.stop_reason = ""
        self.exit_code = EXIT_OK
        self._levels: dict[tuple[int, int], int] = {}
        self._top: tuple[int | None, int | None, int, int] = (None, None, -1, -1)
        self._trigger = BookTrigger.TOP
        self._tasks: list[asyncio.Task[None]] = []
        self._fatal: str | None = None
        self._store_problem: str | None = None
        self._resync_due = False
        self._resync_why = ""
        self._wake = asyncio.Event()
        self.services = list(services)  # faces (the API) served while it trades, through its operator port
        self.operator: Any = None
        self._services = contextlib.AsyncExitStack()

    # --- the run ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> int:
        """Start, trade until `stop` is set or something fails, then stop in order."""
        try:
            await self._start()
            await self._loop(stop)
        finally:
            self.kernel.log.removeHandler(self.failures)
            await self._shutdown()
        return self.exit_code

    async def _start(self) -> None:
        config, kernel = self.config, self.kernel
        venue = await connect_binance_usdm(
            config.venue,
            self.credentials,
            clock=self.clock,
            emit=self._on_venue_event,
            on_book=self._on_book,
            on_trade=self._on_trade,
            after_send=self._after_send,
            log=logging.getLogger("tradewright.venues.binance"),
        )
        self.venue = venue
        inst = venue.instrument
        self.book = kernel.add_instrument(inst)
        kernel.add_execution_client(venue.execution)
        self.strategy = make_strategy(config.as_run_config(), inst.id)
        kernel.add_strategy(self.strategy)
        # Multi-leg plans (`ctx.execute`) run as durable workflows on the store's saga tables.
        self.executor = attach_durable_executor(
            kernel, self.store, id_prefix=f"{self.id_prefix}W", crash=self.hooks.reached
        )
        self._trigger = kernel.book_trigger(inst.id)
        now = self.clock.now_ns()
        self.store.save_instrument(inst, ts_ns=now)
        self.store.start_run(
            RunRecord(run_id=self.run_id, mode="live", config_hash=config.config_hash, started_ns=now)
        )
        state = self.store.load_state()
        self.restored = restore(kernel, state, venue.execution.track, self.log)
        if any(s.id not in state.snapshots for s in kernel.strategies):
            # A strategy's state is its last snapshot plus the fills after it: give a new strategy its
            # first (empty) snapshot before it can have a fill, so every later fill is replayed to it.
            self._save_snapshots(only_new=set(state.snapshots))
        self.log.info(
            "restored from the store: %d open orders, %d positions, %d balances, %d strategy snapshots "
            "(+%d fills replayed)",
            self.restored.orders,
            self.restored.positions,
            self.restored.balances,
            self.restored.snapshots,
            self.restored.replayed_fills,
        )
        assert isinstance(kernel.risk, RiskEngine)
        link = self.link = VenueLink(
            inst.id.venue, kernel.risk, self._resync, logging.getLogger("tradewright.live.link")
        )
        venue.market_data.on_link = link.watch("market data")
        user_stream = link.watch("user stream")
        self._spawn(
            venue.execution.run_user_stream(
                on_reconnect=lambda: user_stream(True, ""), on_disconnect=lambda why: user_stream(False, why)
            ),
            "user stream",
        )
        self._spawn(
            venue.execution.process_updates(on_malformed=lambda: self._resync("a malformed order update")),
            "order updates",
        )
        if not await venue.execution.wait_user_stream(timeout_s=config.venue.timeout_ms / 1000):
            self.log.warning("the user stream is not connected yet; reconciling anyway")
        self.reconciler = Reconciler(
            kernel,
            venue.execution,
            self.store,
            config.reconcile,
            VenueOrderActions(venue.execution.cancel, venue.execution.cancel_unknown),
            min_order_age_s=config.node.min_order_age_s,
            log=logging.getLogger("tradewright.live.reconcile"),
        )
        report = await self.reconciler.at_start()
        self.log.info(
            "reconciled with the venue at start: %d orders checked, %d events applied, %d corrections, %d halts",
            report.orders_checked,
            len(report.events),
            len(report.actions),
            len(report.halted),
        )
        resumed = await resume_workflows(self.executor, {venue.execution.venue: venue.execution})
        if resumed:
            self.log.info("took up %d open multi-leg workflows from the store", resumed)
        kernel.start()
        self.trading = True
        self.tracker = StatusTracker(kernel, inst.id, "live", self.status_sink)
        kernel.sinks.append(self.tracker)
        self._spawn(venue.market_data.run_book(), "order book")
        if kernel.needs_trades or self.strategy.wants("on_trade"):
            self._spawn(venue.market_data.run_trades(), "trades")
        self._spawn(self._timers(), "timers")
        if self.services:
            from tradewright.live.services import live_operator, start_services

            self.operator = live_operator(self)
            self._services = await start_services(self.operator, self.services)
        self.log.info(
            "live: %s trading %s at %s (store %s, client order ids %s-*)",
            self.strategy.id,
            inst.id,
            config.venue.rest_url,
            getattr(self.store, "backend", "?"),
            self.id_prefix,
        )

    def _resync(self, why: str = "the user stream reconnected") -> None:
        """The user stream was down or said something unusable: only reconciling now recovers what it
        should have said."""
        self._resync_due = True
        self._resync_why = why
        self._wake.set()

    def _venue_integrity(self, order: Order, fill: OrderFilled, why: str) -> None:
        """The venue reported a fill that cannot be true of the order: it was not booked. Record it, let
        only orders that reduce the position through on that instrument (REDUCING, until an operator
        resets it), and reconcile at once: the venue's own records say what really happened."""
        iid = order.instrument_id
        self.integrity_violations += 1
        self.log.error(
            "venue integrity: the venue reported for order %s a %s; not booked. %s is set to REDUCING "
            "(until an operator resets it) and the node reconciles with the venue",
            order.client_order_id,
            why,
            iid,
        )
        now = self.clock.now_ns()
        self.kernel.emit(
            VenueIntegrityViolation(
                client_order_id=order.client_order_id,
                instrument_id=iid,
                trade_id=str(fill.trade_id),
                reason=why,
                ts_event=fill.ts_event,
                ts_init=now,
            )
        )
        if isinstance(self.kernel.risk, RiskEngine):
            self.kernel.risk.hold(instrument_scope(iid), "venue_integrity", TradingState.REDUCING, why)
        else:
            self.kernel.halt(why, iid)
        self._resync(f"the venue reported an impossible fill for {order.client_order_id}")

    async def _loop(self, stop: asyncio.Event) -> None:
        config = self.config
        next_reconcile = time.monotonic() + config.reconcile.interval_s
        next_snapshot = time.monotonic() + config.node.snapshot_interval_s
        next_status = time.monotonic()
        reconciling: asyncio.Task[None] | None = None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.1)
            self._wake.clear()
            store_failure = self.kernel.store_failure or self._store_problem
            if store_failure is not None:
                self.stop_reason = store_failure
                self.exit_code = EXIT_STORE_FAILED
                return
            if self._fatal is not None:
                self.stop_reason = self._fatal
                self.exit_code = EXIT_FAILED
                return
            now = time.monotonic()
            due = config.reconcile.interval_s > 0 and now >= next_reconcile
            if (due or self._resync_due) and reconciling is None:
                if self._resync_due:
                    self.log.info("reconciling with the venue now: %s", self._resync_why)
                self._resync_due = False
                next_reconcile = now + config.reconcile.interval_s
                reconciling = asyncio.create_task(self._reconcile(), name="reconcile")
            if reconciling is not None and reconciling.done():
                reconciling = None
            if self.tracker is not None and now >= next_status:
                next_status = now + 0.5
                self.tracker.report(self.events)
            if self._flatten_step():
                break
            if now >= next_snapshot:
                next_snapshot = now + config.node.snapshot_interval_s
                self._save_snapshots()
                self.sink.flush()
        else:
            self.stop_reason = "stop requested (signal)"
        if reconciling is not None:
            reconciling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconciling

    def _flatten_step(self) -> bool:
        """Serve a flatten request: fire the kill switch once; True when it is done (flat, no order left)."""
        if self._flattening is None and self.flatten_requests:
            self._flattening = self.flatten_requests.pop(0)
            self.log.warning("flatten requested: %s", self._flattening)
            self.kernel.flatten_all(self._flattening, actor="operator:tradewright flatten")
        if self._flattening is None or not self._flat():
            return False
        self.stop_reason = f"flattened on request: {self._flattening}"
        self.log.warning("%s; stopping", self.stop_reason)
        return True

    def _flat(self) -> bool:
        """No open order and no position on the traded instrument."""
        if self.venue is None or self.kernel.orders.open_orders():
            return False
        return self.kernel.portfolio.position(self.venue.instrument).quantity == 0

    async def _reconcile(self) -> None:
        assert self.reconciler is not None
        generation = 0 if self.link is None else self.link.generation
        try:
            await self.reconciler.run_once()
            if self.link is not None:
                self.link.reconciled(generation)  # a lost connection's hold ends only after this
        except TradewrightError as exc:
            self.log.error("periodic reconciliation failed: %s", exc)
        except Exception as exc:  # a task boundary: the venue could not be read; try again next time
            self.log.warning("periodic reconciliation could not read the venue: %r", exc)

    async def _shutdown(self) -> None:
        kernel = self.kernel
        self.trading = False
        reason = self.stop_reason or "start-up failed"
        if self.venue is not None and self.strategy is not None:
            if self.exit_code != EXIT_OK:
                self.log.critical("stopping: %s", reason)
            # Snapshot before the strategy stops: fills that arrive during shutdown are then replayed to
            # it at the next start (a stopped strategy no longer sees them).
            self._save_snapshots()
            kernel.stop()
            close = self.config.risk.close_positions_on_sigterm and reason == "stop requested (signal)"
            if close and kernel.store_failure is None:
                # The kill switch cancels every order and closes the position; its retries need the
                # market data tasks, which still run until the end of the shutdown.
                kernel.flatten_all(f"shutdown: {reason} (risk.close_positions_on_sigterm)", "live:shutdown")
                deadline = time.monotonic() + self.config.node.shutdown_timeout_s
                while not self._flat() and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
            sent = kernel.cancel_all_orders(actor=f"live:shutdown ({reason[:80]})")
            self.log.info("shutdown: %d cancels sent", sent)
            await self._await_cancels()
            if kernel.store_failure is None:
                self.sink.flush()
                with contextlib.suppress(StoreError):
                    self.store.end_run(self.run_id, ended_ns=self.clock.now_ns(), exit_status=self._status())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.venue is not None:
            with contextlib.suppress(Exception):
                await self.venue.close()
        await self._services.aclose()

    async def _await_cancels(self) -> None:
        assert self.venue is not None
        deadline = time.monotonic() + self.config.node.shutdown_timeout_s
        await self.venue.execution.drain(self.config.node.shutdown_timeout_s)
        if self.kernel.store_failure is not None:
            return  # nothing more is applied: the venue's answers cannot be recorded
        while self.kernel.orders.open_orders() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = self.kernel.orders.open_orders()
        if left:
            self.log.warning(
                "shutdown: %d orders not confirmed cancelled in %.0f s: %s (the next start reconciles them)",
                len(left),
                self.config.node.shutdown_timeout_s,
                ", ".join(o.client_order_id for o in left[:10]),
            )

    def _status(self) -> str:
        if self.exit_code == EXIT_OK:
            return "ok" if self._flattening is None else f"ok: {self.stop_reason[:200]}"
        return f"error: {self.stop_reason[:200]}"

    # --- venue callbacks --------------------------------------------------------------------
    def _on_venue_event(self, event: OrderEvent) -> None:
        if type(event) is OrderFilled:
            self.hooks.reached("fill_received")
        self.kernel.on_venue_event(event)
        self._wake.set()

    def _after_send(self, order: Order) -> None:
        self.hooks.reached("after_send")

    def _on_book(self, bids: BookLevels, asks: BookLevels) -> None:
        if self.operator is not None:
            self.operator.probe.decoded()
        book = self.book
        assert book is not None
        self.events += 1
        levels = {(1, tick): lots for tick, lots in bids}
        levels.update({(-1, tick): lots for tick, lots in asks})
        previous = self._levels
        for side, tick in previous.keys() - levels.keys():
            book.set_level(side, tick, 0)
        for (side, tick), lots in levels.items():
            if previous.get((side, tick)) != lots:
                book.set_level(side, tick, lots)
        self._levels = levels
        if self.trading and self._top_changed(book):
            self.kernel.on_book(book.instrument.id)
            self._wake.set()

    def _on_trade(self, trade: TradeTick) -> None:
        self.events += 1
        if self.trading:
            self.kernel.on_trade(trade)

    def _top_changed(self, book: OrderBook) -> bool:
        top = (book.best_bid_tick, book.best_ask_tick, book.best_bid_lots, book.best_ask_lots)
        if self._trigger is BookTrigger.EVERY:
            changed = True
        elif self._trigger is BookTrigger.TOP_PRICE:
            changed = top[:2] != self._top[:2]
        else:
            changed = top != self._top
        self._top = top
        return changed

    # --- housekeeping -----------------------------------------------------------------------
    async def _timers(self) -> None:
        kernel = self.kernel
        while True:
            kernel.run_due(self.clock.now_ns())
            due = kernel.next_due_ns()
            wait_s = 0.05 if due >= INF else min(0.05, max(0.0, (due - self.clock.now_ns()) / 1e9))
            await asyncio.sleep(max(wait_s, 0.001))

    def _save_snapshots(self, only_new: set[str] | None = None) -> None:
        """Snapshot every running strategy (with `only_new`: those whose id is not in it)."""
        if self.kernel.store_failure is not None:
            return
        now = self.clock.now_ns()
        for strategy in self.kernel.strategies:
            if only_new is not None and strategy.id in only_new:
                continue
            if self.kernel.is_stopped(strategy):
                continue  # it no longer sees fills: its state must not claim the ones after now
            try:
                self.store.save_strategy_snapshot(
                    strategy.id, _STATE_VERSION, strategy.snapshot_state(), ts_ns=now
                )
            except StoreError as exc:
                self._sink_failed(exc)
                return

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            if task.get_name() == "trades":
                return
            message = f"task {task.get_name()!r} ended unexpectedly"
        else:
            message = f"task {task.get_name()!r} failed: {exc!r}"
            self.log.error("%s", message, exc_info=exc)
        if self._fatal is None:
            self._fatal = message
        self._wake.set()

    @property
    def instrument_id(self) -> InstrumentId | None:
        return None if self.venue is None else self.venue.instrument.id
