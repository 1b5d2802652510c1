"""The multi-leg executor: carries out a strategy's `Plan` as a durable workflow, the same way in a
backtest, on paper and live.

A strategy calls `ctx.execute(plan)` and gets a workflow id; it hears what happens through its optional
`on_workflow(event, **kw)` hook. The executor is synchronous and deterministic like the kernel it sits
on: it decides with the pure rules of `tradewright.engine.workflow_rules`, and for every decision that
commits it to something it follows the order journal's rule — record first, then act:

    decide ─► SagaStore.append(step) ─► (durable) ─► [crash hook: committed] ─► act (Kernel.submit) ─► [crash hook: acted]

so a crash anywhere leaves a record that says exactly where the workflow stood. A leg order's client
order id is `<workflow id>-<leg>-<attempt>` (a compensation's `<workflow id>-C<n>`), derived from what is
recorded, so no id is ever sent twice: after a restart (`recover`, then `resolve` with the venue's
answers) an order the node holds is followed as it is, an order it does not hold is looked up at the
venue first (`tradewright.engine.leg_fates`), and only an attempt the venue never received is followed
by a new attempt, with a new id.

Order events reach the executor through the kernel's hook (`Kernel.executor`); it records a leg's end
once its order has ended (its fills are already in the order journal and the portfolio by then).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tradewright.config.run import InstrumentLimits
from tradewright.core.errors import StoreError, TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine.leg_fates import LegQuery, VenueAnswer, average_price, rebuilt_order
from tradewright.engine.ports import Denial
from tradewright.engine.reconcile import NOT_FOUND, ApplyEvent, HaltInstrument, resolve_order
from tradewright.engine.saga import MemorySagaStore, SagaStore
from tradewright.engine.workflow_rules import (
    CancelInFlight,
    Compensate,
    Finish,
    Intent,
    SendLeg,
    WakeAt,
    decide,
    leg_price,
)
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import OrderStatus, OrderType, TimeInForce
from tradewright.model.events import (
    CompensationEnded,
    CompensationSent,
    LegEnded,
    LegSent,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderRejected,
    TradingState,
    WorkflowEvent,
    WorkflowFinished,
    WorkflowRefused,
    WorkflowStarted,
)
from tradewright.model.instrument import Instrument
from tradewright.model.multileg import LegSpec, LegStatus, Plan
from tradewright.model.orders import Order
from tradewright.model.workflow import WorkflowState, WorkflowStep
from tradewright.risk.exposure import reference_price

if TYPE_CHECKING:
    from tradewright.engine.kernel import Kernel
    from tradewright.strategy.base import Strategy

__all__ = [
    "CRASH_POINTS",
    "STEP_ACTED",
    "STEP_COMMITTED",
    "ExecutorFigures",
    "ExecutorRisk",
    "MultiLegExecutor",
    "executor_for",
]

# Crash hooks (the live node maps them onto TRADEWRIGHT_CRASH_AT, see docs/persistence.md).
STEP_COMMITTED = "workflow_step_committed"  # a step is durable; what it decided is not done yet
STEP_ACTED = "workflow_step_acted"  # the order of a recorded step went to the kernel; nothing newer recorded
CRASH_POINTS = (STEP_COMMITTED, STEP_ACTED)
_ZERO = Decimal(0)


@runtime_checkable
class ExecutorRisk(Protocol):
    """What the executor asks of the risk engine (`tradewright.risk.RiskEngine` implements it)."""

    def state_for(self, instrument_id: InstrumentId) -> TradingState: ...

    def precheck(self, command: SubmitOrder) -> Denial | None: ...

    def admit_compensation(self, client_order_id: ClientOrderId) -> None: ...

    def limits_for(self, instrument_id: InstrumentId) -> InstrumentLimits: ...


@dataclass(frozen=True, slots=True)
class ExecutorFigures:
    """Figures for metrics (the metrics exporter reads `MultiLegExecutor.figures()`).

    `leg_delta_base`: per base asset, the signed size the open workflows hold (0 once an arbitrage's legs
    balance; not 0 while a leg is missing or being compensated). `open_leg_exposure_quote`: the value of
    the unfilled size of every leg and compensation order in flight. `unhedged_exposure_quote`: per
    workflow, |the net value of what it holds| at the mark, summed. Quote currencies are added as they
    are, as the risk engine's caps do.
    """

    open_workflows: int
    leg_delta_base: dict[str, Decimal]
    open_leg_exposure_quote: Decimal
    unhedged_exposure_quote: Decimal
    finished: dict[str, int]
    compensations_sent: int
    refused: int


class _Halted(Exception):
    """The saga store failed: stop acting (raised inside the executor only)."""


class _KernelMarket:
    """The rules' `MarketView` on the kernel's books and the risk engine's price band."""

    def __init__(self, kernel: Kernel, risk: ExecutorRisk | None) -> None:
        self._kernel = kernel
        self._risk = risk

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        return self._kernel.instrument(instrument_id)

    def reference_price(self, instrument_id: InstrumentId) -> Decimal | None:
        return reference_price(self._kernel, instrument_id)

    def price_band_bps(self, instrument_id: InstrumentId) -> Decimal | None:
        return None if self._risk is None else self._risk.limits_for(instrument_id).price_band_bps


