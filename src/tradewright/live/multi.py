"""A live node trading several venues and strategies from one config (`tradewright.live.multi_config`).

One kernel on a wall clock, one state store as its journal (commit before acting), one risk engine —
so portfolio caps, the daily tripwire and the kill switch bind across every venue and strategy. Each
venue is connected through its package in `tradewright.venues.registry` (the node knows no venue by
name); each (strategy, market) is one strategy instance with its own parameters and budget share.

Start-up: connect every venue and find every configured market; add the instruments, execution
clients and strategies to the kernel; open the run in the store and restore orders, positions,
balances and strategy snapshots from it; start each venue's user stream and reconcile each venue;
then start the strategies and one book (and, if wanted, trades) task per market.

While running: a strategy that raises is fenced (`tradewright.live.fencing`): its orders are
cancelled, an alert goes out, its budget share goes to the others, and everything else goes on. A
venue that reports itself DOWN or DEGRADED stops new orders on it (cancels still go) and raises a
`venue_down` alert; UP releases the hold. Periodic reconciliation per venue, strategy snapshots, a
status callback.

Stopping: as the single-venue node — SIGTERM stops the strategies, cancels every order (or, with
`risk.close_positions_on_sigterm`, fires the kill switch), waits for the venues to confirm, saves
snapshots and exits 0; a store failure exits 3; a market-data or user-stream task that dies exits 1.

With `dry_run` the node connects (the same read-only calls: markets, keys checked by a private read),
builds every strategy, feeds them live books for `dry_run_s` seconds and records what they would
have sent; nothing is sent, nothing is written to the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError, StoreError, TradewrightError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.core.redact import install_log_redaction
from tradewright.engine.kernel import INF, Kernel
from tradewright.live.alerts import Alerter, AlertSink
from tradewright.live.fencing import StrategyFence
from tradewright.live.multi_config import MultiConfig, StrategyTask, VenueEntry
from tradewright.live.multi_state import AllVenues
from tradewright.live.node import EXIT_FAILED, EXIT_OK, EXIT_STORE_FAILED, order_id_prefix
from tradewright.live.operator import NodeService
from tradewright.live.recovery import Reconciler, RestoreSummary, VenueOrderActions, restore
from tradewright.live.resolution import settle_resolution
from tradewright.live.store_sink import StoreSink
from tradewright.live.supervision import NodeTasks
from tradewright.live.trade_journal import TradeJournalSink
from tradewright.live.workflows import attach_durable_executor, resume_workflows
from tradewright.model.book import OrderBook
from tradewright.model.data import TradeTick
from tradewright.model.events import Event, MarketResolved, OrderEvent, TradingState
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.risk.budget import BudgetedRiskEngine
from tradewright.risk.engine import RiskEngine
from tradewright.risk.state import venue_scope
from tradewright.store.ports import StateStore
from tradewright.store.records import RunRecord
from tradewright.strategy.base import BookTrigger, Strategy
from tradewright.strategy.loader import make_strategy
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.feed import FeedStats
from tradewright.venues._common.ports import LiveVenue, VenueHealth, VenueHooks, VenueStatus
from tradewright.venues.registry import venue_package

__all__ = ["DryRunExecution", "Intent", "MultiNode", "connect_venue"]

_STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Intent:
    """An order a dry run would have sent."""

    strategy_id: str
    instrument_id: str
    side: str
    quantity: Decimal
    price: Decimal | None
    order_type: str

    def text(self) -> str:
        at = "market" if self.price is None else f"@ {self.price}"
        return (
            f"{self.strategy_id}: {self.side} {self.quantity} {self.instrument_id} {at} ({self.order_type})"
        )


class DryRunExecution:
    """An execution client that sends nothing: it records each order it is handed (dry run)."""

    def __init__(self, venue: Venue) -> None:
        self._venue = venue
        self.intents: list[Intent] = []
        self.cancels = 0

    @property
    def venue(self) -> Venue:
        return self._venue

    def submit(self, order: Order) -> None:
        self.intents.append(
            Intent(
                str(order.strategy_id),
                str(order.instrument_id),
                order.side.value,
                order.quantity,
                order.price,
                order.order_type.value,
            )
        )

    def cancel(self, order: Order) -> None:
        self.cancels += 1

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        return None


async def connect_venue(entry: VenueEntry, credentials: Credentials, hooks: VenueHooks) -> LiveVenue:
    """Connect one configured venue through its package."""
    return await venue_package(entry.kind).connect(entry.config, credentials, hooks)


@dataclass
class _Market:
    """One traded market: where its book comes from and what the kernel last saw of it."""

    venue: str
    symbol: str
    instrument: Instrument
    book: OrderBook
    trigger: BookTrigger = BookTrigger.TOP_PRICE
    levels: dict[tuple[int, int], int] = field(default_factory=dict)
    top: tuple[int | None, int | None, int, int] = (None, None, -1, -1)
    updates: int = 0


class MultiNode(NodeTasks):
    """See the module docstring. `run` returns the process exit code."""

    def __init__(
        self,
        config: MultiConfig,
        venues: Sequence[VenueEntry],
        tasks: Sequence[StrategyTask],
        credentials: dict[str, Credentials],
        store: StateStore | None,
        *,
        alerter: Alerter | None = None,
        dry_run: bool = False,
        dry_run_s: float = 5.0,
        services: Sequence[NodeService] = (),
        on_status: Callable[[MultiNode], None] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        secrets = [s for c in credentials.values() for s in c.secrets()]
        install_log_redaction([*secrets, *_url_password(config.store.url)])
        if not dry_run and config.budget.stage == "paper":
            raise ConfigError(
                '`budget.stage` is "paper": this config may not trade live yet; try it with '
                '`tradewright live --dry-run` or on paper, then set stage = "small"'
            )
        if store is None and not dry_run:
            raise ConfigError("a live node needs its state store (only a dry run goes without)")
        self.config = config
        self.venue_entries = list(venues)
        self.tasks = list(tasks)
        self.credentials = credentials
        self.store = store
        self.dry_run = dry_run
        self.dry_run_s = dry_run_s
        self.log = log or logging.getLogger("tradewright.live")
        self.clock = LiveClock()
        self.alerter = alerter
        self.on_status = on_status
        started_ms = time.time_ns() // 1_000_000
        self.run_id = f"{config.node.name}-{started_ms}"
        self.id_prefix = order_id_prefix(started_ms)
        self._wake = asyncio.Event()
        budget = config.budget.stage_quote
        self.risk: RiskEngine = (
            RiskEngine(config.risk)
            if budget is None
            else BudgetedRiskEngine(
                config.risk, budget, {t.strategy_id: t.entry.budget_weight for t in self.tasks}
            )
        )
        self.sink: StoreSink | None = None
        self.journal: TradeJournalSink | None = None
        sinks: list[Any] = []
        if store is not None and not dry_run:
            self.sink = StoreSink(store, on_failure=self._sink_failed, log=self.log)
            self.journal = TradeJournalSink(store, self.run_id, on_failure=self._sink_failed)
            sinks += [self.sink, self.journal]
        if alerter is not None:
            sinks.append(AlertSink(alerter))
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio(mark_price=MarkPrice(config.node.mark_price)),
            risk=self.risk,
            sinks=sinks,
            journal=self.sink,
            id_prefix=self.id_prefix,
            fence_strategy_errors=True,
            log=logging.getLogger("tradewright.kernel"),
        )
        self.fence = StrategyFence(self.kernel, alerter, on_fenced=self._retire, wake=self._wake.set)
        self.venues: dict[str, LiveVenue] = {}  # by the venue's name in the config
        self.health: dict[str, VenueStatus] = {}
        self.markets: dict[InstrumentId, _Market] = {}
        self.strategies: dict[str, tuple[StrategyTask, Strategy]] = {}
        self.reconciler: Reconciler | None = None
        self.dry: dict[str, DryRunExecution] = {}
        self.restored = RestoreSummary()
        self.flatten_requests: list[str] = []
        self.trading = False
        self.events = 0
        self.stop_reason = ""
        self.exit_code = EXIT_OK
        self._flattening: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._fatal: str | None = None
        self._store_problem: str | None = None
        self._resync: set[str] = set()
        self.services = list(services)
        self.operator: Any = None
        self._services = contextlib.AsyncExitStack()

    # --- the run ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> int:
        """Start, trade until `stop` is set or something fails (a dry run: `dry_run_s`), then stop."""
        try:
            if self.alerter is not None:
                await self.alerter.start()
            await self._start()
            await self._loop(stop)
        finally:
            await self._shutdown()
        return self.exit_code

    async def _start(self) -> None:
        kernel = self.kernel
        for entry in self.venue_entries:
            await self._connect(entry)
        for task in self.tasks:
            market = self._market(task)
            strategy = make_strategy(task.run_config(self.config), market.instrument.id)
            kernel.add_strategy(strategy)
            self.strategies[task.strategy_id] = (task, strategy)
        for market in self.markets.values():
            market.trigger = kernel.book_trigger(market.instrument.id)
        if not self.dry_run:
            assert self.store is not None
            # Multi-leg plans (`ctx.execute`, the cross-venue arbitrage) run as durable workflows on the store.
            executor = attach_durable_executor(kernel, self.store, id_prefix=f"{self.id_prefix}W")
            await self._restore_and_reconcile()
            ports = {v.venue: v.execution for v in self.venues.values()}
            resumed = await resume_workflows(executor, ports)
            if resumed:
                self.log.info("took up %d open multi-leg workflows from the store", resumed)
        kernel.start()
        self.trading = True
        for iid, market in self.markets.items():
            venue = self.venues[market.venue]
            self._spawn(venue.market_data.run_book(iid, self._on_book), f"book {iid}")
            wants_trades = kernel.needs_trades or any(s.wants("on_trade") for s in kernel.strategies_for(iid))
            if wants_trades:
                self._spawn(venue.market_data.run_trades(iid, self._on_trade), f"trades {iid}")
        self._spawn(self._timers(), "timers")
        if self.services:
            from tradewright.live.multi_services import multi_operator
            from tradewright.live.services import start_services

            self.operator = multi_operator(self)
            self._services = await start_services(self.operator, self.services)
        self.log.info(
            "%s: %d strategies on %d markets of %d venues (%s)%s",
            "dry run" if self.dry_run else "live",
            len(self.strategies),
            len(self.markets),
            len(self.venues),
            ", ".join(f"{n}={v.venue}" for n, v in self.venues.items()),
            "" if self.dry_run else f"; client order ids {self.id_prefix}-*",
        )

    async def _connect(self, entry: VenueEntry) -> None:
        hooks = VenueHooks(
            clock=self.clock,
            emit=self._on_venue_event,
            on_status=functools.partial(self._on_status, entry.name),
            log=logging.getLogger(f"tradewright.venues.{entry.kind}"),
        )
        venue = await connect_venue(entry, self.credentials[entry.name], hooks)
        self.venues[entry.name] = venue
        if venue.venue in {v.venue for n, v in self.venues.items() if n != entry.name}:
            raise ConfigError(f"`venues.{entry.name}`: venue {venue.venue} is connected twice")
        instruments = list(venue.instruments.values())
        by_symbol: dict[str, Instrument] = (
            dict(zip(entry.symbols, instruments, strict=False)) if entry.symbols else {}
        )
        for inst in instruments:
            by_symbol.setdefault(inst.id.symbol, inst)
            by_symbol.setdefault(str(inst.id), inst)
        for task in self.tasks:
            if task.venue != entry.name:
                continue
            found = by_symbol.get(task.symbol)
            if found is None:
                raise ConfigError(
                    f"strategy {task.strategy_id}: {task.market} is not a market {venue.venue} loaded"
                )
            if found.id not in self.markets:
                book = self.kernel.add_instrument(found)
                self.markets[found.id] = _Market(entry.name, task.symbol, found, book)
        if self.dry_run:
            self.dry[entry.name] = DryRunExecution(venue.venue)
            self.kernel.add_execution_client(self.dry[entry.name])
        else:
            self.kernel.add_execution_client(venue.execution)

    def _market(self, task: StrategyTask) -> _Market:
        for market in self.markets.values():
            if market.venue == task.venue and market.symbol == task.symbol:
                return market
        raise ConfigError(f"strategy {task.strategy_id}: {task.market} was not loaded")

    async def _restore_and_reconcile(self) -> None:
        store, kernel = self.store, self.kernel
        assert store is not None
        now = self.clock.now_ns()
        for market in self.markets.values():
            store.save_instrument(market.instrument, ts_ns=now)
        store.start_run(
            RunRecord(run_id=self.run_id, mode="live", config_hash=self.config.config_hash, started_ns=now)
        )
        state = store.load_state()
        by_venue = {v.venue: v for v in self.venues.values()}
        self.restored = restore(
            kernel, state, lambda o: by_venue[o.instrument_id.venue].execution.track(o), self.log
        )
        if any(s.id not in state.snapshots for s in kernel.strategies):
            self._save_snapshots(only_new=set(state.snapshots))
        if self.journal is not None:  # fills of restored orders are journalled for their strategies too
            self.journal.owners.update({o.client_order_id: o.strategy_id for o in kernel.orders.all_orders})
        for name, venue in self.venues.items():
            execution = venue.execution
            self._spawn(
                execution.run_user_stream(on_reconnect=functools.partial(self._request_resync, name)),
                f"user stream {name}",
            )
        for name, venue in self.venues.items():
            if not await venue.execution.wait_user_stream(timeout_s=10.0):
                self.log.warning("%s: the user stream is not connected yet; reconciling anyway", name)
        everywhere = AllVenues({v.venue: v.execution for v in self.venues.values()})
        self.reconciler = Reconciler(
            kernel,
            everywhere,
            store,
            self.config.reconcile,
            VenueOrderActions(everywhere.resend_cancel, everywhere.cancel_unknown),
            min_order_age_s=self.config.node.min_order_age_s,
            log=logging.getLogger("tradewright.live.reconcile"),
        )
        report = await self.reconciler.at_start()
        self.log.info(
            "reconciled with %d venues at start: %d orders checked, %d events applied, %d corrections, %d halts",
            len(self.venues),
            report.orders_checked,
            len(report.events),
            len(report.actions),
            len(report.halted),
        )

    async def _loop(self, stop: asyncio.Event) -> None:
        config = self.config
        now = time.monotonic()
        next_reconcile = now + config.reconcile.interval_s
        next_snapshot = now + config.node.snapshot_interval_s
        next_status = now
        dry_until = now + self.dry_run_s if self.dry_run else None
        reconciling: asyncio.Task[None] | None = None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.1)
            self._wake.clear()
            self.fence.settle()
            self._sync_stopped()
            problem = self.kernel.store_failure or self._store_problem
            if problem is not None:
                self.stop_reason, self.exit_code = problem, EXIT_STORE_FAILED
                return
            if self._fatal is not None:
                self.stop_reason, self.exit_code = self._fatal, EXIT_FAILED
                return
            now = time.monotonic()
            if dry_until is not None and now >= dry_until:
                self.stop_reason = f"dry run of {self.dry_run_s:g} s done"
                return
            due = config.reconcile.interval_s > 0 and now >= next_reconcile
            if self.reconciler is not None and (due or self._resync) and reconciling is None:
                if self._resync:
                    self.log.info("reconciling now: %s reconnected", ", ".join(sorted(self._resync)))
                self._resync.clear()
                next_reconcile = now + config.reconcile.interval_s
                reconciling = asyncio.create_task(self._reconcile(), name="reconcile")
            if reconciling is not None and reconciling.done():
                reconciling = None
            if now >= next_status:
                next_status = now + 0.5
                if self.on_status is not None:
                    self.on_status(self)
            if self._flatten_step():
                break
            if now >= next_snapshot:
                next_snapshot = now + config.node.snapshot_interval_s
                self._save_snapshots()
                if self.sink is not None:
                    self.sink.flush()
        else:
            self.stop_reason = "stop requested (signal)"
        if reconciling is not None:
            reconciling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconciling

    def _sync_stopped(self) -> None:
        """A strategy an operator stopped gives up its budget share as a fenced one does."""
        if isinstance(self.risk, BudgetedRiskEngine):
            for sid, (_, strategy) in self.strategies.items():
                if self.kernel.is_stopped(strategy) and sid not in self.risk.retired and self.trading:
                    self.risk.retire(sid)

    def _retire(self, strategy_id: str) -> None:
        if isinstance(self.risk, BudgetedRiskEngine):
            self.risk.retire(strategy_id)

    def _flatten_step(self) -> bool:
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
        if self.kernel.orders.open_orders():
            return False
        return all(self.kernel.portfolio.position(m.instrument).quantity == 0 for m in self.markets.values())

    async def _reconcile(self) -> None:
        assert self.reconciler is not None
        try:
            await self.reconciler.run_once()
        except TradewrightError as exc:
            self.log.error("periodic reconciliation failed: %s", exc)
        except Exception as exc:  # a task boundary: a venue could not be read; try again next time
            self.log.warning("periodic reconciliation could not read a venue: %r", exc)

    def _request_resync(self, name: str) -> None:
        self._resync.add(name)
        self._wake.set()

    async def _shutdown(self) -> None:
        kernel = self.kernel
        self.trading = False
        reason = self.stop_reason or "start-up failed"
        if self.strategies:
            if self.exit_code != EXIT_OK:
                self.log.critical("stopping: %s", reason)
            self._save_snapshots()
            kernel.stop()
            if not self.dry_run:
                close = self.config.risk.close_positions_on_sigterm and reason == "stop requested (signal)"
                if close and kernel.store_failure is None:
                    kernel.flatten_all(
                        f"shutdown: {reason} (risk.close_positions_on_sigterm)", "live:shutdown"
                    )
                    deadline = time.monotonic() + self.config.node.shutdown_timeout_s
                    while not self._flat() and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                sent = kernel.cancel_all_orders(actor=f"live:shutdown ({reason[:80]})")
                self.log.info("shutdown: %d cancels sent", sent)
                await self._await_cancels()
                if kernel.store_failure is None and self.sink is not None and self.store is not None:
                    self.sink.flush()
                    with contextlib.suppress(StoreError):
                        self.store.end_run(
                            self.run_id, ended_ns=self.clock.now_ns(), exit_status=self._status()
                        )
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for venue in self.venues.values():
            with contextlib.suppress(Exception):
                await venue.close()
        await self._services.aclose()
        if self.alerter is not None:
            await self.alerter.stop()

    async def _await_cancels(self) -> None:
        timeout_s = self.config.node.shutdown_timeout_s
        deadline = time.monotonic() + timeout_s
        await asyncio.gather(
            *(v.execution.drain(timeout_s) for v in self.venues.values()), return_exceptions=True
        )
        if self.kernel.store_failure is not None:
            return
        while self.kernel.orders.open_orders() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = self.kernel.orders.open_orders()
        if left:
            self.log.warning(
                "shutdown: %d orders not confirmed cancelled in %.0f s: %s (the next start reconciles them)",
                len(left),
                timeout_s,
                ", ".join(o.client_order_id for o in left[:10]),
            )

    def _status(self) -> str:
        if self.exit_code == EXIT_OK:
            return "ok" if self._flattening is None else f"ok: {self.stop_reason[:200]}"
        return f"error: {self.stop_reason[:200]}"

    # --- venue callbacks --------------------------------------------------------------------
    def _on_venue_event(self, event: Event) -> None:
        if isinstance(event, OrderEvent):
            self.kernel.on_venue_event(event)
        elif isinstance(event, MarketResolved):  # a prediction market paid out (live/resolution.py)
            settle_resolution(
                self.kernel, None if self.dry_run else self.store, event, on_failure=self._sink_failed
            )
        else:
            self.kernel.emit(event)
        self._wake.set()

    def _on_status(self, name: str, status: VenueStatus) -> None:
        before = self.health.get(name)
        self.health[name] = status
        if before is not None and before.health is status.health:
            return
        scope = venue_scope(status.venue)
        if status.health is VenueHealth.UP:
            if before is not None:
                self.risk.release(scope, "venue_health", f"{name} is up again: {status.reason}")
            return
        state = TradingState.HALTED if status.health is VenueHealth.DOWN else TradingState.REDUCING
        self.risk.hold(scope, "venue_health", state, f"{name} is {status.health}: {status.reason}")
        if self.alerter is not None:
            self.alerter.fire(
                "venue_down", f"{name} ({status.venue}) is {status.health}: {status.reason}", venue=name
            )
        self._wake.set()

    def _on_book(self, iid: InstrumentId, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        market = self.markets.get(iid)
        if market is None:
            return
        if self.operator is not None:
            self.operator.probe.decoded()
        self.events += 1
        market.updates += 1
        book = market.book
        levels = {(1, tick): lots for tick, lots in bids}
        levels.update({(-1, tick): lots for tick, lots in asks})
        previous = market.levels
        for side, tick in previous.keys() - levels.keys():
            book.set_level(side, tick, 0)
        for (side, tick), lots in levels.items():
            if previous.get((side, tick)) != lots:
                book.set_level(side, tick, lots)
        market.levels = levels
        if self.trading and _top_changed(market):
            self.kernel.on_book(iid)
            self._wake.set()

    def _on_trade(self, trade: TradeTick) -> None:
        self.events += 1
        if self.trading:
            self.kernel.on_trade(trade)

    # --- reads for status, the operator API and the dry-run report -------------------------
    def feed_stats(self) -> dict[str, FeedStats]:
        """Each venue's market-data counters (updates, resyncs, gaps, checksum failures per market)."""
        return {name: venue.market_data.stats for name, venue in self.venues.items()}

    def intents(self) -> list[Intent]:
        return [i for dry in self.dry.values() for i in dry.intents]

    def status_text(self) -> str:
        kernel = self.kernel
        parts = []
        for name, stats in self.feed_stats().items():
            health = self.health.get(name)
            updates = sum(s.updates for s in stats.instruments.values())
            resyncs = sum(s.resyncs for s in stats.instruments.values())
            parts.append(
                f"{name} {'UP' if health is None else health.health} {updates} updates {resyncs} resyncs"
            )
        running = sum(1 for _, s in self.strategies.values() if not kernel.is_stopped(s))
        return (
            f"{' · '.join(parts)} · {running}/{len(self.strategies)} strategies running · "
            f"{len(kernel.orders.open_orders())} open orders · {kernel.counts.get('fills', 0)} fills"
        )

    # --- housekeeping -----------------------------------------------------------------------
    async def _timers(self) -> None:
        kernel = self.kernel
        while True:
            kernel.run_due(self.clock.now_ns())
            due = kernel.next_due_ns()
            wait_s = 0.05 if due >= INF else min(0.05, max(0.0, (due - self.clock.now_ns()) / 1e9))
            await asyncio.sleep(max(wait_s, 0.001))

    def _save_snapshots(self, only_new: set[str] | None = None) -> None:
        if self.dry_run or self.store is None or self.kernel.store_failure is not None:
            return
        now = self.clock.now_ns()
        for strategy in self.kernel.strategies:
            if only_new is not None and strategy.id in only_new:
                continue
            if self.kernel.is_stopped(strategy):
                continue
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
            if task.get_name().startswith("trades"):
                return
            message = f"task {task.get_name()!r} ended unexpectedly"
        else:
            message = f"task {task.get_name()!r} failed: {exc!r}"
            self.log.error("%s", message, exc_info=exc)
        if self._fatal is None:
            self._fatal = message
        self._wake.set()


def _top_changed(market: _Market) -> bool:
    book = market.book
    top = (book.best_bid_tick, book.best_ask_tick, book.best_bid_lots, book.best_ask_lots)
    if market.trigger is BookTrigger.EVERY:
        changed = True
    elif market.trigger is BookTrigger.TOP_PRICE:
        changed = top[:2] != market.top[:2]
    else:
        changed = top != market.top
    market.top = top
    return changed


def _url_password(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [] if password is None else [password]
