"""OKX payloads -> our model, on OKX's recorded payloads (nautilus fixtures and the 2022 recording)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.conftest import shared_data
from tests.servers.support import recording
from tradewright.core.errors import VenueError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.checksum import ChecksumRule
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.instrument import InstrumentKind
from tradewright.venues._ccxt.books import BookRule, Chain, VerifiedBook
from tradewright.venues.okx import parsing

IID = InstrumentId("BTC-USDT-SWAP", Venue("OKX"))


def _fixture(name: str) -> dict:
    return json.loads(shared_data(f"venues/okx/nautilus_rust/{name}").read_text())


def test_orders_push_with_a_fill_becomes_the_order_view_and_an_exact_fill() -> None:
    msg = _fixture("ws_orders.json")
    (view,) = parsing.pushes(msg, {"BTC-USDT-SWAP": IID}, ts_init=7)
    order = view.order
    assert (order.client_order_id, order.venue_order_id, order.status) == (
        "001BTCUSDT20250106001",
        "2497956918703120384",
        VenueOrderStatus.FILLED,
    )
    assert (order.quantity, order.filled_qty, order.price) == (
        Decimal("0.03"),
        Decimal("0.03"),
        None,
    )  # a market order
    fill = view.fill
    assert fill is not None
    assert (fill.trade_id, fill.last_px, fill.last_qty, fill.side, fill.liquidity) == (
        "1518905529", Decimal("103698.9"), Decimal("0.03"), OrderSide.BUY, LiquiditySide.MAKER,
    )  # fmt: skip
    assert fill.ts_event == 1746947317402 * 1_000_000


def test_pending_order_from_rest_is_open_with_its_limit_price() -> None:
    (raw,) = _fixture("http_get_orders_pending.json")["data"]
    view = parsing.order_view(raw, IID)
    assert (view.status, view.price, view.quantity, view.filled_qty) == (
        VenueOrderStatus.OPEN,
        Decimal("103500"),
        Decimal("0.10"),
        Decimal(0),
    )


def test_pushes_for_markets_we_do_not_trade_are_ignored_and_malformed_orders_are_named() -> None:
    assert parsing.pushes(_fixture("ws_orders.json"), {}, ts_init=0) == []
    bad = dict(_fixture("http_get_orders_pending.json")["data"][0], state="teleported")
    with pytest.raises(VenueError, match="unknown order state 'teleported'"):
        parsing.order_view(bad, IID)


def test_instrument_rows_keep_the_exact_grid_and_contract_value() -> None:
    rows = {
        json.loads(r.body)["data"][0]["instType"]: json.loads(r.body)["data"] for r in recording("okx").http
    }
    spot = next(r for r in rows["SPOT"] if r["instId"] == "BTC-USDT")
    inst = parsing.instrument_from_row(
        spot, InstrumentId("BTC-USDT", Venue("OKX")), maker_fee=Decimal("0.0008"), taker_fee=Decimal("0.001")
    )
    assert (inst.kind, inst.tick_size, inst.lot_size, inst.min_size) == (
        InstrumentKind.SPOT,
        Decimal("0.1"),
        Decimal("1E-8"),
        Decimal("0.00001"),
    )
    swap = next(r for r in rows["SWAP"] if r["instId"] == "UNI-USD-SWAP")
    inv = parsing.instrument_from_row(
        swap, InstrumentId("UNI-USD-SWAP", Venue("OKX")), maker_fee=Decimal(0), taker_fee=Decimal(0)
    )
    assert (inv.kind, inv.multiplier, inv.inverse, inv.settle) == (
        InstrumentKind.PERPETUAL,
        Decimal(10),
        True,
        "UNI",
    )


def test_every_recorded_books_frame_passes_our_checksum_check() -> None:
    (session,) = recording("okx").sessions_matching("/ws/v5/public")
    books: dict[str, VerifiedBook] = {}
    checked = 0
    for frame in session.frames:
        for bf in parsing.book_frames(json.loads(frame.text)):
            book = books.get(bf.market_id)
            if book is None:
                inst = parsing.instrument_from_row(
                    {"instId": bf.market_id, "instType": "SPOT", "tickSz": "0.001", "lotSz": "0.00000001", "minSz": "0", "baseCcy": "", "quoteCcy": ""},
                    InstrumentId(bf.market_id, Venue("OKX")), maker_fee=Decimal(0), taker_fee=Decimal(0),
                )  # fmt: skip
                book = books[bf.market_id] = VerifiedBook(inst, BookRule(ChecksumRule.OKX, Chain.PREV, 400))
            book.apply(bf)
            checked += bf.checksum is not None
    assert checked == 290


def test_account_snapshot_reads_cash_per_currency() -> None:
    (row,) = _fixture("http_get_account_balance.json")["data"]
    snap = parsing.account_snapshot(row, [], {})
    assert snap.balances == {"USDT": Decimal("94.42612990333333")}
