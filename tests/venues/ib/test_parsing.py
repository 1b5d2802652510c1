"""Pure IB translations: exact prices from ib-async's floats, our orders as IB order fields, IB's
statuses in our terms, and contracts as instruments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, StrategyId
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderType, TimeInForce
from tradewright.model.instrument import InstrumentKind
from tradewright.model.orders import Order
from tradewright.testkit import es_future
from tradewright.venues.ib.parsing import exact, ib_order_fields, instrument_of, venue_order_status
from tradewright.venues.ib.schemas import IbContract

D = Decimal
ES = es_future()


def order(**kw: object) -> Order:
    fields: dict[str, object] = {
        "client_order_id": ClientOrderId("O-S-1"), "strategy_id": StrategyId("S"), "instrument_id": ES.id,
        "side": OrderSide.SELL, "order_type": OrderType.LIMIT, "quantity": D(2), "price": D("4800.25"), "ts_init": 0,
    }
    fields.update(kw)
    return Order(SubmitOrder(**fields))  # type: ignore[arg-type]


def test_floats_from_ib_come_back_exactly_on_the_grid_and_off_grid_values_are_refused() -> None:
    assert exact(1.10715, D("0.00005"), "price") == D("1.10715")
    assert str(exact(1.1072, D("0.00005"), "price")) == "1.10720"
    assert str(exact(3.0, D(1), "size")) == "3"
    with pytest.raises(VenueError, match=r"1\.10713, which is not on the grid of 0\.00005"):
        exact(1.10713, D("0.00005"), "price")
    with pytest.raises(VenueError, match="IB sent price '', which is not a number"):
        exact(float("nan"), D("0.25"), "price")  # IB's "no value"


def test_orders_become_ib_fields_with_the_client_order_id_as_order_ref() -> None:
    fields = ib_order_fields(order())
    assert fields == {
        "action": "SELL", "totalQuantity": 2.0, "orderType": "LMT", "tif": "GTC", "orderRef": "O-S-1", "lmtPrice": 4800.25,
    }
    stop = ib_order_fields(order(order_type=OrderType.STOP_MARKET, price=None, trigger_price=D("4790.00")))
    assert (stop["orderType"], stop["auxPrice"]) == ("STP", 4790.0)
    gtd = ib_order_fields(order(time_in_force=TimeInForce.GTD, expire_ns=1_704_153_600_000_000_000))
    assert (gtd["tif"], gtd["goodTillDate"]) == ("GTD", "20240102 00:00:00 UTC")
    oca = ib_order_fields(order(oca_group="G1"))
    assert (oca["ocaGroup"], oca["ocaType"]) == ("G1", 2)
    with pytest.raises(VenueError, match="no post-only orders"):
        ib_order_fields(order(post_only=True))


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        ("Submitted", "0", VenueOrderStatus.OPEN),
        ("PreSubmitted", "1", VenueOrderStatus.OPEN),
        ("Filled", "2", VenueOrderStatus.FILLED),
        ("Cancelled", "1", VenueOrderStatus.CANCELED),
        ("ApiCancelled", "0", VenueOrderStatus.CANCELED),
        ("Inactive", "0", VenueOrderStatus.REJECTED),
        ("Inactive", "1", VenueOrderStatus.CANCELED),
    ],
)
def test_ib_statuses_map_onto_ours(status: str, filled: str, expected: VenueOrderStatus) -> None:
    assert venue_order_status(status, D(filled), D(2)) is expected


def test_a_stock_contract_becomes_a_spot_instrument_with_exchange_hours() -> None:
    contract = IbContract(
        con_id=1, symbol="AAPL", sec_type="STK", last_trade="", multiplier="", exchange="SMART", primary_exchange="NASDAQ",
        currency="USD", local_symbol="AAPL", trading_class="NMS", min_tick="0.01", long_name="APPLE INC",
        time_zone="US/Eastern", trading_hours="", liquid_hours="",
    )
    inst = instrument_of(contract, "IB")
    assert (str(inst.id), inst.kind, inst.tick_size, inst.multiplier) == ("AAPL.IB", InstrumentKind.SPOT, D("0.01"), D(1))
    assert [s.name for s in inst.sessions] == ["rth", "extended"]
