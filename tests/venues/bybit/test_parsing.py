"""Bybit v5 payloads -> our model, on Bybit's recorded v5 payloads (nautilus fixtures, ob500 history)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.conftest import shared_data
from tradewright.core.errors import SequenceGap
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.servers._core import load_frame_lines
from tradewright.venues._ccxt.books import BookRule, Chain, VerifiedBook
from tradewright.venues.bybit import parsing

IID = InstrumentId("XRPUSDT-PERP", Venue("BYBIT"))


def _fixture(name: str) -> dict:
    return json.loads(shared_data(f"venues/bybit/{name}").read_text())


def test_order_topic_push_becomes_the_order_view() -> None:
    (view,) = parsing.pushes(
        _fixture("nautilus_rust/ws_account_order.json"), {"BTCUSDT": IID}, "USDT", ts_init=0
    )
    assert view.order is not None and view.fill is None
    order = view.order
    assert (order.client_order_id, order.venue_order_id, order.status, order.quantity, order.price) == (
        "client-1", "abcdef123456", VenueOrderStatus.CANCELED, Decimal("0.010"), Decimal(30000),
    )  # fmt: skip


def test_execution_push_becomes_an_exact_taker_fill() -> None:
    (view,) = parsing.pushes(
        _fixture("nautilus_py/ws_messages/private/ws_execution.json"), {"XRPUSDT": IID}, "USDT", ts_init=0
    )
    fill = view.fill
    assert fill is not None and view.order is None
    assert (fill.trade_id, fill.last_px, fill.last_qty, fill.fee, fill.side, fill.liquidity) == (
        "7e2ae69c-4edf-5800-a352-893d52b446aa", Decimal("0.3374"), Decimal(25), Decimal("0.005061"), OrderSide.SELL, LiquiditySide.TAKER,
    )  # fmt: skip


def test_realtime_orders_from_rest_are_open_with_their_limit_prices() -> None:
    rows = _fixture("nautilus_rust/http_get_orders_realtime.json")["result"]["list"]
    views = [parsing.order_view(r, IID) for r in rows]
    assert views[0].status is VenueOrderStatus.OPEN and views[0].price == Decimal("3930.41")


def _frames() -> list:
    return [
        f
        for line in load_frame_lines(shared_data("l2/nautilus/bybit_xrpusdt-ob500.data.zip"))
        for f in parsing.book_frames(json.loads(line.text))
    ]


def _book() -> VerifiedBook:
    inst = parsing.instrument_from_row(
        {"symbol": "XRPUSDT", "baseCoin": "XRP", "quoteCoin": "USDT", "priceFilter": {"tickSize": "0.0001"},
         "lotSizeFilter": {"qtyStep": "1", "minOrderQty": "1"}}, IID, maker_fee=Decimal(0), taker_fee=Decimal(0),
    )  # fmt: skip
    return VerifiedBook(inst, BookRule(chain=Chain.PREV))


def test_every_recorded_delta_continues_the_u_chain() -> None:
    book = _book()
    frames = _frames()
    assert frames[0].snapshot and not any(f.snapshot for f in frames[1:])
    for f in frames:
        assert book.apply(f) == [f]
    assert book.store.book.best_bid is not None


def test_a_missing_delta_breaks_the_chain() -> None:
    book = _book()
    frames = _frames()
    book.apply(frames[0])
    book.apply(frames[1])
    with pytest.raises(SequenceGap):
        book.apply(frames[3])
