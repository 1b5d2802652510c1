"""A multi-leg workflow changes only by applying recorded steps; every illegal step is refused unchanged."""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec
import pytest

from tradewright.core.errors import InvalidStateTransition
from tradewright.model.enums import OrderSide, TimeInForce
from tradewright.model.multileg import ExecutionPolicy, LegSpec, LegStatus, Plan, WorkflowStatus
from tradewright.model.workflow import WorkflowState

from .workflow_steps import IA, IB, comp_ended, comp_sent, ended, finished, plan, sent, started

D = Decimal


def run(*builders: object) -> WorkflowState:
    state = WorkflowState.begin(started())
    for build in builders:
        state = state.apply(build(state))  # type: ignore[operator]
    return state


def test_a_leg_sent_and_filled_moves_through_sent_to_filled_and_the_workflow_completes() -> None:
    state = WorkflowState.begin(started())
    assert [leg.status for leg in state.legs] == [LegStatus.PENDING, LegStatus.PENDING]
    state = state.apply(sent(state, 0))
    assert state.legs[0].status is LegStatus.SENT and state.in_flight() == ["W1-0-1"]
    state = state.apply(ended(state, 0, "1"))
    state = state.apply(sent(state, 1))
    state = state.apply(ended(state, 1, "1"))
    state = state.apply(finished(WorkflowStatus.COMPLETED))
    assert state.status is WorkflowStatus.COMPLETED and not state.is_open
    assert state.steps == 6 and state.updated_ns == 9_000


def test_the_same_leg_cannot_be_sent_twice_while_in_flight() -> None:
    state = run(lambda s: sent(s, 0))
    with pytest.raises(InvalidStateTransition, match="leg 0 is SENT"):
        state.apply(sent(state, 0, attempt=2))


def test_attempts_go_up_one_at_a_time_and_never_past_the_policy() -> None:
    state = WorkflowState.begin(started())
    with pytest.raises(InvalidStateTransition, match="due attempt 1, not 2"):
        state.apply(sent(state, 0, attempt=2))
    p = plan(send_attempts=1)
    state = WorkflowState.begin(started(p))
    state = state.apply(sent(state, 0)).apply(ended(state.apply(sent(state, 0)), 0, "0", lost=True))
    assert state.legs[0].status is LegStatus.ENDED  # lost, but no attempt left: the leg failed
    with pytest.raises(InvalidStateTransition):
        state.apply(sent(state, 0, attempt=2))


def test_an_attempt_that_never_reached_the_venue_makes_the_leg_pending_again_for_a_new_attempt() -> None:
    state = run(lambda s: sent(s, 0), lambda s: ended(s, 0, "0", lost=True))
    assert state.legs[0].status is LegStatus.PENDING and state.legs[0].attempts == 1
    state = state.apply(sent(state, 0, attempt=2))
    assert state.legs[0].client_order_id == "W1-0-2"


def test_a_lost_order_cannot_have_fills() -> None:
    state = run(lambda s: sent(s, 0))
    with pytest.raises(InvalidStateTransition, match="never reached the venue cannot have filled"):
        state.apply(ended(state, 0, "0.5", lost=True))


def test_an_end_must_match_the_order_in_flight_and_the_size_filled() -> None:
    state = run(lambda s: sent(s, 0))
    other = msgspec.structs.replace(ended(state, 0, "1"), client_order_id="W1-0-9")
    with pytest.raises(InvalidStateTransition, match="no order W1-0-9 in flight"):
        state.apply(other)
    with pytest.raises(InvalidStateTransition, match=re.escape("outside 0..1")):
        state.apply(ended(state, 0, "1.5"))
    claims_full = msgspec.structs.replace(ended(state, 0, "0.5"), status=LegStatus.FILLED)
    with pytest.raises(InvalidStateTransition, match=re.escape("does not match 0.5 of 1 filled")):
        state.apply(claims_full)


def test_a_step_with_terms_other_than_the_plans_is_refused() -> None:
    state = WorkflowState.begin(started())
    step = sent(state, 0)
    forged = msgspec.structs.replace(step, quantity=D("2"))
    with pytest.raises(InvalidStateTransition, match="terms differ"):
        state.apply(forged)


def test_compensation_waits_until_no_leg_is_in_flight() -> None:
    state = run(lambda s: sent(s, 0), lambda s: ended(s, 0, "1"), lambda s: sent(s, 1))
    with pytest.raises(InvalidStateTransition, match="still in flight"):
        state.apply(comp_sent(state, 0, IA, OrderSide.SELL, "1"))


