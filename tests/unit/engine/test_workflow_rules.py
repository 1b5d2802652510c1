"""What a workflow does next at each step boundary (the executor's pure rules)."""

from __future__ import annotations

from decimal import Decimal

from tradewright.core.ids import InstrumentId
from tradewright.engine.workflow_rules import (
    CancelInFlight,
    Compensate,
    Finish,
    SendLeg,
    WakeAt,
    band_price,
    decide,
    leg_price,
)
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument
from tradewright.model.multileg import CompensationKind, CompensationPolicy, WorkflowMode, WorkflowStatus
from tradewright.model.workflow import WorkflowState
from tradewright.testkit import make_instrument

from ..model.workflow_steps import IA, IB, IC, comp_ended, comp_sent, ended, plan, sent, started

D = Decimal
MS = 1_000_000


class Market:
    """Books at mid 100 on every venue; an optional price band."""

    def __init__(
        self, band: str | None = None, refs: dict[InstrumentId, Decimal | None] | None = None
    ) -> None:
        self.instruments = {
            iid: make_instrument("BTCUSDT", iid.venue, tick="0.1", lot="0.1") for iid in (IA, IB, IC)
        }
        self.band = None if band is None else D(band)
        self.refs = refs or {}

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        return self.instruments[instrument_id]

    def reference_price(self, instrument_id: InstrumentId) -> Decimal | None:
        return self.refs.get(instrument_id, D("100.0"))

    def price_band_bps(self, instrument_id: InstrumentId) -> Decimal | None:
        return self.band


M = Market()


def state_after(*builders: object, p: object = None) -> WorkflowState:
    state = WorkflowState.begin(started(p))  # type: ignore[arg-type]
    for build in builders:
        state = state.apply(build(state))  # type: ignore[operator]
    return state


def test_simultaneous_sends_every_pending_leg_at_once_with_its_deadline() -> None:
    state = state_after(p=plan(3, leg_timeout_ms=50))
    intents = decide(state, 1_000, M)
    assert intents == [
        SendLeg(0, 1, D("100.0"), 1_000 + 50 * MS),
        SendLeg(1, 1, D("101.0"), 1_000 + 50 * MS),
        SendLeg(2, 1, D("100.0"), 1_000 + 50 * MS),
    ]


def test_sequential_sends_the_next_leg_only_after_the_one_before_filled() -> None:
    p = plan(2, mode=WorkflowMode.SEQUENTIAL)
    assert [type(i) for i in decide(state_after(p=p), 1_000, M)] == [SendLeg]
    waiting = state_after(lambda s: sent(s, 0), p=p)
    assert decide(waiting, 3_000, M) == [WakeAt(10_000)]  # only the leg's deadline to watch
    filled = state_after(lambda s: sent(s, 0), lambda s: ended(s, 0, "1"), p=p)
    assert decide(filled, 3_000, M) == [SendLeg(1, 1, D("101.0"), 3_000 + 5_000 * MS)]


def test_every_leg_filled_completes_the_workflow() -> None:
    state = state_after(
        lambda s: sent(s, 0), lambda s: sent(s, 1), lambda s: ended(s, 0, "1"), lambda s: ended(s, 1, "1")
    )
    assert decide(state, 4_000, M) == [Finish(WorkflowStatus.COMPLETED, "every leg filled")]


def test_a_leg_past_its_deadline_is_cancelled() -> None:
    state = state_after(lambda s: sent(s, 0, deadline=10_000))
    assert CancelInFlight("W1-0-1", "leg 0 timed out after 5000 ms") in decide(state, 10_000, M)


def test_a_failed_leg_cancels_the_legs_still_in_flight_before_compensating() -> None:
    state = state_after(
        lambda s: sent(s, 0), lambda s: sent(s, 1), lambda s: ended(s, 0, "0", reason="rejected")
    )
    intents = decide(state, 4_000, M)
    assert CancelInFlight("W1-1-1", "leg 0 ended short") in intents
    assert not [i for i in intents if isinstance(i, Compensate | Finish)]


def test_nothing_filled_anywhere_aborts_with_the_failure_named() -> None:
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "0", reason="rejected"),
        lambda s: ended(s, 1, "0"),
    )
    [finish] = decide(state, 4_000, M)
    assert isinstance(finish, Finish) and finish.status is WorkflowStatus.ABORTED
    assert "leg 0 (BUY 1 BTCUSDT.VENUEA) ended with 0 of 1 filled: rejected" in finish.reason


def test_unwind_trades_every_filled_size_back_out_at_the_band_price() -> None:
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0.3", reason="expired"),
    )
    intents = decide(state, 4_000, Market(band="20"))
    assert [
        (i.leg, i.kind, i.instrument_id, i.side, i.quantity, i.price)
        for i in intents
        if isinstance(i, Compensate)
    ] == [
        (0, CompensationKind.UNWIND, IA, OrderSide.SELL, D("1"), D("99.8")),  # 100 - min(50, 20) bps
        (1, CompensationKind.UNWIND, IB, OrderSide.BUY, D("0.3"), D("100.2")),
    ]


