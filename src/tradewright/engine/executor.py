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
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import msgspec

from tradewright.config.run import InstrumentLimits
from tradewright.core.errors import StoreError, TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine import workflow_steps as steps
from tradewright.engine.leg_fates import LegQuery, VenueAnswer, average_price, order_of
from tradewright.engine.ports import Denial
from tradewright.engine.reconcile import ApplyEvent, HaltInstrument, resolve_order
from tradewright.engine.saga import MemorySagaStore, SagaStore
from tradewright.engine.workflow_rules import (
    CancelInFlight,
    Compensate,
    Finish,
    Intent,
    SendLeg,
    WakeAt,
    decide,
    send_price,
)
from tradewright.engine.workflow_steps import ExecutorFigures
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import OrderStatus
from tradewright.model.events import OrderEvent, TradingState, WorkflowEvent, WorkflowRefused, WorkflowStarted
from tradewright.model.instrument import Instrument
from tradewright.model.multileg import Plan, WorkflowStatus
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


@runtime_checkable
class ExecutorRisk(Protocol):
    """What the executor asks of the risk engine (`tradewright.risk.RiskEngine` implements it)."""

    def state_for(self, instrument_id: InstrumentId) -> TradingState: ...

    def precheck(self, command: SubmitOrder) -> Denial | None: ...

    def admit_compensation(self, client_order_id: ClientOrderId) -> None: ...

    def limits_for(self, instrument_id: InstrumentId) -> InstrumentLimits: ...


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
        state = None
        if refusal is None:
            try:
                state = self._begin(plan, strategy, workflow_id, now)
            except StoreError as exc:
                self._store_failed(exc, "the start of a workflow")
                refusal = "store_failed", self.failure or str(exc)
        if state is None:
            reason, message = refusal or ("store_failed", "")
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
        self._touch(state.workflow_id)
        return state.workflow_id

    def _begin(self, plan: Plan, strategy: Strategy, workflow_id: str, now: int) -> WorkflowState:
        started = WorkflowStarted(
            workflow_id=workflow_id, strategy_id=strategy.id, plan=plan, ts_event=now, ts_init=now
        )
        state = self.store.begin(started)
        while state is None:  # the id is taken (a restart that kept the prefix): take the next
            started = msgspec.structs.replace(started, workflow_id=self._new_id())
            state = self.store.begin(started)
        self._open[state.workflow_id] = state
        self._owners[state.workflow_id] = strategy
        self._publish(started, strategy)
        self._reached(STEP_COMMITTED)
        return state

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
                price = send_price(plan, i, kernel.instrument(spec.instrument_id))
                probe = steps.leg_command(
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
                lost = steps.never_arrived(order)
                self._end(
                    state, cid, order.filled_qty, order.avg_px, lost=lost, reason=steps.why_ended(order)
                )
                return True
        return False

    # --- acting ------------------------------------------------------------------------------
    def _perform(self, state: WorkflowState, intent: Intent) -> None:
        now = self._kernel.clock.now_ns()
        wid = state.workflow_id
        if isinstance(intent, SendLeg):
            sent = steps.leg_sent(state, intent, now)
            self._commit(sent)
            spec = state.plan.legs[intent.leg]
            self._send(
                wid, steps.leg_command(state.strategy_id, wid, sent.client_order_id, spec, intent.price, now)
            )
            self._wake(wid, intent.deadline_ns)
        elif isinstance(intent, Compensate):
            self.log.warning("workflow %s: compensating (%s)", wid, intent.reason)
            compensation = steps.compensation_sent(state, intent, now)
            self._commit(compensation)
            self._count("compensations_sent")
            if self.risk is not None:
                self.risk.admit_compensation(compensation.client_order_id)
            self._send(wid, steps.compensation_command(compensation, now))
            self._wake(wid, intent.deadline_ns)
        else:
            assert isinstance(intent, Finish)
            self._commit(steps.finished(state, intent, now))
            ok = intent.status in (WorkflowStatus.COMPLETED, WorkflowStatus.ABORTED)
            (self.log.info if ok else self.log.warning)(
                "workflow %s %s: %s", wid, intent.status, intent.reason
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
        self._cids.pop(cid, None)
        self._commit(steps.end_step(state, cid, filled, avg_px, lost=lost, reason=reason, now=now))

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
                    query = LegQuery(wid, steps.instrument_of(state, cid), cid)
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
                Decimal(0),
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
        order = order_of(state, cid)
        kernel.restore_order(order)
        for action in resolve_order(order, view, answer.fills, kernel.clock.now_ns()):
            if isinstance(action, ApplyEvent):
                kernel.on_venue_event(action.event)
            elif isinstance(action, HaltInstrument):
                kernel.halt(action.reason, action.instrument_id)

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
        """Leg delta and open-leg exposure of the open workflows (see `ExecutorFigures`)."""
        return steps.figures(self._kernel, self._open.values(), self.counts)


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