def test_compensations_are_numbered_in_order_and_make_the_workflow_compensating() -> None:
    state = run(
        lambda s: sent(s, 0),
        lambda s: ended(s, 0, "1"),
        lambda s: sent(s, 1),
        lambda s: ended(s, 1, "0.3", reason="expired"),
        lambda s: comp_sent(s, 0, IA, OrderSide.SELL, "1"),
        lambda s: comp_sent(s, 1, IB, OrderSide.BUY, "0.3"),
    )
    assert state.status is WorkflowStatus.COMPENSATING
    assert [c.client_order_id for c in state.compensations] == ["W1-C0", "W1-C1"]
    assert state.held() == {(0, IA): D("1"), (1, IB): D("-0.3")}
    state = state.apply(comp_ended(state, 0, "1")).apply(
        comp_ended(state.apply(comp_ended(state, 0, "1")), 1, "0.3")
    )
    assert state.held() == {(0, IA): D("0"), (1, IB): D("0.0")}
    state = state.apply(finished(WorkflowStatus.COMPENSATED))
    assert state.status is WorkflowStatus.COMPENSATED


def test_no_new_leg_goes_out_once_the_workflow_is_compensating() -> None:
    state = run(
        lambda s: sent(s, 0),
        lambda s: ended(s, 0, "0.5"),
        lambda s: comp_sent(s, 0, IA, OrderSide.SELL, "0.5"),
    )
    with pytest.raises(InvalidStateTransition, match="only while RUNNING"):
        state.apply(sent(state, 1))


def test_a_workflow_finishes_only_with_nothing_in_flight_and_completes_only_when_every_leg_filled() -> None:
    state = run(lambda s: sent(s, 0))
    with pytest.raises(InvalidStateTransition, match="still in flight"):
        state.apply(finished(WorkflowStatus.ABORTED))
    state = state.apply(ended(state, 0, "0"))
    with pytest.raises(InvalidStateTransition, match="not every leg filled"):
        state.apply(finished(WorkflowStatus.COMPLETED))
    with pytest.raises(InvalidStateTransition, match="not an end state"):
        state.apply(finished(WorkflowStatus.COMPENSATING))
    done = state.apply(finished(WorkflowStatus.ABORTED))
    with pytest.raises(InvalidStateTransition, match="already finished"):
        done.apply(sent(done, 1))


def test_a_refused_step_leaves_the_state_as_it_was() -> None:
    state = run(lambda s: sent(s, 0))
    before = state
    with pytest.raises(InvalidStateTransition):
        state.apply(sent(state, 0))
    assert state == before and state.steps == 2


def test_replaying_the_recorded_steps_rebuilds_the_same_state() -> None:
    steps = [started()]
    state = WorkflowState.begin(steps[0])
    for build in (
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0.3"),
        lambda s: comp_sent(s, 0, IA, OrderSide.SELL, "0.7"),
    ):
        step = build(state)
        steps.append(step)
        state = state.apply(step)
    assert WorkflowState.replay(steps) == state
    with pytest.raises(InvalidStateTransition, match="first step must be WorkflowStarted"):
        WorkflowState.replay(steps[1:])


def test_a_plan_refuses_malformed_legs_with_the_field_named() -> None:
    leg = LegSpec(instrument_id=IA, side=OrderSide.BUY, quantity=D("1"), limit_price=D("100"))
    with pytest.raises(ValueError, match="quantity must be > 0"):
        LegSpec(instrument_id=IA, side=OrderSide.BUY, quantity=D("0"), limit_price=D("100"))
    with pytest.raises(ValueError, match="GTD is not a leg time in force"):
        LegSpec(
            instrument_id=IA,
            side=OrderSide.BUY,
            quantity=D("1"),
            limit_price=D("1"),
            time_in_force=TimeInForce.GTD,
        )
    with pytest.raises(ValueError, match=re.escape("two legs trade BTCUSDT.VENUEA")):
        Plan(legs=(leg, leg))
    with pytest.raises(ValueError, match="1 to 10 legs"):
        Plan(legs=())
    with pytest.raises(ValueError, match="`unwind_slippage_bps` must be a number > 0"):
        ExecutionPolicy(unwind_slippage_bps=D(0))
    with pytest.raises(ValueError, match="`max_slippage_bps` must be a number >= 0"):
        LegSpec(
            instrument_id=IA, side=OrderSide.BUY, quantity=D("1"), limit_price=D("1"), max_slippage_bps=D(-1)
        )
