"""Bitget v2 payloads -> our model: the recorded 2022 book frames (as the server transcodes them) pass our
CRC32 check; order and fill payloads in Bitget's documented v2 shape."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.servers.support import recording
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.checksum import ChecksumRule
from tradewright.model.enums import LiquiditySide
from tradewright.servers.bitget.public import bitget_events, products, symbols_body
from tradewright.venues._ccxt.books import BookRule, VerifiedBook
from tradewright.venues.bitget import parsing

IID = InstrumentId("EOSUSDT", Venue("BITGET"))


def _instrument():  # type: ignore[no-untyped-def]
    rows = json.loads(symbols_body(products(recording("bitget")), 0))["data"]
    row = next(r for r in rows if r["symbol"] == "EOSUSDT")
    return parsing.instrument_from_symbol(row, IID, maker_fee=None, taker_fee=None)


def test_v2_symbol_row_gives_the_recorded_grid_and_fees() -> None:
    inst = _instrument()
    assert (inst.tick_size, inst.lot_size, inst.maker_fee, inst.taker_fee) == (
        Decimal("0.0001"),
        Decimal("0.0001"),
        Decimal("0.002"),
        Decimal("0.002"),
    )


def test_every_recorded_eos_books_frame_passes_our_checksum_check() -> None:
    book = VerifiedBook(_instrument(), BookRule(checksum=ChecksumRule.BITGET))
    checked = 0
    for ev in bitget_events(recording("bitget")):
        if ev.topic == "books:EOSUSDT":
            for frame in parsing.book_frames(ev.payload):
                book.apply(frame)
                checked += frame.checksum is not None
    assert checked > 40 and book.synced


def test_orders_push_with_a_fill_and_the_fills_row_agree() -> None:
    push = {"arg": {"instType": "SPOT", "channel": "orders", "instId": "default"}, "data": [{
        "instId": "EOSUSDT", "orderId": "9", "clientOid": "c9", "price": "2.44", "size": "10", "orderType": "limit",
        "side": "buy", "status": "partially_filled", "accBaseVolume": "4", "baseVolume": "4", "tradeId": "77",
        "fillPrice": "2.44", "fillFee": "-0.00976", "fillFeeCoin": "USDT", "fillTime": "1649290077000", "tradeScope": "taker",
        "uTime": "1649290077000"}]}  # fmt: skip
    (view,) = parsing.pushes(push, {"EOSUSDT": IID}, ts_init=0)
    assert (
        view.order is not None
        and view.order.status is VenueOrderStatus.OPEN
        and view.order.filled_qty == Decimal(4)
    )
    assert view.fill is not None and (
        view.fill.trade_id,
        view.fill.last_qty,
        view.fill.fee,
        view.fill.liquidity,
    ) == ("77", Decimal(4), Decimal("0.00976"), LiquiditySide.TAKER)
    row = {"orderId": "9", "tradeId": "77", "symbol": "EOSUSDT", "side": "buy", "priceAvg": "2.44", "size": "4",
           "feeDetail": {"feeCoin": "USDT", "totalFee": "-0.00976"}, "tradeScope": "taker", "cTime": "1649290077000"}  # fmt: skip
    fill = parsing.fill_of(row, IID, ts_init=0)
    assert (fill.trade_id, fill.last_px, fill.last_qty, fill.fee) == (
        view.fill.trade_id,
        view.fill.last_px,
        view.fill.last_qty,
        view.fill.fee,
    )
