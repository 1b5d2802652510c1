"""Brackets: an entry with its stop and target as linked contingent orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewright.core.errors import InvalidOrderError
from tradewright.core.ids import ClientOrderId, StrategyId
from tradewright.model.bracket import child_quantity, make_bracket, oca_group_of
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderType
from tradewright.model.orders import Order
from tradewright.testkit import es_future

D = Decimal
ES = es_future()


def entry(side: OrderSide = OrderSide.BUY, price: str | None = "4800.00", qty: str = "3") -> SubmitOrder:
    return SubmitOrder(
        client_order_id=ClientOrderId("E1"),
        strategy_id=StrategyId("S"),
        instrument_id=ES.id,
        side=side,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=D(qty),
        price=None if price is None else D(price),
        ts_init=1,
    )


def test_a_bracket_links_its_stop_and_target_to_the_entry_in_one_oca_group() -> None:
    b = make_bracket(
        entry(), stop_id=ClientOrderId("S1"), stop_price=D("4790.00"),
        target_id=ClientOrderId("T1"), target_price=D("4820.00"),
    )
    assert [c.client_order_id for c in b.commands] == ["E1", "S1", "T1"]
    assert b.stop.parent_order_id == b.target.parent_order_id == "E1"  # type: ignore[union-attr]
    assert b.stop.oca_group == b.target.oca_group == oca_group_of(ClientOrderId("E1"))  # type: ignore[union-attr]
    assert (b.stop.side, b.stop.order_type, b.stop.trigger_price) == (OrderSide.SELL, OrderType.STOP_MARKET, D("4790.00"))
    # The links survive into the orders the engine keeps.
    order = Order(b.stop)
    assert (order.parent_order_id, order.oca_group) == ("E1", "OCA-E1")


@pytest.mark.parametrize(
    ("side", "stop", "target", "message"),
    [
        (OrderSide.BUY, "4805.00", "4820.00", "the stop 4805.00 must be below the entry 4800.00"),
        (OrderSide.BUY, "4790.00", "4795.00", "the target 4795.00 must be above the entry 4800.00"),
        (OrderSide.SELL, "4790.00", "4780.00", "the stop 4790.00 must be above the entry 4800.00"),
    ],
)
def test_a_bracket_with_its_stop_or_target_on_the_wrong_side_is_refused(
    side: OrderSide, stop: str, target: str, message: str
) -> None:
    with pytest.raises(InvalidOrderError, match=message):
        make_bracket(
            entry(side), stop_id=ClientOrderId("S1"), stop_price=D(stop),
            target_id=ClientOrderId("T1"), target_price=D(target),
        )


def test_a_market_entry_bracket_still_keeps_the_target_beyond_the_stop() -> None:
    with pytest.raises(InvalidOrderError, match="beyond the stop"):
        make_bracket(
            entry(price=None), stop_id=ClientOrderId("S1"), stop_price=D("4790.00"),
            target_id=ClientOrderId("T1"), target_price=D("4780.00"),
        )


def test_an_order_cannot_be_its_own_parent() -> None:
    with pytest.raises(InvalidOrderError, match="its own parent"):
        SubmitOrder(
            client_order_id=ClientOrderId("X"), strategy_id=StrategyId("S"), instrument_id=ES.id,
            side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=D(1), parent_order_id=ClientOrderId("X"),
            ts_init=0,
        )


def test_children_work_for_the_share_of_the_entry_that_has_filled() -> None:
    assert child_quantity(D(10), D(10), D(3)) == D(3)  # 30 % filled: the stop covers 3
    assert child_quantity(D(10), D(10), D(10)) == D(10)
    assert child_quantity(D(5), D(10), D(4)) == D(2)  # a half-size target: half of what filled
