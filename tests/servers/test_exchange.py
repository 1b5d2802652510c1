"""The private order simulator every local server shares: matching through tradewright.sim, exact money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.columnar import KIND_CLEAR, KIND_DELTA, StreamBuilder
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.servers._core import (
    Account,
    Exchange,
    MarketKind,
    OrderChange,
    OrderRefused,
    SimMarket,
    Status,
)

D = Decimal


def _exchange() -> tuple[Exchange, list[OrderChange]]:
    inst = Instrument(
        id=InstrumentId("BTC-USDT", Venue("TEST")), kind=InstrumentKind.SPOT, base="BTC", quote="USDT",
        settle="USDT", tick_size=D("0.1"), lot_size=D("0.001"), maker_fee=D("0.001"), taker_fee=D("0.002"),
    )  # fmt: skip
    acc = Account("k", "s")
    acc.balance("USDT").total = D(10_000)
    acc.balance("BTC").total = D(1)
    ex = Exchange("test", [SimMarket("BTC-USDT", MarketKind.SPOT, inst, "BTC", "USDT", "USDT")], [acc])
    b = StreamBuilder(inst)
    b.add(1, 1, KIND_CLEAR, 0, 0, 0, 0)
    for side, tick, lots in ((1, 1000, 2000), (1, 999, 5000), (-1, 1001, 1500), (-1, 1002, 4000)):
        b.add(1, 1, KIND_DELTA, side, tick, lots, 0)
    b.end_message()
    stream = b.build()
    ex.on_rows(stream, 0, len(stream), 1_000_000_000)
    changes: list[OrderChange] = []
    ex.listeners.append(changes.append)
    return ex, changes


def test_a_buy_through_the_ask_fills_what_is_there_as_taker_and_rests_the_rest() -> None:
    ex, changes = _exchange()
    order = ex.place("k", "BTC-USDT", "buy", "limit", D("2.5"), D("100.1"), client_id="c1")
    assert [c.kind for c in changes] == ["new", "fill"]
    fill = changes[1].fill
    assert fill is not None and (fill.price, fill.qty, fill.maker) == (D("100.1"), D("1.5"), False)
    assert fill.fee == D("100.1") * D("1.5") * D("0.002")
    assert order.status is Status.PARTIALLY_FILLED and order.leaves == D("1.0")
    usdt, btc = ex.accounts["k"].balance("USDT"), ex.accounts["k"].balance("BTC")
    assert btc.total == D("2.5")
    assert usdt.total == D(10_000) - D("100.1") * D("1.5") - fill.fee
    assert usdt.locked == D("100.1") * D("1.0")  # what the resting rest may still spend
    ex.cancel(order)
    assert order.status is Status.CANCELED and changes[-1].kind == "canceled"
    assert usdt.locked == 0


def test_refusals_name_the_reason_and_leave_no_order_behind() -> None:
    ex, _ = _exchange()
    with pytest.raises(OrderRefused) as exc:
        ex.place("k", "BTC-USDT", "buy", "limit", D("1"), D("100.2"), tif="POST_ONLY")
    assert exc.value.reason == "post_only_would_take"
    with pytest.raises(OrderRefused, match="tick grid") as exc:
        ex.place("k", "BTC-USDT", "buy", "limit", D("1"), D("99.95"))
    assert exc.value.reason == "off_grid"
    with pytest.raises(OrderRefused) as exc:
        ex.place("k", "BTC-USDT", "buy", "limit", D("200"), D("99"))
    assert exc.value.reason == "insufficient_funds"
    assert ex.orders == {}
    assert ex.accounts["k"].balance("USDT").locked == 0


def test_amend_keeps_the_order_id_and_moves_the_locked_funds() -> None:
    ex, changes = _exchange()
    order = ex.place("k", "BTC-USDT", "buy", "limit", D("1"), D("99"), client_id="c2")
    ex.amend(order, D("99.5"), D("2"))
    assert (order.order_id, order.price, order.qty, order.amends) == ("1", D("99.5"), D("2"), 1)
    assert changes[-1].kind == "amended"
    assert ex.accounts["k"].balance("USDT").locked == D("199.0")
    with pytest.raises(OrderRefused) as exc:
        ex.amend(order, D("100.2"), None)
    assert exc.value.reason == "would_cross"