class MultiLegExecutor:
    """Run plans as durable workflows on one kernel (module docstring). Attaches itself to the kernel."""

    def __init__(
        self,
        kernel: Kernel,
        store: SagaStore,
        *,
        risk: ExecutorRisk | None = None,
        id_prefix: str = "W",
        crash: Callable[[str], None] | None = None,
        log: logging.Logger | None = None,
        keep_finished: int = 200,
    ) -> None:
        if kernel.executor is not None:
            raise TradewrightError("this kernel already has a multi-leg executor")
        self._kernel = kernel
        self.store = store
        self.risk = risk
        self._prefix = id_prefix
        self._crash = crash
        self.log = log or logging.getLogger("tradewright.executor")
        self._market = _KernelMarket(kernel, risk)
        self._open: dict[str, WorkflowState] = {}
        self._finished: deque[WorkflowState] = deque(maxlen=keep_finished)
        self._owners: dict[str, Strategy | None] = {}
        self._cids: dict[ClientOrderId, str] = {}  # in-flight client order id -> workflow id
        self._awaiting: dict[ClientOrderId, LegQuery] = {}  # fate unknown until `resolve`
        self._dirty: deque[str] = deque()
        self._busy = False
        self._wakes: set[tuple[str, int]] = set()
        self._seq = 0
        self.failure: str | None = None
        self.counts: dict[str, int] = {}
        kernel.executor = self

    # --- starting a plan --------------------------------------------------------------------
    def start(self, plan: Plan, strategy: Strategy) -> str:
        """Begin a workflow for `plan` on behalf of `strategy`; return its id.

        Malformed input (an unknown instrument, a size or price off the grid) raises at once; a plan that
        may not trade now (trading state, a halt, a risk limit on any leg) is refused as a whole with a
        `WorkflowRefused` event, and nothing is recorded or sent.
        """
        self._validate(plan)
        now = self._kernel.clock.now_ns()
        workflow_id = self._new_id()
        refusal = self._refusal(plan, strategy.id, workflow_id)
        if refusal is not None:
            reason, message = refusal
            self.log.warning("plan of %s refused (%s): %s", strategy.id, reason, message)
            self._count("refused")
            refused = WorkflowRefused(
                workflow_id=workflow_id,
                strategy_id=strategy.id,
                reason=reason,
                message=message,
                ts_event=now,
                ts_init=now,
            )
            self._publish(refused, strategy)
            return workflow_id
        started = WorkflowStarted(
            workflow_id=workflow_id, strategy_id=strategy.id, plan=plan, ts_event=now, ts_init=now
        )
        try:
            state = self.store.begin(started)
            while state is None:  # the id is taken (a restart that kept the prefix): take the next
                started = WorkflowStarted(
                    workflow_id=self._new_id(), strategy_id=strategy.id, plan=plan, ts_event=now, ts_init=now
                )
                state = self.store.begin(started)
        except StoreError as exc:
            self._store_failed(exc, "the start of a workflow")
            raise TradewrightError(f"workflow not started: {self.failure}") from exc
        self._open[state.workflow_id] = state
        self._owners[state.workflow_id] = strategy
        self._publish(started, strategy)
        self._reached(STEP_COMMITTED)
        self._touch(state.workflow_id)
        return state.workflow_id

    def _validate(self, plan: Plan) -> None:
        kernel = self._kernel
        for spec in plan.legs:
            inst = kernel.instrument(spec.instrument_id)  # TradewrightError naming an unknown instrument
            inst.validate_order(spec.limit_price, spec.quantity)  # GridError naming the price or size
            kernel._client_for(spec.instrument_id)  # no venue client: say so now, not half-way through
            if spec.hedge_instrument_id is not None:
                kernel.instrument(spec.hedge_instrument_id)
                kernel._client_for(spec.hedge_instrument_id)

    def _refusal(self, plan: Plan, strategy_id: StrategyId, workflow_id: str) -> tuple[str, str] | None:
        kernel = self._kernel
        if self.failure is not None:
            return "store_failed", self.failure
        for spec in plan.legs:
            iid = spec.instrument_id
            halted = kernel.halts.get(None) or kernel.halts.get(iid)
            if halted is not None:
                return "halted", f"{iid}: {halted}"
            if self.risk is not None and (state := self.risk.state_for(iid)) is not TradingState.ACTIVE:
                return "trading_state", (
                    f"{iid} is {state}: no new multi-leg plans while it is not ACTIVE "
                    "(compensations of running workflows still go through)"
                )
        if self.risk is not None:
            now = kernel.clock.now_ns()
            for i, spec in enumerate(plan.legs):
                slippage = (
                    plan.policy.max_slippage_bps if spec.max_slippage_bps is None else spec.max_slippage_bps
                )
                price = leg_price(
                    kernel.instrument(spec.instrument_id), spec.side, spec.limit_price, slippage
                )
                probe = self._command(
                    strategy_id, workflow_id, ClientOrderId(f"{workflow_id}-{i}-0"), spec, price, now
                )
                denial = self.risk.precheck(probe)
                if denial is not None:
                    return f"risk:{denial.reason}", f"leg {i}: {denial.message}"
        return None

    # --- following events -------------------------------------------------------------------
    def on_order_event(self, event: OrderEvent) -> None:
        """Kernel hook: an order event was applied. A workflow whose order ended decides again."""
        workflow_id = self._cids.get(event.client_order_id)
        if workflow_id is None:
            return
        order = self._kernel.orders.get(event.client_order_id)
        if order is not None and order.is_closed:
            self._touch(workflow_id)

    def _on_wake(self, arg: tuple[str, int]) -> None:
        self._wakes.discard(arg)
        self._touch(arg[0])

    def _touch(self, workflow_id: str) -> None:
        if workflow_id not in self._dirty:
            self._dirty.append(workflow_id)
        self._drain()

    def _drain(self) -> None:
        # Re-entrant calls (a leg denied inside Kernel.submit comes back through the hook) only queue.
        if self._busy:
            return
        self._busy = True
        try:
            while self._dirty:
                self._advance(self._dirty.popleft())
        except _Halted:
            self._dirty.clear()
        finally:
            self._busy = False

    def _advance(self, workflow_id: str) -> None:
        while self.failure is None:
            state = self._open.get(workflow_id)
            if state is None or any(cid in self._awaiting for cid in state.in_flight()):
                return
            if self._record_end(state):
                continue
            acted = False
            for intent in decide(state, self._kernel.clock.now_ns(), self._market):
                if isinstance(intent, CancelInFlight):
                    self._cancel(intent)
                elif isinstance(intent, WakeAt):
                    self._wake(workflow_id, intent.ts_ns)
                else:
                    self._perform(state, intent)
                    acted = True
                    break
            if not acted:
                return

    def _record_end(self, state: WorkflowState) -> bool:
        """Record the end of one order of `state` that has ended in the kernel; False if none has."""
        for cid in state.in_flight():
            order = self._kernel.orders.get(cid)
            if order is not None and order.is_closed:
                lost = _never_arrived(order)
                self._end(state, cid, order.filled_qty, order.avg_px, lost=lost, reason=_why(order))
                return True
        return False

    # --- acting ------------------------------------------------------------------------------
    def _perform(self, state: WorkflowState, intent: Intent) -> None:
        kernel = self._kernel
        now = kernel.clock.now_ns()
        wid, sid = state.workflow_id, state.strategy_id
        if isinstance(intent, SendLeg):
            spec = state.plan.legs[intent.leg]
            cid = ClientOrderId(f"{wid}-{intent.leg}-{intent.attempt}")
            self._commit(
                LegSent(
                    workflow_id=wid,
                    strategy_id=sid,
                    leg=intent.leg,
                    attempt=intent.attempt,
                    client_order_id=cid,
                    instrument_id=spec.instrument_id,
                    side=spec.side,
                    quantity=spec.quantity,
                    price=intent.price,
                    time_in_force=spec.time_in_force,
                    deadline_ns=intent.deadline_ns,
                    ts_event=now,
                    ts_init=now,
                )
            )
            self._send(wid, self._command(sid, wid, cid, spec, intent.price, now))
            self._wake(wid, intent.deadline_ns)
        elif isinstance(intent, Compensate):
            index = len(state.compensations)
            cid = ClientOrderId(f"{wid}-C{index}")
            self.log.warning("workflow %s: compensating (%s)", wid, intent.reason)
            self._commit(
                CompensationSent(
                    workflow_id=wid,
                    strategy_id=sid,
                    index=index,
                    leg=intent.leg,
                    kind=intent.kind,
                    client_order_id=cid,
                    instrument_id=intent.instrument_id,
                    side=intent.side,
                    quantity=intent.quantity,
                    price=intent.price,
                    deadline_ns=intent.deadline_ns,
                    reason=intent.reason,
                    ts_event=now,
                    ts_init=now,
                )
            )
            self._count("compensations_sent")
            if self.risk is not None:
                self.risk.admit_compensation(cid)
            command = SubmitOrder(
                client_order_id=cid,
                strategy_id=sid,
                instrument_id=intent.instrument_id,
                side=intent.side,
                order_type=OrderType.LIMIT,
                quantity=intent.quantity,
                price=intent.price,
                time_in_force=TimeInForce.IOC,
                ts_init=now,
                actor=f"executor:workflow={wid};compensation={index}",
            )
            self._send(wid, command)
            self._wake(wid, intent.deadline_ns)
        else:
            assert isinstance(intent, Finish)
            self._commit(
                WorkflowFinished(
                    workflow_id=wid,
                    strategy_id=sid,
                    status=intent.status,
                    reason=intent.reason,
                    ts_event=now,
                    ts_init=now,
                )
            )
            log = self.log.info if intent.status.name in ("COMPLETED", "ABORTED") else self.log.warning
            log("workflow %s %s: %s", wid, intent.status, intent.reason)

    @staticmethod
    def _command(
        strategy_id: StrategyId, workflow_id: str, cid: ClientOrderId, spec: LegSpec, price: Decimal, now: int
    ) -> SubmitOrder:
        return SubmitOrder(
            client_order_id=cid,
            strategy_id=strategy_id,
            instrument_id=spec.instrument_id,
            side=spec.side,
            order_type=OrderType.LIMIT,
            quantity=spec.quantity,
            price=price,
            time_in_force=spec.time_in_force,
            ts_init=now,
            actor=f"{strategy_id}:workflow={workflow_id}",
        )

    def _send(self, workflow_id: str, command: SubmitOrder) -> None:
        self._cids[command.client_order_id] = workflow_id
        # The kernel records the intent in the order journal (a live node's store), passes risk, sends.
        self._kernel.submit(command, self._owners.get(workflow_id))
        self._reached(STEP_ACTED)

    def _cancel(self, intent: CancelInFlight) -> None:
        order = self._kernel.orders.get(intent.client_order_id)
        if order is None or not order.is_open or order.status is OrderStatus.PENDING_CANCEL:
            return
        self.log.info("cancelling %s: %s", intent.client_order_id, intent.why)
        self._kernel.cancel(
            CancelOrder(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_init=self._kernel.clock.now_ns(),
                actor="executor",
            )
        )

    def _wake(self, workflow_id: str, ts_ns: int) -> None:
        key = (workflow_id, ts_ns)
        if key not in self._wakes:
            self._wakes.add(key)
            self._kernel.schedule(ts_ns, self._on_wake, key)

    def _end(
        self,
        state: WorkflowState,
        cid: ClientOrderId,
        filled: Decimal,
        avg_px: Decimal | None,
        *,
        lost: bool,
        reason: str,
    ) -> None:
        now = self._kernel.clock.now_ns()
        wid, sid = state.workflow_id, state.strategy_id
        leg = state.leg_of(cid)
        step: WorkflowStep
        if leg is not None and leg.status is LegStatus.SENT:
            full = filled == state.plan.legs[leg.index].quantity
            step = LegEnded(
                workflow_id=wid,
                strategy_id=sid,
                leg=leg.index,
                attempt=leg.attempts,
                client_order_id=cid,
                status=LegStatus.FILLED if full else LegStatus.ENDED,
                filled_qty=filled,
                avg_px=avg_px,
                lost=lost,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        else:
            comp = state.compensation_of(cid)
            assert comp is not None, f"{cid} is no order of workflow {wid}"
            step = CompensationEnded(
                workflow_id=wid,
                strategy_id=sid,
                index=comp.index,
                client_order_id=cid,
                filled_qty=filled,
                avg_px=avg_px,
                lost=lost,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        self._cids.pop(cid, None)
        self._commit(step)

    def _commit(self, step: WorkflowStep) -> WorkflowState:
        """Record a step durably, then move memory (and only then may the caller act on it)."""
        try:
            state = self.store.append(step)
        except StoreError as exc:
            self._store_failed(exc, f"{type(step).__name__} of workflow {step.workflow_id}")
            raise _Halted from exc
        wid = state.workflow_id
        if state.is_open:
            self._open[wid] = state
        else:
            self._open.pop(wid, None)
            self._finished.append(state)
            self._count(f"finished_{state.status.value.lower()}")
        self._publish(step, self._owners.get(wid))
        if not state.is_open:
            self._owners.pop(wid, None)
        self._reached(STEP_COMMITTED)
        return state

    def _store_failed(self, exc: StoreError, what: str) -> None:
        """The saga store cannot commit: act no more and stop new orders (a restart resumes from the store)."""
        if self.failure is None:
            self.failure = (
                f"the saga store failed while recording {what}: {exc}. Workflows act no more and new orders "
                "are refused; restart once the store is back: workflows resume from their last recorded step"
            )
            self.log.critical("%s", self.failure)
            self._kernel.halt(self.failure)

    def _publish(self, event: WorkflowEvent, strategy: Strategy | None) -> None:
        kernel = self._kernel
        kernel.emit(event)  # sinks (a backtest's events.jsonl, the live node's observers) and risk
        if strategy is not None:
            # Delivered as the next scheduled work, not from inside the strategy's own call: a strategy
            # that called `ctx.execute` has its workflow id before it hears of the workflow.
            kernel.schedule(kernel.clock.now_ns(), self._notify, (strategy, event))

    def _notify(self, arg: tuple[Strategy, WorkflowEvent]) -> None:
        strategy, event = arg
        self._kernel._call(strategy, "on_workflow", event)  # the kernel's own hook call: stop and fence rules

    def _reached(self, point: str) -> None:
        if self._crash is not None:
            self._crash(point)

    def _new_id(self) -> str:
        self._seq += 1
        return f"{self._prefix}{self._seq}"

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    # --- restart ------------------------------------------------------------------------------
    def recover(self) -> list[LegQuery]:
        """Take up every unfinished workflow from the store after a restart; return the orders whose fate
        only the venue can tell (recorded as sent, unknown to the kernel). Call it after the node has
        restored and reconciled its own orders, then call `resolve` with the venue's answers."""
        kernel = self._kernel
        strategies = {s.id: s for s in kernel.strategies}
        queries: list[LegQuery] = []
        for state in self.store.load_open():
            wid = state.workflow_id
            self._open[wid] = state
            self._owners[wid] = strategies.get(state.strategy_id)
            for cid in state.in_flight():
                self._cids[cid] = wid
                if kernel.orders.get(cid) is None:
                    query = LegQuery(wid, self._instrument_of(state, cid), cid)
                    self._awaiting[cid] = query
                    queries.append(query)
        self.log.info(
            "recovered %d open workflows; %d orders to look up at the venue", len(self._open), len(queries)
        )
        return queries

    def resolve(self, answers: Mapping[ClientOrderId, VenueAnswer]) -> None:
        """Apply the venue's answers about the orders `recover` returned, then carry every workflow on.

        Unknown at the venue: the attempt never arrived (recorded as lost; the leg goes out again as a new
        attempt, with a new id). Known: a node without an order journal adopts the order and applies what
        the venue reports (as reconciliation would); a node with one holds every order it sent, so an order
        it does not hold can only have ended — its end is recorded from the venue's figures.
        """
        missing = sorted(cid for cid in self._awaiting if cid not in answers)
        if missing:
            raise TradewrightError(
                f"no venue answer for {', '.join(missing)}; every order `recover` returned needs one"
            )
        self._busy = True
        try:
            for cid, query in list(self._awaiting.items()):
                del self._awaiting[cid]
                self._resolve_one(self._open[query.workflow_id], cid, answers[cid])
        except _Halted:
            return
        finally:
            self._busy = False
        for wid in list(self._open):
            self._touch(wid)

    def _resolve_one(self, state: WorkflowState, cid: ClientOrderId, answer: VenueAnswer) -> None:
        kernel = self._kernel
        view = answer.order
        if view is None:
            self._end(
                state,
                cid,
                _ZERO,
                None,
                lost=True,
                reason="never reached the venue: unknown there by its client order id",
            )
            return
        if kernel.journal is not None:
            if answer.is_open:
                raise TradewrightError(
                    f"order {cid} of workflow {state.workflow_id} works at the venue but the node did not load it: "
                    "restore every order of an open workflow before resuming workflows"
                )
            self._end(
                state,
                cid,
                view.filled_qty,
                average_price(answer.fills),
                lost=False,
                reason=f"ended at the venue ({view.status})",
            )
            return
        order = self._rebuild(state, cid)
        kernel.restore_order(order)
        for action in resolve_order(order, view, answer.fills, kernel.clock.now_ns()):
            if isinstance(action, ApplyEvent):
                kernel.on_venue_event(action.event)
            elif isinstance(action, HaltInstrument):
                kernel.halt(action.reason, action.instrument_id)

    def _rebuild(self, state: WorkflowState, cid: ClientOrderId) -> Order:
        leg = state.leg_of(cid)
        if leg is not None:
            spec = state.plan.legs[leg.index]
            assert leg.price is not None and leg.sent_ns is not None
            return rebuilt_order(
                cid,
                state.strategy_id,
                spec.instrument_id,
                spec.side,
                spec.quantity,
                leg.price,
                spec.time_in_force,
                leg.sent_ns,
            )
        comp = state.compensation_of(cid)
        assert comp is not None
        return rebuilt_order(
            cid,
            state.strategy_id,
            comp.instrument_id,
            comp.side,
            comp.quantity,
            comp.price,
            TimeInForce.IOC,
            comp.sent_ns,
        )

    @staticmethod
    def _instrument_of(state: WorkflowState, cid: ClientOrderId) -> InstrumentId:
        leg = state.leg_of(cid)
        if leg is not None:
            return state.plan.legs[leg.index].instrument_id
        comp = state.compensation_of(cid)
        assert comp is not None
        return comp.instrument_id

    # --- reading (operators, metrics, strategies) ---------------------------------------------
    def workflow(self, workflow_id: str) -> WorkflowState | None:
        """One workflow: open, or among the recently finished."""
        state = self._open.get(workflow_id)
        if state is not None:
            return state
        return next((s for s in self._finished if s.workflow_id == workflow_id), None)

    def workflows(self, *, open_only: bool = True) -> list[WorkflowState]:
        """Open workflows (and, with `open_only=False`, the recently finished ones), oldest first: legs,
        their states and client order ids, fills, compensations and reasons (the operators' read model)."""
        chosen = list(self._open.values()) + ([] if open_only else list(self._finished))
        return sorted(chosen, key=lambda s: (s.created_ns, s.workflow_id))

    def figures(self) -> ExecutorFigures:
        """Leg delta and open-leg exposure (see `ExecutorFigures`)."""
        kernel = self._kernel
        delta: dict[str, Decimal] = {}
        in_flight = _ZERO
        unhedged = _ZERO
        for state in self._open.values():
            net = _ZERO
            for (_, iid), qty in state.held().items():
                inst = kernel.instrument(iid)
                mark = kernel.mark(iid)
                base = (
                    qty * inst.multiplier
                    if not inst.inverse
                    else (qty * inst.multiplier / mark if mark else None)
                )
                if base is not None:
                    delta[inst.base] = delta.get(inst.base, _ZERO) + base
                if mark is not None:
                    net += kernel.portfolio.exposure_value(inst, qty, mark)
            unhedged += abs(net)
            for cid in state.in_flight():
                order = kernel.orders.get(cid)
                if order is not None and order.price is not None and order.is_open:
                    inst = kernel.instrument(order.instrument_id)
                    in_flight += abs(kernel.portfolio.exposure_value(inst, order.leaves_qty, order.price))
        finished = {
            k.removeprefix("finished_"): v for k, v in self.counts.items() if k.startswith("finished_")
        }
        return ExecutorFigures(
            open_workflows=len(self._open),
            leg_delta_base=delta,
            open_leg_exposure_quote=in_flight,
            unhedged_exposure_quote=unhedged,
            finished=finished,
            compensations_sent=self.counts.get("compensations_sent", 0),
            refused=self.counts.get("refused", 0),
        )


def executor_for(kernel: Kernel) -> MultiLegExecutor:
    """The kernel's executor; a backtest or paper kernel (no order journal) gets an in-memory one on first use.

    A kernel with an order journal (a live node) must be given a durable one — `MultiLegExecutor(kernel,
    SqlSagaStore(store), risk=...)` — before a strategy starts a plan: its workflows must survive a crash.
    """
    executor = kernel.executor
    if isinstance(executor, MultiLegExecutor):
        return executor
    if executor is not None:
        raise TradewrightError(f"the kernel's order-event hook is not a multi-leg executor: {executor!r}")
    if kernel.journal is not None:
        raise TradewrightError(
            "this node records its orders in a store but has no durable multi-leg executor: attach "
            "MultiLegExecutor(kernel, SqlSagaStore(store)) before strategies start plans"
        )
    risk = kernel.risk if isinstance(kernel.risk, ExecutorRisk) else None
    return MultiLegExecutor(kernel, MemorySagaStore(), risk=risk)


def _never_arrived(order: Order) -> bool:
    """True for an order that the venue never received (reconciliation found it unknown there)."""
    last = order.events[-1] if order.events else None
    if isinstance(last, OrderRejected):
        return last.reason == NOT_FOUND and order.venue_order_id is None
    return isinstance(last, OrderDenied) and last.reason == "never_sent"


def _why(order: Order) -> str:
    """How an order ended, in words (from its last event)."""
    last = order.events[-1] if order.events else None
    if order.status is OrderStatus.FILLED:
        return "filled"
    if isinstance(last, OrderDenied):
        return f"denied ({last.reason}): {last.message}"
    if isinstance(last, OrderRejected):
        return f"rejected by the venue ({last.reason}){': ' + last.message if last.message else ''}"
    if isinstance(last, OrderCanceled):
        return f"cancelled{' (' + last.reason + ')' if last.reason else ''}"
    if isinstance(last, OrderExpired):
        return "expired (the venue removed the unfilled rest)"
    return str(order.status).lower()
