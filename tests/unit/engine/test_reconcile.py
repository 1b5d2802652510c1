"""Reconciliation rules, from events alone: a venue's view of our orders and account against ours."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from tradewright.core.ids import ClientOrderId, TradeId, VenueOrderId
from tradewright.engine.reconcile import (
    ApplyEvent,
    CancelUnknownOrder,
    CorrectBalance,
    CorrectPosition,
    HaltInstrument,
    ReconcileConfig,
    ReportUnknownOrder,
    ResendCancel,
    drift_threshold,
    reconcile_account,
    reconcile_orders,
    resolve_order,
)
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus, VenuePosition
from tradewright.model import LiquiditySide, OrderFilled, OrderSide
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderStatus, OrderType
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderPendingCancel,
    OrderRejected,
    OrderSubmitted,
)
from tradewright.model.orders import Order
from tradewright.testkit import btc_perp

INST = btc_perp()
IID = INST.id
NOW = 9_000_000_000
CONFIG = ReconcileConfig()


def order(cid: str = "O-S-1", qty: str = "0.010", *events: OrderEvent) -> Order:
    command = SubmitOrder(
        ts_init=1,
        client_order_id=ClientOrderId(cid),
        strategy_id="S",  # type: ignore[arg-type]
        instrument_id=IID,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(qty),
        price=Decimal("100.0"),
    )
    o = Order(command)
    o.apply(
        OrderSubmitted(
            client_order_id=command.client_order_id,
            instrument_id=IID,
            strategy_id=command.strategy_id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=command.quantity,
            price=command.price,
            ts_event=2,
            ts_init=2,
        )
    )
    for event in events:
        o.apply(event)
    return o


def acked(cid: str = "O-S-1", venue_id: str = "77") -> OrderAccepted:
    return OrderAccepted(
        client_order_id=ClientOrderId(cid),
        instrument_id=IID,
        venue_order_id=VenueOrderId(venue_id),
        ts_event=3,
        ts_init=3,
    )


def fill(trade: str, qty: str, cid: str = "O-S-1", px: str = "100.0", ts: int = 5) -> OrderFilled:
    return OrderFilled(
        client_order_id=ClientOrderId(cid),
        instrument_id=IID,
        venue_order_id=VenueOrderId("77"),
        trade_id=TradeId(trade),
        side=OrderSide.BUY,
        last_px=Decimal(px),
        last_qty=Decimal(qty),
        liquidity=LiquiditySide.MAKER,
        fee=Decimal("0.002"),
        fee_currency="USDT",
        ts_event=ts,
        ts_init=ts,
    )


def venue(
    status: VenueOrderStatus, filled: str = "0", cid: str = "O-S-1", qty: str = "0.010", venue_id: str = "77"
) -> VenueOrder:
    return VenueOrder(
        client_order_id=ClientOrderId(cid),
        venue_order_id=VenueOrderId(venue_id),
        instrument_id=IID,
        side=OrderSide.BUY,
        status=status,
        quantity=Decimal(qty),
        filled_qty=Decimal(filled),
        price=Decimal("100.0"),
        ts_ns=7,
    )


def events_of(actions: list[object]) -> list[str]:
    names = []
    for a in actions:
        assert isinstance(a, ApplyEvent), a
        names.append(type(a.event).__name__)
    return names


def replayed(o: Order, actions: list[object]) -> Order:
    for a in actions:
        assert isinstance(a, ApplyEvent)
        o.apply(a.event)
    return o


# --- orders --------------------------------------------------------------------------------------
def test_an_intent_the_venue_never_received_is_marked_rejected_naming_the_re_query() -> None:
    local = order()

    actions = resolve_order(local, None, [], NOW)

    (action,) = actions
    assert isinstance(action, ApplyEvent) and isinstance(action.event, OrderRejected)
    assert action.event.reason == "not_found_at_venue"
    assert "re-queried by its client order id" in action.event.message
    assert replayed(local, actions).status is OrderStatus.REJECTED


def test_an_order_acknowledged_once_but_unknown_now_is_marked_canceled() -> None:
    local = order("O-S-1", "0.010", acked())

    (action,) = resolve_order(local, None, [], NOW)

    assert isinstance(action, ApplyEvent) and isinstance(action.event, OrderCanceled)
    assert "acknowledged as 77" in action.event.reason


def test_an_ack_that_was_never_stored_is_applied() -> None:
    actions = resolve_order(order(), venue(VenueOrderStatus.OPEN), [], NOW)

    assert events_of(actions) == ["OrderAccepted"]
    assert replayed(order(), actions).venue_order_id == "77"


def test_missed_fills_are_applied_once_in_trade_order_and_stored_ones_are_skipped() -> None:
    local = order("O-S-1", "0.010", acked(), fill("9", "0.002"))
    view = venue(VenueOrderStatus.FILLED, filled="0.010")
    fills = [
        fill("11", "0.005", ts=6),
        fill("10", "0.003", ts=6),
        fill("9", "0.002"),
        fill("10", "0.003", ts=6),
    ]

    actions = resolve_order(local, view, fills, NOW)

    assert [a.event.trade_id for a in actions if isinstance(a, ApplyEvent)] == ["10", "11"]  # type: ignore[attr-defined]
    done = replayed(local, actions)
    assert (done.status, done.filled_qty) == (OrderStatus.FILLED, Decimal("0.010"))


def test_a_cancel_the_store_missed_is_applied_after_the_fills_before_it() -> None:
    local = order("O-S-1", "0.010", acked())

    actions = resolve_order(
        local, venue(VenueOrderStatus.CANCELED, filled="0.004"), [fill("5", "0.004")], NOW
    )

    assert events_of(actions) == ["OrderFilled", "OrderCanceled"]
    done = replayed(local, actions)
    assert (done.status, done.filled_qty) == (OrderStatus.CANCELED, Decimal("0.004"))


def test_an_order_sent_then_expired_at_the_venue_without_any_ack_stored_ends_expired() -> None:
    actions = resolve_order(order(), venue(VenueOrderStatus.EXPIRED), [], NOW)

    assert events_of(actions) == ["OrderAccepted", "OrderExpired"]
    assert isinstance(actions[-1], ApplyEvent) and isinstance(actions[-1].event, OrderExpired)


def test_a_recorded_cancel_the_venue_never_saw_is_sent_again() -> None:
    pending = OrderPendingCancel(
        client_order_id=ClientOrderId("O-S-1"), instrument_id=IID, ts_event=4, ts_init=4
    )
    local = order("O-S-1", "0.010", acked(), pending)

    actions = resolve_order(local, venue(VenueOrderStatus.OPEN), [], NOW)

    assert actions == [ResendCancel(ClientOrderId("O-S-1"), actions[0].reason)]  # type: ignore[union-attr]


def test_fills_that_do_not_add_up_to_the_venues_filled_size_halt_the_instrument() -> None:
    local = order("O-S-1", "0.010", acked())

    (action,) = resolve_order(local, venue(VenueOrderStatus.OPEN, filled="0.006"), [fill("1", "0.002")], NOW)

    assert isinstance(action, HaltInstrument) and action.instrument_id == IID
    assert "reports 0.006 filled" in action.reason and "0.002" in action.reason


def test_a_fill_that_would_overfill_the_order_halts_instead_of_raising() -> None:
    local = order("O-S-1", "0.010", acked(), fill("1", "0.008"))

    (action,) = resolve_order(
        local, venue(VenueOrderStatus.FILLED, filled="0.010"), [fill("2", "0.004")], NOW
    )

    assert isinstance(action, HaltInstrument) and "overfills" in action.reason


def test_orders_working_at_the_venue_but_not_open_here_are_cancelled_or_reported() -> None:
    stranger = venue(VenueOrderStatus.OPEN, cid="manual-1", venue_id="99")
    mine = order()

    actions = reconcile_orders(
        {mine.client_order_id: mine}, {}, {}, [stranger, venue(VenueOrderStatus.OPEN)], CONFIG, NOW
    )
    reported = reconcile_orders({}, {}, {}, [stranger], ReconcileConfig(cancel_unknown_orders=False), NOW)

    assert [type(a) for a in actions] == [CancelUnknownOrder]
    assert "manual-1" in actions[0].reason  # type: ignore[union-attr]
    assert [type(a) for a in reported] == [ReportUnknownOrder]


def test_an_order_without_a_venue_view_is_left_alone() -> None:
    mine = order()

    assert reconcile_orders({mine.client_order_id: mine}, {}, {}, [], CONFIG, NOW) == []


# --- positions -----------------------------------------------------------------------------------
def snapshot(
    qty: str | None, *, as_of: int = 100, cash: dict[str, str] | None = None, entry: str = "100.0"
) -> AccountSnapshot:
    positions = {} if qty is None else {IID: VenuePosition(IID, Decimal(qty), Decimal(entry))}
    return AccountSnapshot(
        as_of_ns=as_of, positions=positions, balances={k: Decimal(v) for k, v in (cash or {}).items()}
    )


def account(
    local: str,
    snap: AccountSnapshot,
    fills: Sequence[OrderFilled] = (),
    cash: dict[str, str] | None = None,
    config: ReconcileConfig = CONFIG,
) -> list[object]:
    return list(
        reconcile_account(
            {IID: INST},
            {IID: Decimal(local)},
            {k: Decimal(v) for k, v in (cash or {}).items()},
            fills,
            snap,
            config,
        )
    )


def test_equal_positions_need_nothing() -> None:
    assert account("0.010", snapshot("0.010")) == []
    assert account("0", snapshot(None)) == []


def test_a_drift_within_one_lot_is_corrected_to_the_venues_position() -> None:
    (action,) = account("0.010", snapshot("0.011", entry="101.5"))

    assert isinstance(action, CorrectPosition)
    assert (action.local, action.venue, action.drift, action.quantity, action.price) == (
        Decimal("0.010"),
        Decimal("0.011"),
        Decimal("0.001"),
        Decimal("0.011"),
        Decimal("101.5"),
    )
    assert action.threshold == INST.lot_size


def test_a_drift_above_the_threshold_halts_the_instrument_naming_the_figures() -> None:
    (action,) = account("0.010", snapshot("0.060"))

    assert isinstance(action, HaltInstrument) and action.instrument_id == IID
    assert "the venue holds 0.060, this node 0.010" in action.reason
    assert "drift +0.050" in action.reason and "threshold 0.001" in action.reason


@pytest.mark.parametrize(
    ("venue_qty", "kind"), [("1.040", CorrectPosition), ("0.950", CorrectPosition), ("1.051", HaltInstrument)]
)
def test_the_threshold_is_five_percent_of_a_large_position(venue_qty: str, kind: type) -> None:
    (action,) = account("1.000", snapshot(venue_qty))

    assert isinstance(action, kind)
    assert drift_threshold(INST, Decimal("1.000"), CONFIG) == Decimal("0.05")


def test_the_threshold_is_configurable() -> None:
    strict = ReconcileConfig(drift_pct=Decimal(0), drift_lots=0)
    (action,) = account("0.010", snapshot("0.011"), config=strict)
    assert isinstance(action, HaltInstrument)


def test_fills_after_the_snapshot_are_not_mistaken_for_drift() -> None:
    late = fill("8", "0.004", ts=150)  # applied here, not yet in the venue's figures
    early = fill("7", "0.006", ts=90)

    actions = account(
        "0.010",
        snapshot("0.006", as_of=100, cash={"USDT": "999.398"}),
        [early, late],
        cash={"USDT": "998.996"},
    )

    assert actions == []


def test_a_cash_difference_beyond_the_tolerance_is_corrected_to_the_venues() -> None:
    (action,) = account("0", snapshot(None, cash={"USDT": "10000"}), cash={"USDT": "9995.5"})
    quiet = account("0", snapshot(None, cash={"USDT": "10000.00005"}), cash={"USDT": "10000"})

    assert isinstance(action, CorrectBalance)
    assert (action.currency, action.local, action.venue, action.amount) == (
        "USDT",
        Decimal("9995.5"),
        Decimal("10000"),
        Decimal("10000.0"),
    )
    assert quiet == []


def test_a_first_start_takes_the_venues_balances() -> None:
    (action,) = account("0", snapshot(None, cash={"USDT": "100000"}))

    assert isinstance(action, CorrectBalance) and action.amount == Decimal(100000)
