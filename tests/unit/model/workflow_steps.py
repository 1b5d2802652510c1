"""Builders for multi-leg workflow steps (a two- or three-leg arbitrage plan across venues A, B, C)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model.enums import OrderSide, TimeInForce
from tradewright.model.events import (
    CompensationEnded,
    CompensationSent,
    LegEnded,
    LegSent,
    WorkflowFinished,
    WorkflowStarted,
)
from tradewright.model.multileg import (
    CompensationKind,
    ExecutionPolicy,
    LegSpec,
    LegStatus,
    Plan,
    WorkflowStatus,
)
from tradewright.model.workflow import WorkflowState

D = Decimal
IA = InstrumentId.parse("BTCUSDT.VENUEA")
IB = InstrumentId.parse("BTCUSDT.VENUEB")
IC = InstrumentId.parse("BTCUSDT.VENUEC")
WID = "W1"
SID = StrategyId("ARB")


def plan(legs: int = 2, *, hedge: InstrumentId | None = None, **policy: Any) -> Plan:
    """BUY 1 on A at 100; SELL 1 on B at 101 (hedged on `hedge`); a third leg BUY 1 on C at 100."""
    specs = [
        LegSpec(instrument_id=IA, side=OrderSide.BUY, quantity=D("1"), limit_price=D("100.0")),
        LegSpec(
            instrument_id=IB,
            side=OrderSide.SELL,
            quantity=D("1"),
            limit_price=D("101.0"),
            hedge_instrument_id=hedge,
        ),
        LegSpec(instrument_id=IC, side=OrderSide.BUY, quantity=D("1"), limit_price=D("100.0")),
    ]
    return Plan(legs=tuple(specs[:legs]), policy=ExecutionPolicy(**policy))


def started(p: Plan | None = None, ts: int = 1_000) -> WorkflowStarted:
    return WorkflowStarted(workflow_id=WID, strategy_id=SID, plan=p or plan(), ts_event=ts, ts_init=ts)


def sent(
    state: WorkflowState, leg: int, attempt: int = 1, ts: int = 2_000, deadline: int = 10_000
) -> LegSent:
    spec = state.plan.legs[leg]
    return LegSent(
        workflow_id=WID,
        strategy_id=SID,
        leg=leg,
        attempt=attempt,
        client_order_id=ClientOrderId(f"{WID}-{leg}-{attempt}"),
        instrument_id=spec.instrument_id,
        side=spec.side,
        quantity=spec.quantity,
        price=spec.limit_price,
        time_in_force=TimeInForce.IOC,
        deadline_ns=deadline,
        ts_event=ts,
        ts_init=ts,
    )


def ended(
    state: WorkflowState, leg: int, filled: str, *, lost: bool = False, reason: str = "", ts: int = 3_000
) -> LegEnded:
    current = state.legs[leg]
    full = D(filled) == state.plan.legs[leg].quantity
    return LegEnded(
        workflow_id=WID,
        strategy_id=SID,
        leg=leg,
        attempt=current.attempts,
        client_order_id=current.client_order_id or ClientOrderId("?"),
        status=LegStatus.FILLED if full else LegStatus.ENDED,
        filled_qty=D(filled),
        avg_px=None if D(filled) == 0 else state.plan.legs[leg].limit_price,
        lost=lost,
        reason=reason,
        ts_event=ts,
        ts_init=ts,
    )


def comp_sent(
    state: WorkflowState,
    leg: int,
    iid: InstrumentId,
    side: OrderSide,
    qty: str,
    *,
    kind: CompensationKind = CompensationKind.UNWIND,
    ts: int = 4_000,
) -> CompensationSent:
    index = len(state.compensations)
    return CompensationSent(
        workflow_id=WID,
        strategy_id=SID,
        index=index,
        leg=leg,
        kind=kind,
        client_order_id=ClientOrderId(f"{WID}-C{index}"),
        instrument_id=iid,
        side=side,
        quantity=D(qty),
        price=D("100.0"),
        deadline_ns=ts + 5_000,
        reason="test",
        ts_event=ts,
        ts_init=ts,
    )


def comp_ended(
    state: WorkflowState, index: int, filled: str, *, lost: bool = False, ts: int = 5_000
) -> CompensationEnded:
    return CompensationEnded(
        workflow_id=WID,
        strategy_id=SID,
        index=index,
        client_order_id=state.compensations[index].client_order_id,
        filled_qty=D(filled),
        avg_px=None if D(filled) == 0 else D("100.0"),
        lost=lost,
        ts_event=ts,
        ts_init=ts,
    )


def finished(status: WorkflowStatus, reason: str = "done", ts: int = 9_000) -> WorkflowFinished:
    return WorkflowFinished(
        workflow_id=WID, strategy_id=SID, status=status, reason=reason, ts_event=ts, ts_init=ts
    )
