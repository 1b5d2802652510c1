"""The kernel: one clock, one ordered queue of scheduled work, strategies, orders and the portfolio.

Synchronous and deterministic. Mode runners (backtest, paper, live) feed it market data and venue
events; it calls strategies, passes their commands through risk and on to execution clients, and
tells every sink about every event. Ties in time are broken by insertion order.

Commit before acting: a kernel given a `Journal` (a live node's store) records every intent, order
event and fill there before memory changes or anything is sent (see `tradewright.engine.journal`). If
the journal fails, the kernel halts new orders (`halts`), applies nothing more, and still sends cancels.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from tradewright.core.clock import Clock
from tradewright.core.errors import StoreError, StrategyError, TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue
from tradewright.engine.context import KernelContext
from tradewright.engine.contingent import ContingentOrders
from tradewright.engine.journal import Journal, preview_fill
from tradewright.engine.order_manager import OrderManager
from tradewright.engine.ports import Denial, EventSink, ExecutionClient, OrderEventHook, RiskGate
from tradewright.engine.probe import PathProbe
from tradewright.engine.replace import CancelReplace
from tradewright.model.bar_view import BarView
from tradewright.model.book import OrderBook
from tradewright.model.commands import CancelOrder, Command, ModifyOrder, SubmitOrder
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderStatus
from tradewright.model.events import (
    CommandDenied,
    Event,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSubmitted,
    PositionChanged,
    TimerFired,
)
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import Portfolio
from tradewright.strategy.base import BookTrigger, Strategy

__all__ = ["Kernel"]

INF = 1 << 62
# Events the node creates itself when it sends a request: strategies learn of them from their own call.
_LOCAL_EVENTS = frozenset({OrderSubmitted, OrderPendingCancel, OrderPendingUpdate})
# Hooks a paused strategy does not hear (it stops reacting to the market; its orders' events still come).
_MARKET_HOOKS = frozenset({"on_book", "on_trade", "on_bar", "on_timer"})


class Kernel:
    """The event loop's core. See the module docstring."""

    def __init__(
        self,
        clock: Clock,
        *,
        portfolio: Portfolio | None = None,
        risk: RiskGate | None = None,
        sinks: Iterable[EventSink] = (),
        id_prefix: str = "O",
        fence_strategy_errors: bool = False,
        log: logging.Logger | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.clock = clock
        self.portfolio = portfolio or Portfolio()
        self.risk = risk
        self.sinks: list[EventSink] = list(sinks)
        self.log = log or logging.getLogger("tradewright.kernel")
        self.orders = OrderManager(id_prefix, self.log)
        self.fence_strategy_errors = fence_strategy_errors
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.orders.instruments = self.instruments  # fill sanity includes the grid, in every mode
        self.books: dict[InstrumentId, OrderBook] = {}
        self.strategies: list[Strategy] = []
        self._by_instrument: dict[InstrumentId, list[Strategy]] = {}
        self._clients: dict[Venue, ExecutionClient] = {}
        self._owner: dict[ClientOrderId, Strategy] = {}
        self._queue: list[tuple[int, int, Callable[[Any], None], Any]] = []
        self._seq = 0
        self._timers: dict[tuple[str, str], int] = {}  # (strategy id, name) -> generation
        self.strategy_errors = 0
        self.counts: dict[str, int] = {}
        self._stopped: set[str] = set()
        self.paused: set[str] = set()  # strategy ids an operator paused (see `pause_strategy`)
        self.probe: PathProbe | None = None  # order-path latency stamps (see engine/probe.py)
        self.journal = journal
        # Stops the engine itself imposes when it cannot vouch for its state (the journal failed, the
        # venue disagrees): instrument -> reason, None = the whole node. New orders are denied; cancels pass.
        self.halts: dict[InstrumentId | None, str] = {}
        self.store_failure: str | None = None
        self._grouped: list[tuple[OrderPendingCancel, Order]] | None = None  # cancels awaiting a group commit
        # The multi-leg executor (engine/executor.py), when one is attached: it hears every applied order event.
        self.executor: OrderEventHook | None = None
        # Modifies at venues without native amend become cancel-then-replace (engine/replace.py).
        self.replacements = CancelReplace(self, self.log)
        # Told (strategy, hook, error) when fencing stops a strategy that raised (live/fencing.py).
        self.on_strategy_failed: Callable[[Strategy, str, Exception], None] | None = None
        # Brackets and one-cancels-all groups (engine/contingent.py): hears every applied order event first.
        self.contingent = ContingentOrders(self)
        if risk is not None:
            risk.bind(self)  # last: the risk engine reads the kernel it guards

    # --- wiring -----------------------------------------------------------------------------
    def add_instrument(self, instrument: Instrument, book: OrderBook | None = None) -> OrderBook:
        self.instruments[instrument.id] = instrument
        book = book or OrderBook(instrument)
        self.books[instrument.id] = book
        return book

    def add_execution_client(self, client: ExecutionClient) -> None:
        self._clients[client.venue] = client

    def add_strategy(self, strategy: Strategy) -> None:
        for iid in strategy.instruments:
            if iid not in self.instruments:
                raise TradewrightError(f"strategy {strategy.id} trades {iid}, which the kernel does not know")
            self._by_instrument.setdefault(iid, []).append(strategy)
        strategy.bind(KernelContext(self, strategy))
        self.strategies.append(strategy)

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise TradewrightError(f"unknown instrument {instrument_id}") from None

    def strategies_for(self, instrument_id: InstrumentId) -> list[Strategy]:
        return self._by_instrument.get(instrument_id, [])

    def book_trigger(self, instrument_id: InstrumentId) -> BookTrigger:
        """The most demanding trigger among the strategies on this instrument."""
        order = [BookTrigger.TOP_PRICE, BookTrigger.TOP, BookTrigger.EVERY]
        triggers = [s.book_trigger for s in self.strategies_for(instrument_id) if s.wants("on_book")]
        return max(triggers, key=order.index) if triggers else BookTrigger.TOP_PRICE

    # --- scheduling -------------------------------------------------------------------------
    def schedule(self, ts_ns: int, callback: Callable[[Any], None], arg: Any = None) -> None:
        """Run `callback(arg)` at `ts_ns` (never before now)."""
        self._seq += 1
        heapq.heappush(self._queue, (max(ts_ns, self.clock.now_ns()), self._seq, callback, arg))

    def next_due_ns(self) -> int:
        return self._queue[0][0] if self._queue else INF

    def run_due(self, until_ns: int) -> int:
        """Run every scheduled callback due at or before `until_ns`, in time order; return how many ran."""
        ran = 0
        queue = self._queue
        advance = getattr(self.clock, "advance_to", None)
        while queue and queue[0][0] <= until_ns:
            ts, _, callback, arg = heapq.heappop(queue)
            if advance is not None:
                advance(ts)
            callback(arg)
            ran += 1
        return ran

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        for strategy in self.strategies:
            self._call(strategy, "on_start", None)

    def stop(self) -> None:
        """Call every strategy's on_stop; afterwards strategies receive no more callbacks."""
        for strategy in self.strategies:
            self._call(strategy, "on_stop", None)
            self._stopped.add(strategy.id)
        if self.risk is not None:
            self.risk.stop()

    def is_stopped(self, strategy: Strategy) -> bool:
        return strategy.id in self._stopped

    # --- market data in ---------------------------------------------------------------------
    def on_book(self, instrument_id: InstrumentId) -> None:
        book = self.books[instrument_id]
        probe = self.probe
        if probe is not None:
            probe.tick(instrument_id)
        for strategy in self._by_instrument.get(instrument_id, ()):
            self._call(strategy, "on_book", book)
        if probe is not None:
            probe.tick_done()

    def on_trade(self, trade: TradeTick) -> None:
        if self.portfolio.wants_trades:
            self.portfolio.record_trade(trade.instrument_id, trade.price)
        for strategy in self._by_instrument.get(trade.instrument_id, ()):
            if strategy.wants("on_trade"):
                self._call(strategy, "on_trade", trade)

    def on_bar(self, bar: BarView) -> None:
        # Called once per bar (hundreds of thousands of times a run): the hook is called directly,
        # not through `_call`'s generic lookup; the checks and the error handling are the same.
        stopped = self._stopped
        paused = self.paused
        for strategy in self._by_instrument.get(bar.instrument_id, ()):
            if strategy.id in stopped or (paused and strategy.id in paused):
                continue
            try:
                strategy.on_bar(bar)
            except TradewrightError as exc:
                self._strategy_raised_tradewright(strategy, "on_bar", exc)
            except Exception as exc:
                self._strategy_raised(strategy, "on_bar", exc)

    # --- commands from strategies (and later CLI/API) ---------------------------------------
    def submit(self, command: SubmitOrder, strategy: Strategy | None) -> Order:
        order = Order(command)
        self.orders.add(order)
        probe = self.probe
        if probe is not None:
            probe.submitting(command.client_order_id)
        if strategy is not None:
            self._owner[order.client_order_id] = strategy
        self._emit_command(command)
        now = self.clock.now_ns()
        if self.paused and strategy is not None and strategy.id in self.paused and not command.reduce_only:
            # Paused by an operator: it may still reduce (manage what it holds), never add.
            self._deny(command, "strategy_paused", f"strategy {strategy.id} is paused by an operator")
            return order
        if self.halts:
            halted = self.halts.get(None) or self.halts.get(command.instrument_id)
            if halted is not None:
                self._deny(command, "halted", halted)
                return order
        denial = self.risk.check(command, order) if self.risk is not None else None
        if denial is not None:
            self._deny(command, denial.reason, denial.message)
            return order
        if probe is not None:
            probe.checked(command.client_order_id)
        client = self._client_for(command.instrument_id)
        submitted = OrderSubmitted(
            client_order_id=command.client_order_id,
            instrument_id=command.instrument_id,
            strategy_id=command.strategy_id,
            side=command.side,
            order_type=command.order_type,
            quantity=command.quantity,
            price=command.price,
            trigger_price=command.trigger_price,
            time_in_force=command.time_in_force,
            expire_ns=command.expire_ns,
            post_only=command.post_only,
            reduce_only=command.reduce_only,
            parent_order_id=command.parent_order_id,
            oca_group=command.oca_group,
            ts_event=now,
            ts_init=now,
        )
        if self.journal is not None and not self._commit_intent(command, submitted):
            return order  # not durable: it never leaves the node
        if probe is not None:
            probe.committed(command.client_order_id)
        self._apply(submitted, committed=True)
        self._count("orders_submitted")
        client.submit(order)
        if probe is not None:
            probe.sent(command.client_order_id)
        return order

    def _deny(self, command: SubmitOrder, reason: str, message: str, *, record: bool = True) -> None:
        """Deny a new order before it leaves the node (recorded in the journal, if any, while it works)."""
        self._count("orders_denied")
        now = self.clock.now_ns()
        denied = OrderDenied(
            client_order_id=command.client_order_id,
            instrument_id=command.instrument_id,
            reason=reason,
            message=message,
            ts_event=now,
            ts_init=now,
        )
        if record and self.journal is not None and self.store_failure is None:
            try:
                self.journal.record_intent(command, denied)
            except StoreError as exc:
                self._journal_failed(exc, f"the denial of order {command.client_order_id}")
        # A denial sends nothing, so it is applied even when it could not be recorded.
        self._apply(denied, committed=True)

    def _commit_intent(self, command: SubmitOrder, submitted: OrderSubmitted) -> bool:
        """Make the intent durable before the order is sent; if it cannot be, deny it (nothing is sent)."""
        assert self.journal is not None
        cid = command.client_order_id
        if self.store_failure is None:
            try:
                if self.journal.record_intent(command, submitted):
                    return True
                message = (
                    f"client order id {cid} is already recorded: that order may have been sent before, "
                    "and no order is sent twice"
                )
                self.log.error("order %s not sent: %s", cid, message)
                self._deny(command, "duplicate_client_order_id", message, record=False)
                return False
            except StoreError as exc:
                self._journal_failed(exc, f"the intent of order {cid}")
        self._deny(command, "store_failed", self.store_failure or "the state store failed", record=False)
        return False

    def cancel(self, command: CancelOrder) -> bool:
        """Request a cancel; return False if the order is not open (nothing to do)."""
        order = self.orders.get(command.client_order_id)
        if order is not None and order.status is OrderStatus.INITIALIZED and order.parent_order_id is not None:
            return self.contingent.cancel_held(command, order)  # a bracket child the engine still holds
        if order is None or not order.is_open or order.status is OrderStatus.PENDING_CANCEL:
            return False
        self._emit_command(command)
        if self.risk is not None and (denial := self.risk.check(command, order)) is not None:
            self._command_denied(command, order, denial)
            return False
        now = self.clock.now_ns()
        pending = OrderPendingCancel(
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            ts_event=now,
            ts_init=now,
        )
        if self._grouped is not None:
            # Group commit (`cancel_all_orders`): staged in the open batch now; applied and sent once the
            # batch has committed.
            if self.journal is not None and self.store_failure is None:
                try:
                    self.journal.record_order_event(pending)
                except StoreError as exc:
                    self._journal_failed(exc, f"the cancel of order {order.client_order_id}")
            self._grouped.append((pending, order))
            return True
        if not self._apply(pending) and self.store_failure is None:
            return False
        # Sent even when the journal could not record it: a cancel only ever reduces what is at risk.
        self._count("cancels_sent")
        self._client_for(order.instrument_id).cancel(order)
        return True

    def modify(self, command: ModifyOrder) -> bool:
        order = self.orders.get(command.client_order_id)
        if (
            order is None
            or not order.is_open
            or order.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_UPDATE)
        ):
            return False
        self._emit_command(command)
        if self.risk is not None and (denial := self.risk.check(command, order)) is not None:
            self._command_denied(command, order, denial)
            return False
        capabilities = getattr(self._client_for(order.instrument_id), "capabilities", None)
        if capabilities is not None and not capabilities.modify:
            return self.replacements.start(command, order)
        now = self.clock.now_ns()
        pending = OrderPendingUpdate(
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            ts_event=now,
            ts_init=now,
        )
        if not self._apply(pending):
            return False  # not durable (or not applicable): a modify is a new commitment, so it is not sent
        self._count("modifies_sent")
        self._client_for(order.instrument_id).modify(order, command.price, command.quantity)
        return True

    def cancel_all_orders(self, actor: str, instrument_id: InstrumentId | None = None) -> int:
        """Request a cancel of every open order (kill switch, shutdown); return how many were sent.

        With a journal the cancel requests are recorded in one transaction (group commit) and sent once
        it has committed; if it fails they are sent all the same (a cancel only reduces what is at risk).
        """
        now = self.clock.now_ns()
        commands = [
            CancelOrder(
                client_order_id=o.client_order_id, instrument_id=o.instrument_id, ts_init=now, actor=actor
            )
            for o in self.orders.open_orders(instrument_id)
            if o.status is not OrderStatus.PENDING_CANCEL  # asked already
        ]
        if self.journal is None or len(commands) < 2 or self._grouped is not None:
            return sum(self.cancel(command) for command in commands)
        self._grouped = []
        try:
            with self.journal.batch():
                for command in commands:
                    self.cancel(command)
        except StoreError as exc:
            self._journal_failed(exc, f"a group of {len(commands)} cancels")
        finally:
            grouped, self._grouped = self._grouped, None
        for pending, order in grouped:
            if self.store_failure is None:
                self._apply(pending, committed=True)
            self._count("cancels_sent")
            self._client_for(order.instrument_id).cancel(order)
        return len(grouped)

    def flatten_all(self, reason: str, actor: str = "operator") -> None:
        """Kill switch: cancel every open order, close every position, then halt (the risk engine does it;
        the CLI, the API and paper/live shutdown call it here)."""
        if self.risk is None:
            raise TradewrightError("flatten_all needs a risk engine (Kernel(risk=RiskEngine(...)))")
        self.risk.flatten_all(reason, actor)

    # --- operator control of one strategy (engine/control.py builds on these) ------------------
    def strategy(self, strategy_id: str) -> Strategy:
        """The strategy with this id (TradewrightError if there is none)."""
        for strategy in self.strategies:
            if strategy.id == strategy_id:
                return strategy
        raise TradewrightError(f"unknown strategy {strategy_id!r}")

    def call_hook(self, strategy: Strategy, hook: str, arg: Any = None) -> None:
        """Call one of a strategy's hooks as the kernel does (skipped once stopped, errors fenced)."""
        self._call(strategy, hook, arg)

    def set_stopped(self, strategy: Strategy, stopped: bool) -> None:
        """Mark one strategy stopped (it hears nothing more) or running again."""
        if stopped:
            self._stopped.add(strategy.id)
        else:
            self._stopped.discard(strategy.id)

    def record_command(self, command: Command) -> None:
        """Tell the sinks (the store's audit) about a command that is not an order command."""
        self._emit_command(command)

    def _command_denied(self, command: CancelOrder | ModifyOrder, order: Order, denial: Denial) -> None:
        self.log.warning("%s of %s denied: %s", type(command).__name__, order.client_order_id, denial.message)
        self._count("commands_denied")
        now = self.clock.now_ns()
        self._emit(
            CommandDenied(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                command=type(command).__name__,
                reason=denial.reason,
                message=denial.message,
                ts_event=now,
                ts_init=now,
            )
        )

    # --- events from venues -----------------------------------------------------------------
    def on_venue_event(self, event: OrderEvent) -> None:
        """Apply an order event reported by a venue (or the simulated venue)."""
        self._apply(event)

    def _apply(self, event: OrderEvent, *, committed: bool = False) -> bool:
        """Apply an order event to memory (after the journal, if any, made it durable); return whether
        it changed an order. `committed`: the caller has already recorded it."""
        if self.journal is not None and not committed and not self._commit(event):
            return False
        order = self.orders.apply(event)
        if order is None:
            return False
        etype = type(event)
        if etype is OrderFilled:
            assert isinstance(event, OrderFilled)
            inst = self.instruments[event.instrument_id]
            pos = self.portfolio.apply_fill(
                inst, event.side, event.last_px, event.last_qty, event.fee, event.fee_currency
            )
            self._count("fills")
            self._emit(event)
            self._emit(
                PositionChanged(
                    instrument_id=inst.id,
                    quantity=pos.quantity,
                    avg_px=pos.avg_px,
                    realized_pnl=pos.realized_pnl,
                    fees=pos.fees,
                    ts_event=event.ts_event,
                    ts_init=self.clock.now_ns(),
                )
            )
        else:
            self._emit(event)
        if self.replacements.waiting:
            self.replacements.on_order_event(event)
        if self.contingent.active:
            self.contingent.on_order_event(event, order)  # before the owner hears: siblings already follow
        strategy = self._owner.get(event.client_order_id)
        if strategy is not None and etype not in _LOCAL_EVENTS:
            self._call(strategy, "on_order", event)
            if etype is OrderFilled:
                self._call(strategy, "on_fill", event)
        executor = self.executor
        if executor is not None:
            executor.on_order_event(event)
        return True

    # --- commit first -----------------------------------------------------------------------
    def _commit(self, event: OrderEvent) -> bool:
        """Record an event in the journal before memory changes; False means: do not apply it.

        Events the order manager would ignore are not recorded (`_apply` then counts them). After a
        journal failure nothing more is applied: memory never gets ahead of what is durable.
        """
        journal = self.journal
        assert journal is not None
        if self.orders.refusal(event) is not None:
            return True  # let the order manager ignore it (and count it) in `_apply`
        if self.store_failure is not None:
            self.log.warning(
                "%s of %s not applied: the state store failed earlier",
                type(event).__name__,
                event.client_order_id,
            )
            return False
        try:
            if type(event) is OrderFilled:
                assert isinstance(event, OrderFilled)
                position, balances = preview_fill(
                    self.portfolio, self.instruments[event.instrument_id], event
                )
                if not journal.record_fill(event, position, balances):
                    # The journal already had it (this memory was rebuilt without it): never book it twice.
                    self.log.warning(
                        "fill %s of %s already recorded; not applied again",
                        event.trade_id,
                        event.client_order_id,
                    )
                    return False
            else:
                journal.record_order_event(event)
        except StoreError as exc:
            self._journal_failed(exc, f"{type(event).__name__} of order {event.client_order_id}")
            return False
        return True

    def _journal_failed(self, exc: StoreError, what: str) -> None:
        """The journal cannot commit: stop new orders for good (a restart reconciles with the venue)."""
        if self.store_failure is not None:
            return
        self.store_failure = (
            f"the state store failed while recording {what}: {exc}. New orders are refused and no more "
            "venue events are applied; cancels still go out. Restart the node once the store is back: "
            "it rebuilds its state from the store and reconciles with the venue"
        )
        self.halts[None] = self.store_failure
        self.log.critical("%s", self.store_failure)

    # --- engine halts and restart -----------------------------------------------------------
    def halt(self, reason: str, instrument_id: InstrumentId | None = None) -> None:
        """Refuse new orders on one instrument (or, with None, the whole node) until `resume`.

        For stops the engine itself needs (a venue that disagrees with our books); cancels still pass.
        """
        self.halts[instrument_id] = reason
        where = "the node" if instrument_id is None else str(instrument_id)
        self.log.error("new orders halted on %s: %s", where, reason)

    def resume(self, instrument_id: InstrumentId | None = None) -> None:
        """Lift a `halt` (never the one a journal failure set: that needs a restart)."""
        if instrument_id is None and self.store_failure is not None:
            raise TradewrightError(f"cannot resume: {self.store_failure}")
        self.halts.pop(instrument_id, None)

    def restore_order(self, order: Order) -> None:
        """Adopt an order rebuilt from the store at start-up; its strategy (by id) gets its events."""
        self.orders.restore(order)
        for strategy in self.strategies:
            if strategy.id == order.strategy_id:
                self._owner[order.client_order_id] = strategy
                break

    # --- timers -----------------------------------------------------------------------------
    def set_timer(
        self, strategy: Strategy, name: str, interval_ns: int, start_ns: int | None, stop_ns: int | None
    ) -> None:
        if interval_ns <= 0:
            raise ValueError(f"timer {name!r}: interval_ns must be > 0, got {interval_ns}")
        key = (strategy.id, name)
        gen = self._timers.get(key, 0) + 1
        self._timers[key] = gen
        first = start_ns if start_ns is not None else self.clock.now_ns() + interval_ns
        self.schedule(first, self._fire_timer, (strategy, name, gen, interval_ns, stop_ns))

    def set_alarm(self, strategy: Strategy, name: str, at_ns: int) -> None:
        key = (strategy.id, name)
        gen = self._timers.get(key, 0) + 1
        self._timers[key] = gen
        self.schedule(at_ns, self._fire_timer, (strategy, name, gen, 0, None))

    def cancel_timer(self, strategy: Strategy, name: str) -> None:
        key = (strategy.id, name)
        if key in self._timers:
            self._timers[key] += 1

    def _fire_timer(self, arg: tuple[Strategy, str, int, int, int | None]) -> None:
        strategy, name, gen, interval_ns, stop_ns = arg
        if self._timers.get((strategy.id, name)) != gen or strategy.id in self._stopped:
            return  # cancelled or replaced, or the strategy has stopped (a repeating timer would never end)
        now = self.clock.now_ns()
        if interval_ns > 0 and (stop_ns is None or now + interval_ns <= stop_ns):
            self.schedule(now + interval_ns, self._fire_timer, arg)
        self._call(strategy, "on_timer", TimerFired(name=name, ts_event=now, ts_init=now))

    # --- internals --------------------------------------------------------------------------
    def _client_for(self, instrument_id: InstrumentId) -> ExecutionClient:
        client = self._clients.get(instrument_id.venue)
        if client is None:
            raise TradewrightError(f"no execution client for venue {instrument_id.venue}")
        return client

    def emit(self, event: Event) -> None:
        """Tell every sink (and risk) about an event the node itself decided (risk state, kill switch)."""
        self._emit(event)

    def _emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.on_event(event)
        # Risk sees an event after the sinks, so whatever it decides in response is recorded after its cause.
        if self.risk is not None:
            self.risk.on_event(event)

    def _emit_command(self, command: Command) -> None:
        for sink in self.sinks:
            sink.on_command(command)

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def _call(self, strategy: Strategy, hook: str, arg: Any) -> None:
        if strategy.id in self._stopped:
            return
        if self.paused and strategy.id in self.paused and hook in _MARKET_HOOKS:
            return
        method = getattr(strategy, hook)
        try:
            if arg is None:
                method()
            else:
                method(arg)
        except TradewrightError as exc:
            self._strategy_raised_tradewright(strategy, hook, exc)
        except Exception as exc:
            self._strategy_raised(strategy, hook, exc)

    def _strategy_raised_tradewright(self, strategy: Strategy, hook: str, exc: TradewrightError) -> None:
        """A hook raised one of our own errors (e.g. a price off the grid). A backtest stops with it as it
        is; a fenced node (live, paper) stops only that strategy. A store failure always propagates."""
        if not self.fence_strategy_errors or isinstance(exc, StoreError):
            raise exc
        self._strategy_raised(strategy, hook, exc)

    def _strategy_raised(self, strategy: Strategy, hook: str, exc: Exception) -> None:
        """A hook raised: re-raise as `StrategyError`, or (fencing) log it and stop the strategy."""
        self.strategy_errors += 1
        if not self.fence_strategy_errors:
            raise StrategyError(f"strategy {strategy.id} raised in {hook}: {exc!r}") from exc
        self.log.exception("strategy %s raised in %s; strategy stopped", strategy.id, hook, exc_info=exc)
        self._stopped.add(strategy.id)
        if self.on_strategy_failed is not None:
            self.on_strategy_failed(strategy, hook, exc)

    def mark(self, instrument_id: InstrumentId) -> Decimal | None:
        """The price that values a position (the portfolio's `mark_price`: mid or last trade)."""
        return self.portfolio.mark(instrument_id, self.books.get(instrument_id))

    @property
    def needs_trades(self) -> bool:
        """True when public trades must reach the kernel even if no strategy wants them (trade marks)."""
        return self.portfolio.wants_trades

    def marks(self) -> dict[InstrumentId, Decimal]:
        """Mid prices of every book that has both sides (for equity)."""
        out: dict[InstrumentId, Decimal] = {}
        for iid, book in self.books.items():
            mid = book.mid
            if mid is not None:
                out[iid] = mid
        return out
