"""What the multi-leg executor records and sends, built from the workflow's state and the rules' intents.

Pure helpers, kept apart from the executor's control flow: the step records (`LegSent`, `LegEnded`, ...),
the orders they stand for, how an ended order is described, and the executor's figures for metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine.reconcile import NOT_FOUND
from tradewright.engine.workflow_rules import Compensate, Finish, SendLeg
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderStatus, OrderType, TimeInForce
from tradewright.model.events import (
    CompensationEnded,
    CompensationSent,
    LegEnded,
    LegSent,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderRejected,
    WorkflowFinished,
)
from tradewright.model.multileg import LegSpec, LegStatus
from tradewright.model.orders import Order
from tradewright.model.workflow import WorkflowState, WorkflowStep

if TYPE_CHECKING:
    from tradewright.engine.kernel import Kernel

__all__ = [
    "ExecutorFigures",
    "compensation_command",
    "compensation_sent",
    "end_step",
    "figures",
    "finished",
    "instrument_of",
    "leg_command",
    "leg_sent",
    "never_arrived",
    "why_ended",
]

_ZERO = Decimal(0)


def leg_sent(state: WorkflowState, intent: SendLeg, now: int) -> LegSent:
    """The step that records a leg's order before it goes out; its id is `<workflow>-<leg>-<attempt>`."""
    spec = state.plan.legs[intent.leg]
    return LegSent(
        workflow_id=state.workflow_id,
        strategy_id=state.strategy_id,
        leg=intent.leg,
        attempt=intent.attempt,
        client_order_id=ClientOrderId(f"{state.workflow_id}-{intent.leg}-{intent.attempt}"),
        instrument_id=spec.instrument_id,
        side=spec.side,
        quantity=spec.quantity,
        price=intent.price,
        time_in_force=spec.time_in_force,
        deadline_ns=intent.deadline_ns,
        ts_event=now,
        ts_init=now,
    )


def leg_command(
    strategy_id: StrategyId, workflow_id: str, cid: ClientOrderId, spec: LegSpec, price: Decimal, now: int
) -> SubmitOrder:
    """A leg's order (also used to pre-check a plan against risk before anything is recorded)."""
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


def compensation_sent(state: WorkflowState, intent: Compensate, now: int) -> CompensationSent:
    """The step (and audit record) of a compensation order; its id is `<workflow>-C<n>`."""
    index = len(state.compensations)
    return CompensationSent(
        workflow_id=state.workflow_id,
        strategy_id=state.strategy_id,
        index=index,
        leg=intent.leg,
        kind=intent.kind,
        client_order_id=ClientOrderId(f"{state.workflow_id}-C{index}"),
        instrument_id=intent.instrument_id,
        side=intent.side,
        quantity=intent.quantity,
        price=intent.price,
        deadline_ns=intent.deadline_ns,
        reason=intent.reason,
        ts_event=now,
        ts_init=now,
    )


def compensation_command(step: CompensationSent, now: int) -> SubmitOrder:
    """A compensation order: an IOC limit inside the risk price band."""
    return SubmitOrder(
        client_order_id=step.client_order_id,
        strategy_id=step.strategy_id,
        instrument_id=step.instrument_id,
        side=step.side,
        order_type=OrderType.LIMIT,
        quantity=step.quantity,
        price=step.price,
        time_in_force=TimeInForce.IOC,
        ts_init=now,
        actor=f"executor:workflow={step.workflow_id};compensation={step.index}",
    )


def finished(state: WorkflowState, intent: Finish, now: int) -> WorkflowFinished:
    return WorkflowFinished(
        workflow_id=state.workflow_id,
        strategy_id=state.strategy_id,
        status=intent.status,
        reason=intent.reason,
        ts_event=now,
        ts_init=now,
    )


def end_step(
    state: WorkflowState,
    cid: ClientOrderId,
    filled: Decimal,
    avg_px: Decimal | None,
    *,
    lost: bool,
    reason: str,
    now: int,
) -> WorkflowStep:
    """The step that records how a leg or compensation order of `state` ended."""
    leg = state.leg_of(cid)
    if leg is not None and leg.status is LegStatus.SENT:
        full = filled == state.plan.legs[leg.index].quantity
        return LegEnded(
            workflow_id=state.workflow_id,
            strategy_id=state.strategy_id,
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
    comp = state.compensation_of(cid)
    assert comp is not None, f"{cid} is no order of workflow {state.workflow_id}"
    return CompensationEnded(
        workflow_id=state.workflow_id,
        strategy_id=state.strategy_id,
        index=comp.index,
        client_order_id=cid,
        filled_qty=filled,
        avg_px=avg_px,
        lost=lost,
        reason=reason,
        ts_event=now,
        ts_init=now,
    )


def instrument_of(state: WorkflowState, cid: ClientOrderId) -> InstrumentId:
    leg = state.leg_of(cid)
    if leg is not None:
        return state.plan.legs[leg.index].instrument_id
    comp = state.compensation_of(cid)
    assert comp is not None, f"{cid} is no order of workflow {state.workflow_id}"
    return comp.instrument_id


def never_arrived(order: Order) -> bool:
    """True for an order the venue never received (reconciliation found it unknown there)."""
    last = order.events[-1] if order.events else None
    if isinstance(last, OrderRejected):
        return last.reason == NOT_FOUND and order.venue_order_id is None
    return isinstance(last, OrderDenied) and last.reason == "never_sent"


def why_ended(order: Order) -> str:
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


def figures(
    kernel: Kernel, open_states: Iterable[WorkflowState], counts: Mapping[str, int]
) -> ExecutorFigures:
    """Leg delta and open-leg exposure of the open workflows, valued on the kernel's marks."""
    delta: dict[str, Decimal] = {}
    in_flight = unhedged = _ZERO
    states = list(open_states)
    for state in states:
        net = _ZERO
        for (_, iid), qty in state.held().items():
            inst = kernel.instrument(iid)
            mark = kernel.mark(iid)
            if not inst.inverse:
                delta[inst.base] = delta.get(inst.base, _ZERO) + qty * inst.multiplier
            elif mark:  # an inverse contract's size is in quote value: base = size x multiplier / price
                delta[inst.base] = delta.get(inst.base, _ZERO) + qty * inst.multiplier / mark
            if mark is not None:
                net += kernel.portfolio.exposure_value(inst, qty, mark)
        unhedged += abs(net)
        for cid in state.in_flight():
            order = kernel.orders.get(cid)
            if order is not None and order.price is not None and order.is_open:
                inst = kernel.instrument(order.instrument_id)
                in_flight += abs(kernel.portfolio.exposure_value(inst, order.leaves_qty, order.price))
    return ExecutorFigures(
        open_workflows=len(states),
        leg_delta_base=delta,
        open_leg_exposure_quote=in_flight,
        unhedged_exposure_quote=unhedged,
        finished={k.removeprefix("finished_"): v for k, v in counts.items() if k.startswith("finished_")},
        compensations_sent=counts.get("compensations_sent", 0),
        refused=counts.get("refused", 0),
    )
