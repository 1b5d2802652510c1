"""A fill is booked only if it can be true of its order: priced > 0 and on the grid, at or inside the
order's limit, no larger than what is left. Anything else is refused before the journal sees it (so it is
never a "state store failed"), nothing moves, and the violation is handed on with its reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.engine.test_commit_first import INST, ack, buy, fill, make_kernel
from tradewright.core.ids import ClientOrderId
from tradewright.engine.order_manager import fill_violation
from tradewright.model import OrderFilled, OrderSide
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderStatus, OrderType
from tradewright.model.orders import Order
from tradewright.testkit.journal import InMemoryJournal


def _kernel_with_a_buy(price: str = "100.0") -> tuple[object, InMemoryJournal, ClientOrderId, list[str]]:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    violations: list[str] = []
    kernel.orders.instruments = kernel.instruments
    kernel.orders.on_violation = lambda order, event, why: violations.append(why)
    cid = buy(strategy, qty="0.010", price=price)
    kernel.on_venue_event(ack(cid))
    return kernel, journal, cid, violations


@pytest.mark.parametrize(
    ("px", "qty", "why"),
    [
        ("-5", "0.004", "must be > 0"),
        ("0", "0.004", "must be > 0"),
        ("1E+30", "0.004", "beyond the BUY order's limit"),
        ("99.95", "0.004", "off the grid"),
        ("100.1", "0.004", "beyond the BUY order's limit 100.0"),
        ("100.0", "0.011", "more than the 0.010 left"),
        ("100.0", "0.0045", "off the grid"),
        ("NaN", "0.004", "is not a number"),
        ("100.0", "sNaN", "is not a number"),
        ("100.0", "Infinity", "is not a number"),
    ],
)
def test_an_impossible_fill_is_not_booked_not_recorded_and_is_reported(px: str, qty: str, why: str) -> None:
    kernel, journal, cid, violations = _kernel_with_a_buy()
    recorded = len(journal.records)

    kernel.on_venue_event(fill(cid, "t1", qty, px=px))  # type: ignore[attr-defined]

    order = kernel.orders.get(cid)  # type: ignore[attr-defined]
    assert order is not None and order.filled_qty == 0 and order.status is OrderStatus.ACCEPTED
    assert kernel.portfolio.find_position(INST.id) is None  # type: ignore[attr-defined]
    assert len(journal.records) == recorded  # nothing reached the store
    assert kernel.store_failure is None  # type: ignore[attr-defined]
    assert len(violations) == 1 and why in violations[0]


def test_a_fill_at_or_inside_the_limit_is_booked_and_a_repeat_is_a_duplicate_not_a_violation() -> None:
    kernel, _, cid, violations = _kernel_with_a_buy()

    kernel.on_venue_event(fill(cid, "t1", "0.004", px="99.9"))  # type: ignore[attr-defined]
    kernel.on_venue_event(fill(cid, "t1", "0.004", px="99.9"))  # type: ignore[attr-defined]
    kernel.on_venue_event(fill(cid, "t2", "0.006", px="100.0"))  # type: ignore[attr-defined]

    order = kernel.orders.get(cid)  # type: ignore[attr-defined]
    assert order is not None and order.status is OrderStatus.FILLED and order.filled_qty == Decimal("0.010")
    assert violations == []


def test_a_sell_must_fill_at_or_above_its_limit_and_a_market_order_has_no_limit() -> None:
    kernel, _, strategy = make_kernel()
    sell = strategy.ctx.submit(INST.id, OrderSide.SELL, Decimal("0.010"), Decimal("100.0"))
    order = kernel.orders.get(sell)
    assert order is not None
    low = OrderFilled(**{**_fields(fill(sell, "t1", "0.004", px="99.9")), "side": OrderSide.SELL})

    assert "beyond the SELL order's limit" in str(fill_violation(order, low, INST))
    market = Order(_market_command(order))
    assert fill_violation(market, low, INST) is None


def _fields(event: OrderFilled) -> dict[str, object]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


def _market_command(order: Order) -> SubmitOrder:
    return SubmitOrder(
        ts_init=0,
        client_order_id=ClientOrderId("M"),
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        side=OrderSide.SELL,
        order_type=OrderType.MARKET,
        quantity=Decimal("0.010"),
    )
