"""Every legal (status, event) transition of an order is exercised; every other pair is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewright.core.errors import InvalidStateTransition
from tradewright.core.ids import ClientOrderId, StrategyId, TradeId, VenueOrderId
from tradewright.model import (
    TRANSITIONS,
    LiquiditySide,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    OrderUpdated,
    SubmitOrder,
)
from tradewright.testkit import btc_perp

INST = btc_perp()
CID = ClientOrderId("C-1")
EVENT_TYPES: list[type[OrderEvent]] = [
    OrderDenied,
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderCanceled,
    OrderCancelRejected,
    OrderUpdated,
    OrderModifyRejected,
    OrderExpired,
    OrderFilled,
]


def new_order(qty: str = "0.004") -> Order:
    return Order(
        SubmitOrder(
            client_order_id=CID,
            strategy_id=StrategyId("S"),
            instrument_id=INST.id,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal(qty),
            price=Decimal("100.0"),
            ts_init=1,
        )
    )


_fill_seq = iter(range(1, 1_000_000))


def make(cls: type[OrderEvent], qty: str = "0.001", price: str = "100.0") -> OrderEvent:
    common = {"client_order_id": CID, "instrument_id": INST.id, "ts_event": 2, "ts_init": 2}
    extra: dict[str, object] = {
        OrderDenied: {"reason": "r", "message": "m"},
        OrderSubmitted: {
            "strategy_id": StrategyId("S"),
            "side": OrderSide.BUY,
            "order_type": OrderType.LIMIT,
            "quantity": Decimal("0.004"),
            "price": Decimal("100.0"),
        },
        OrderAccepted: {"venue_order_id": VenueOrderId("V1")},
        OrderRejected: {"reason": "r"},
        OrderCancelRejected: {"reason": "r"},
        OrderModifyRejected: {"reason": "r"},
        OrderUpdated: {"quantity": Decimal("0.004"), "price": Decimal("99.9")},
        OrderFilled: {
            "venue_order_id": VenueOrderId("V1"),
            "trade_id": TradeId(f"T{next(_fill_seq)}"),
            "side": OrderSide.BUY,
            "last_px": Decimal(price),
            "last_qty": Decimal(qty),
            "liquidity": LiquiditySide.MAKER,
            "fee": Decimal("0.00002"),
            "fee_currency": "USDT",
        },
    }.get(cls, {})  # type: ignore[assignment]
    return cls(**common, **extra)  # type: ignore[arg-type]


# A path of events that brings a fresh order into each status.
PATHS: dict[OrderStatus, list[type[OrderEvent]]] = {
    OrderStatus.INITIALIZED: [],
    OrderStatus.DENIED: [OrderDenied],
    OrderStatus.SUBMITTED: [OrderSubmitted],
    OrderStatus.ACCEPTED: [OrderSubmitted, OrderAccepted],
    OrderStatus.REJECTED: [OrderSubmitted, OrderRejected],
    OrderStatus.PENDING_CANCEL: [OrderSubmitted, OrderAccepted, OrderPendingCancel],
    OrderStatus.PENDING_UPDATE: [OrderSubmitted, OrderAccepted, OrderPendingUpdate],
    OrderStatus.PARTIALLY_FILLED: [OrderSubmitted, OrderAccepted, OrderFilled],
    OrderStatus.FILLED: [OrderSubmitted, OrderAccepted, OrderFilled, OrderFilled, OrderFilled, OrderFilled],
    OrderStatus.CANCELED: [OrderSubmitted, OrderAccepted, OrderCanceled],
    OrderStatus.EXPIRED: [OrderSubmitted, OrderAccepted, OrderExpired],
}


def order_in(status: OrderStatus) -> Order:
    order = new_order()
    for cls in PATHS[status]:
        order.apply(make(cls))
    assert order.status is status
    return order


LEGAL = sorted(((s, e) for s, e in TRANSITIONS), key=lambda p: (p[0].value, p[1].__name__))
ILLEGAL = [(s, e) for s in OrderStatus for e in EVENT_TYPES if (s, e) not in TRANSITIONS]


def test_every_status_is_reachable_and_covered() -> None:
    assert set(PATHS) == set(OrderStatus)
    assert len(LEGAL) + len(ILLEGAL) == len(OrderStatus) * len(EVENT_TYPES)


@pytest.mark.parametrize(("status", "event_type"), LEGAL, ids=lambda v: getattr(v, "__name__", str(v)))
def test_legal_transition_is_applied(status: OrderStatus, event_type: type[OrderEvent]) -> None:
    order = order_in(status)
    event = make(event_type)
    order.apply(event)
    target = TRANSITIONS[(status, event_type)]
    if isinstance(target, OrderStatus):
        assert order.status is target
    elif event_type is OrderFilled:
        assert order.status in (
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.PENDING_CANCEL,
            OrderStatus.PENDING_UPDATE,
            OrderStatus.FILLED,
        )
        assert order.filled_qty == Decimal("0.001") * (PATHS[status].count(OrderFilled) + 1)
    else:  # back to the status before the pending request
        assert order.status in (OrderStatus.ACCEPTED, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
    assert order.events[-1] is event


@pytest.mark.parametrize(("status", "event_type"), ILLEGAL, ids=lambda v: getattr(v, "__name__", str(v)))
def test_illegal_transition_is_refused_and_leaves_the_order_unchanged(
    status: OrderStatus, event_type: type[OrderEvent]
) -> None:
    order = order_in(status)
    before = (order.status, order.filled_qty, len(order.events))
    with pytest.raises(
        InvalidStateTransition, match=rf"{event_type.__name__} is not allowed in status {status}"
    ):
        order.apply(make(event_type))
    assert (order.status, order.filled_qty, len(order.events)) == before


def test_partial_fills_keep_the_size_weighted_average_price() -> None:
    order = order_in(OrderStatus.ACCEPTED)
    order.apply(make(OrderFilled, qty="0.001", price="100.0"))
    order.apply(make(OrderFilled, qty="0.003", price="101.0"))
    assert order.status is OrderStatus.FILLED
    assert order.avg_px == Decimal("100.75")
    assert order.leaves_qty == 0


def test_fill_racing_a_cancel_then_cancel_reject_returns_to_partially_filled() -> None:
    order = order_in(OrderStatus.PARTIALLY_FILLED)
    order.apply(make(OrderPendingCancel))
    order.apply(make(OrderFilled))
    assert order.status is OrderStatus.PENDING_CANCEL
    order.apply(make(OrderCancelRejected))
    assert order.status is OrderStatus.PARTIALLY_FILLED


def test_an_overfill_is_refused() -> None:
    order = order_in(OrderStatus.ACCEPTED)
    with pytest.raises(InvalidStateTransition, match="overfills"):
        order.apply(make(OrderFilled, qty="0.005"))
    assert order.filled_qty == 0


def test_event_for_another_order_is_refused() -> None:
    order = order_in(OrderStatus.ACCEPTED)
    other = OrderCanceled(client_order_id=ClientOrderId("C-2"), instrument_id=INST.id, ts_event=1, ts_init=1)
    with pytest.raises(InvalidStateTransition, match="C-2"):
        order.apply(other)
