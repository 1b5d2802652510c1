"""The multi-leg executor through the real kernel and simulated venues: legs, failures, compensation, risk."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from tradewright.config.run import RiskConfig
from tradewright.core.errors import GridError, StoreError, TradewrightError
from tradewright.core.ids import InstrumentId
from tradewright.engine.executor import MultiLegExecutor, executor_for
from tradewright.engine.saga import MemorySagaStore
from tradewright.model.enums import OrderSide, OrderStatus, TimeInForce
from tradewright.model.events import (
    CompensationSent,
    OrderDenied,
    OrderRejected,
    TradingState,
    WorkflowEvent,
    WorkflowFinished,
    WorkflowRefused,
)
from tradewright.model.multileg import (
    CompensationPolicy,
    ExecutionPolicy,
    LegSpec,
    LegStatus,
    Plan,
    WorkflowMode,
    WorkflowStatus,
)
from tradewright.model.orders import Order
from tradewright.risk.state import NODE, instrument_scope

from .multivenue import A, B, C, MultiVenue, Planner

D = Decimal


def leg(inst: Any, side: OrderSide, price: str, qty: str = "1", **kw: Any) -> LegSpec:
    return LegSpec(instrument_id=inst.id, side=side, quantity=D(qty), limit_price=D(price), **kw)


def arb(*, b_tif: TimeInForce = TimeInForce.IOC, hedge: InstrumentId | None = None, **policy: Any) -> Plan:
    """Buy 1 on A at 100.0, sell 1 on B at 101.0."""
    return Plan(
        legs=(
            leg(A, OrderSide.BUY, "100.0"),
            leg(B, OrderSide.SELL, "101.0", time_in_force=b_tif, hedge_instrument_id=hedge),
        ),
        policy=ExecutionPolicy(**policy),
    )


def market(**kw: Any) -> tuple[MultiVenue, Planner]:
    m = MultiVenue(**kw)
    m.quote(A, bids=[("99.9", "5")], asks=[("100.0", "5")])
    m.quote(B, bids=[("101.0", "5")], asks=[("101.5", "5")])
    m.quote(C, bids=[("100.9", "5")], asks=[("101.4", "5")])
    s = Planner()
    m.add(s)
    m.kernel.start()
    return m, s


def executor(m: MultiVenue) -> MultiLegExecutor:
    ex = m.kernel.executor
    assert isinstance(ex, MultiLegExecutor)
    return ex


def finished(s: Planner) -> WorkflowFinished:
    [done] = [e for e in s.heard if isinstance(e, WorkflowFinished)]
    return done


def test_two_legs_that_fill_complete_the_workflow_and_hold_the_arbitrage() -> None:
    m, s = market()
    wid = s.ctx.execute(arb())
    m.run_for(50)
    assert (m.position(A), m.position(B)) == (D("1.0"), D("-1.0"))
    state = s.ctx.workflow(wid)
    assert state is not None and state.status is WorkflowStatus.COMPLETED
    assert [leg.status for leg in state.legs] == [LegStatus.FILLED, LegStatus.FILLED]
    assert [type(e).__name__ for e in s.heard] == [
        "WorkflowStarted",
        "LegSent",
        "LegSent",
        "LegEnded",
        "LegEnded",
        "WorkflowFinished",
    ]
    assert m.recorder.kinds() == [type(e).__name__ for e in s.heard]  # the same events reach events.jsonl


def test_the_strategy_hears_of_its_workflow_only_after_execute_returned_its_id() -> None:
    m, s = market()
    wid = s.ctx.execute(arb())
    assert s.heard == []  # nothing delivered from inside its own call
    m.run_for(50)
    assert {e.workflow_id for e in s.heard} == {wid}


def test_every_order_is_recorded_in_the_saga_before_it_reaches_the_venue() -> None:
    m, s = market()
    store = MemorySagaStore()
    MultiLegExecutor(m.kernel, store)
    seen_at_send: list[tuple[str, bool]] = []
    for venue in m.venues.values():
        submit = venue.submit

        def recorded_first(order: Order, submit: Any = submit) -> None:
            steps = store.steps(order.client_order_id.split("-")[0])
            sent = any(getattr(step, "client_order_id", None) == order.client_order_id for step in steps)
            seen_at_send.append((order.client_order_id, sent))
            submit(order)

        venue.submit = recorded_first  # type: ignore[method-assign]
    s.ctx.execute(arb(b_tif=TimeInForce.GTC, leg_timeout_ms=20))  # B rests, times out, A is unwound
    m.quote(B, bids=[("100.0", "5")], asks=[("101.5", "5")])
    m.run_for(200)
    assert seen_at_send == [("W1-0-1", True), ("W1-1-1", True), ("W1-C0", True)]


def test_a_leg_rejected_by_the_venue_is_compensated_and_positions_end_flat() -> None:
    m, s = market()
    # Our own bid at 101.0 on B: the leg selling into it is refused by B (self-trade prevention).
    s.ctx.submit(B.id, OrderSide.BUY, D("0.1"), D("101.0"))
    m.run_for(5)
    s.ctx.execute(arb())
    m.run_for(50)
    done = finished(s)
    assert done.status is WorkflowStatus.COMPENSATED
    assert (
        "leg 1 (SELL 1 BTCUSDT.VENUEB) ended with 0 of 1 filled: rejected by the venue (self_trade_prevented)"
        in done.reason
    )
    assert (m.position(A), m.position(B)) == (D("0.0"), D("0"))
    [audit] = m.recorder.of(CompensationSent)
    assert (audit.instrument_id, audit.side, audit.quantity) == (A.id, OrderSide.SELL, D("1.0"))
    assert "self_trade_prevented" in audit.reason
    assert any(isinstance(e, OrderRejected) for e in m.recorder.events)


def test_a_leg_that_times_out_is_cancelled_and_the_filled_leg_unwound() -> None:
    m, s = market()
    m.quote(B, bids=[("100.0", "5")], asks=[("101.5", "5")])  # B's leg rests at 101.0, nobody takes it
    wid = s.ctx.execute(arb(b_tif=TimeInForce.GTC, leg_timeout_ms=50))
    m.run_for(20)
    assert executor(m).workflow(wid).status is WorkflowStatus.RUNNING  # type: ignore[union-attr]
    m.run_for(100)
    done = finished(s)
    assert done.status is WorkflowStatus.COMPENSATED and "cancelled" in done.reason
    assert (m.position(A), m.position(B)) == (D("0.0"), D("0"))
    order = m.kernel.orders.get("W1-1-1")  # type: ignore[arg-type]
    assert order is not None and order.status is OrderStatus.CANCELED


def test_a_leg_filled_30_percent_is_unwound_on_both_venues() -> None:
    m, s = market()
    m.quote(B, bids=[("101.0", "0.3"), ("100.0", "5")], asks=[("101.5", "5")])  # 0.3 at the leg's limit
    s.ctx.execute(arb())
    m.run_for(50)
    done = finished(s)
    assert done.status is WorkflowStatus.COMPENSATED and "ended with 0.3 of 1 filled" in done.reason
    assert (m.position(A), m.position(B)) == (D("0.0"), D("0.0"))
    assert [(c.instrument_id, c.side, c.quantity) for c in m.recorder.of(CompensationSent)] == [
        (A.id, OrderSide.SELL, D("1.0")),
        (B.id, OrderSide.BUY, D("0.3")),
    ]


def test_a_leg_filled_30_percent_under_the_hedge_policy_is_hedged_on_the_third_venue() -> None:
    m, s = market()
    m.quote(B, bids=[("101.0", "0.3"), ("100.0", "5")], asks=[("101.5", "5")])
    s.ctx.execute(arb(hedge=C.id, compensation=CompensationPolicy.HEDGE))
    m.run_for(50)
    done = finished(s)
    assert done.status is WorkflowStatus.COMPENSATED and done.reason.startswith("hedged")
    positions = (m.position(A), m.position(B), m.position(C))
    assert positions == (D("1.0"), D("-0.3"), D("-0.7"))
    assert abs(sum(positions)) < A.lot_size  # hedged within one lot


def test_sequential_stops_at_the_first_failed_leg_and_never_sends_the_rest() -> None:
    m, s = market()
    s.ctx.submit(B.id, OrderSide.BUY, D("0.1"), D("101.0"))  # makes B refuse the leg (self-trade)
    m.run_for(5)
    plan = Plan(
        legs=(
            leg(A, OrderSide.BUY, "100.0"),
            leg(B, OrderSide.SELL, "101.0"),
            leg(C, OrderSide.SELL, "100.9"),
        ),
        policy=ExecutionPolicy(mode=WorkflowMode.SEQUENTIAL),
    )
    wid = s.ctx.execute(plan)
    m.run_for(50)
    state = s.ctx.workflow(wid)
    assert state is not None and state.status is WorkflowStatus.COMPENSATED
    assert [leg.status for leg in state.legs] == [LegStatus.FILLED, LegStatus.ENDED, LegStatus.PENDING]
    assert not [o for o in m.kernel.orders.all_orders if o.instrument_id == C.id]  # leg 2 never sent
    assert m.position(A) == D("0.0")


def test_a_plan_is_refused_while_an_instrument_is_reducing_and_nothing_is_sent() -> None:
    m, s = market(risk=RiskConfig())
    assert m.risk is not None
    m.risk.set_state(TradingState.REDUCING, scope=instrument_scope(B.id), reason="crossed book on B")
    s.ctx.execute(arb())
    m.run_for(10)
    [refused] = [e for e in s.heard if isinstance(e, WorkflowRefused)]
    assert refused.reason == "trading_state" and "BTCUSDT.VENUEB is REDUCING" in refused.message
    assert m.kernel.orders.all_orders == []


def test_compensation_passes_a_reducing_node_where_a_new_entry_is_denied() -> None:
    m, s = market(risk=RiskConfig())
    assert m.risk is not None
    m.quote(B, bids=[("100.0", "5")], asks=[("101.5", "5")])  # B's leg rests
    s.ctx.execute(
        arb(b_tif=TimeInForce.GTC, leg_timeout_ms=1_000, hedge=C.id, compensation=CompensationPolicy.HEDGE)
    )
    m.run_for(10)
    assert m.position(A) == D("1.0")
    # A market anomaly: the node goes REDUCING. Risk cancels B's resting leg (it would add exposure).
    m.risk.set_state(TradingState.REDUCING, scope=NODE, reason="price moved 5% in 1 s")
    entry = s.ctx.submit(C.id, OrderSide.SELL, D("1"), D("100.9"))  # a new entry on C: denied
    m.run_for(50)
    order = m.kernel.orders.get(entry)
    assert order is not None and order.status is OrderStatus.DENIED
    assert isinstance(order.events[-1], OrderDenied) and order.events[-1].reason == "trading_reducing"
    done = finished(s)
    assert done.status is WorkflowStatus.COMPENSATED  # the hedge on C went through all the same
    assert (m.position(A), m.position(B), m.position(C)) == (D("1.0"), D("0"), D("-1.0"))


def test_a_plan_that_breaks_a_risk_limit_is_refused_whole() -> None:
    m, s = market(risk=RiskConfig(max_order_size_base=D("0.5")))
    s.ctx.execute(arb())
    m.run_for(10)
    [refused] = [e for e in s.heard if isinstance(e, WorkflowRefused)]
    assert refused.reason == "risk:order_size_above_max" and refused.message.startswith("leg 0:")
    assert m.kernel.orders.all_orders == []
    assert executor(m).figures().refused == 1


def test_a_malformed_plan_raises_at_once_naming_what_is_wrong() -> None:
    m, s = market()
    with pytest.raises(GridError, match=re.escape("price 100.05 is not on the tick grid")):
        s.ctx.execute(Plan(legs=(leg(A, OrderSide.BUY, "100.05"),)))
    unknown = LegSpec(
        instrument_id=InstrumentId.parse("ETH.NOWHERE"), side=OrderSide.BUY, quantity=D(1), limit_price=D(1)
    )
    with pytest.raises(TradewrightError, match=re.escape("unknown instrument ETH.NOWHERE")):
        s.ctx.execute(Plan(legs=(unknown,)))
    assert m.kernel.orders.all_orders == []


def test_figures_show_leg_delta_and_open_leg_exposure_while_a_leg_works() -> None:
    m, s = market()
    m.quote(B, bids=[("100.0", "5")], asks=[("101.5", "5")])
    s.ctx.execute(arb(b_tif=TimeInForce.GTC, leg_timeout_ms=1_000))
    m.run_for(10)
    figures = executor(m).figures()
    assert figures.open_workflows == 1
    assert figures.leg_delta_base == {"BTCUSDT": D("1.0")}  # long on A, B's leg not filled yet
    assert figures.open_leg_exposure_quote == D("101.0")  # B's 1 working at 101.0
    assert figures.unhedged_exposure_quote == D("99.95")  # 1 on A at its mid
    m.run_for(2_000)
    after = executor(m).figures()
    assert (after.open_workflows, after.leg_delta_base, after.open_leg_exposure_quote) == (0, {}, D(0))
    assert after.finished == {"compensated": 1} and after.compensations_sent == 1


def test_the_same_market_and_plan_give_the_same_workflow_byte_for_byte() -> None:
    def once() -> list[bytes]:
        m, s = market()
        m.quote(B, bids=[("101.0", "0.3"), ("100.0", "5")], asks=[("101.5", "5")])
        s.ctx.execute(arb())
        m.run_for(50)
        return [msgspec.json.encode(e) for e in m.recorder.events]

    assert once() == once()


def test_a_live_kernel_without_a_durable_saga_store_refuses_plans() -> None:
    from tradewright.testkit.journal import InMemoryJournal

    m = MultiVenue()
    m.kernel.journal = InMemoryJournal()  # type: ignore[assignment]
    with pytest.raises(TradewrightError, match="no durable multi-leg executor"):
        executor_for(m.kernel)


def test_workflow_events_are_all_workflow_events() -> None:
    m, s = market()
    s.ctx.execute(arb())
    m.run_for(50)
    assert all(isinstance(e, WorkflowEvent) for e in s.heard)


class FailingSaga(MemorySagaStore):
    """An in-memory saga store whose writes fail from the `fail_at`-th on (a disk full, a database gone)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.writes = 0

    def append(self, step: Any) -> Any:
        self.writes += 1
        if self.writes >= self.fail_at:
            raise StoreError("disk I/O error")
        return super().append(step)


def test_a_saga_store_that_fails_stops_the_workflow_and_new_orders_before_anything_more_is_sent() -> None:
    m, s = market()
    MultiLegExecutor(m.kernel, FailingSaga(fail_at=2))  # leg 0 is recorded; recording leg 1 fails
    s.ctx.execute(arb())
    m.run_for(50)
    sent = [o.client_order_id for o in m.kernel.orders.all_orders]
    assert sent == ["W1-0-1"]  # leg 1 was never sent: it could not be recorded first
    assert "the saga store failed" in (m.kernel.halts.get(None) or "")
    order = m.kernel.orders.get(s.ctx.submit(A.id, OrderSide.BUY, D("0.1"), D("100.0")))
    assert order is not None and order.status is OrderStatus.DENIED  # fail closed: no new orders
    s.ctx.execute(arb())
    m.run_for(10)
    [refused] = [e for e in s.heard if isinstance(e, WorkflowRefused)]
    assert refused.reason == "store_failed"