def test_hedge_trades_the_missing_size_on_the_hedge_venue_same_side() -> None:
    p = plan(2, hedge=IC, compensation=CompensationPolicy.HEDGE)
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0.3"),
        p=p,
    )
    [hedge] = [i for i in decide(state, 4_000, M) if isinstance(i, Compensate)]
    assert (hedge.leg, hedge.kind, hedge.instrument_id, hedge.side, hedge.quantity) == (
        1,
        CompensationKind.HEDGE,
        IC,
        OrderSide.SELL,
        D("0.7"),
    )
    hedged = state.apply(comp_sent(state, 1, IC, OrderSide.SELL, "0.7", kind=CompensationKind.HEDGE))
    hedged = hedged.apply(comp_ended(hedged, 0, "0.7"))
    [finish] = decide(hedged, 6_000, M)
    assert isinstance(finish, Finish) and finish.status is WorkflowStatus.COMPENSATED
    assert finish.reason.startswith("hedged: leg 1")


def test_a_hedge_that_fills_nothing_switches_to_unwinding_everything() -> None:
    p = plan(2, hedge=IC, compensation=CompensationPolicy.HEDGE)
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0.3"),
        p=p,
    )
    state = state.apply(comp_sent(state, 1, IC, OrderSide.SELL, "0.7", kind=CompensationKind.HEDGE))
    state = state.apply(comp_ended(state, 0, "0"))
    kinds = {(i.kind, i.instrument_id) for i in decide(state, 6_000, M) if isinstance(i, Compensate)}
    assert kinds == {(CompensationKind.UNWIND, IA), (CompensationKind.UNWIND, IB)}


def test_a_leg_without_hedge_instrument_unwinds_even_under_the_hedge_policy() -> None:
    p = plan(2, compensation=CompensationPolicy.HEDGE)  # no hedge instrument for leg 1
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0"),
        p=p,
    )
    [unwind] = [i for i in decide(state, 4_000, M) if isinstance(i, Compensate)]
    assert (unwind.kind, unwind.instrument_id, unwind.side) == (CompensationKind.UNWIND, IA, OrderSide.SELL)


def test_a_short_compensation_is_retried_after_the_retry_interval_for_what_is_left() -> None:
    p = plan(2, compensation_retry_ms=100)
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0"),
        p=p,
    )
    state = state.apply(comp_sent(state, 0, IA, OrderSide.SELL, "1"))
    state = state.apply(comp_ended(state, 0, "0.6", ts=5_000))
    assert decide(state, 6_000, M) == [WakeAt(5_000 + 100 * MS)]
    [retry] = decide(state, 5_000 + 100 * MS, M)
    assert isinstance(retry, Compensate) and retry.quantity == D("0.4")


def test_compensation_out_of_attempts_ends_unresolved_naming_the_residual() -> None:
    p = plan(2, compensation_attempts=1)
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0"),
        p=p,
    )
    state = state.apply(comp_sent(state, 0, IA, OrderSide.SELL, "1"))
    state = state.apply(comp_ended(state, 0, "0.6"))
    [finish] = decide(state, 10**12, M)
    assert isinstance(finish, Finish) and finish.status is WorkflowStatus.UNRESOLVED
    assert "still to trade: SELL 0.4 BTCUSDT.VENUEA (leg 0)" in finish.reason


def test_an_empty_book_postpones_a_compensation_and_finally_gives_up_on_it() -> None:
    state = state_after(
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0"),
    )
    empty = Market(refs={IA: None})
    assert decide(state, 4_000, empty) == [WakeAt(4_000 + 1_000 * MS)]
    [finish] = decide(state, state.updated_ns + 10 * 1_000 * MS, empty)  # 10 attempts' worth of waiting
    assert isinstance(finish, Finish) and finish.status is WorkflowStatus.UNRESOLVED
    assert "SELL 1 BTCUSDT.VENUEA (leg 0: no price, its book is empty)" in finish.reason


def test_a_lost_attempt_is_sent_again_as_the_next_attempt() -> None:
    state = state_after(lambda s: sent(s, 0), lambda s: sent(s, 1), lambda s: ended(s, 0, "0", lost=True))
    assert SendLeg(0, 2, D("100.0"), 4_000 + 5_000 * MS) in decide(state, 4_000, M)


def test_leg_prices_move_through_the_limit_by_the_slippage_only_and_stay_on_the_tick() -> None:
    inst = M.instrument(IA)
    assert leg_price(inst, OrderSide.BUY, D("100.0"), D("25")) == D(
        "100.2"
    )  # 100.25 rounded towards the limit
    assert leg_price(inst, OrderSide.SELL, D("100.0"), D("25")) == D("99.8")
    assert leg_price(inst, OrderSide.BUY, D("100.0"), D("0")) == D("100.0")
    assert band_price(inst, OrderSide.SELL, D("100.05"), D("50"), None) == D("99.6")
