"""Kraken payloads -> our model: AssetPairs rows, the v1 recording as the server transcodes it to v2
(every checksum recomputed and verified by the adapter's rule), and Kraken's REST order/trade rows."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.conftest import shared_data
from tests.servers.support import recording
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.checksum import ChecksumRule
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.servers._core import StringBook
from tradewright.servers.kraken.public import BookWindow, apply_v1, book_frame, checksum, kraken_events, pairs
from tradewright.venues._ccxt.books import BookRule, VerifiedBook
from tradewright.venues.kraken import parsing

IID = InstrumentId("XMRUSD", Venue("KRAKEN"))


def _instrument():  # type: ignore[no-untyped-def]
    (r,) = recording("kraken").http_matching("/0/public/AssetPairs")
    return parsing.instrument_from_pair(
        json.loads(r.body)["result"]["XXMRZUSD"], IID, maker_fee=None, taker_fee=None
    )


def test_asset_pair_gives_grid_from_its_decimals_and_fees_from_its_first_tier() -> None:
    inst = _instrument()
    assert (inst.tick_size, inst.lot_size, inst.min_size) == (
        Decimal("0.01"),
        Decimal("1E-8"),
        Decimal("0.05"),
    )
    assert (inst.maker_fee, inst.taker_fee) == (Decimal("0.0016"), Decimal("0.0026"))


def test_the_transcoded_v1_recording_passes_our_v2_checksum_check_at_depth_100() -> None:
    rec = recording("kraken")
    pair = pairs(rec)["XMR/USD"]
    book, window = StringBook(), BookWindow(100)
    verified = VerifiedBook(_instrument(), BookRule(checksum=ChecksumRule.KRAKEN, depth=100))
    checked = 0
    for ev in kraken_events(rec):
        if ev.topic != "book:XMR/USD":
            continue
        snapshot = apply_v1(book, ev.payload)
        levels = window.snapshot(book) if snapshot else window.diff(book)
        if not snapshot and not levels[1] and not levels[-1]:
            continue
        frame = book_frame(
            "XMR/USD", pair, "snapshot" if snapshot else "update", levels, checksum(book, pair), book.ts_ms
        )
        for bf in parsing.book_frames(json.loads(frame)):
            verified.apply(bf)
            checked += 1
    assert checked > 500


def _fixture(name: str) -> dict:
    return json.loads(shared_data(f"venues/kraken/nautilus_rust/{name}").read_text())


def test_open_order_and_trade_history_rows_read_exactly() -> None:
    (txid, row), *_ = _fixture("http_open_orders.json")["result"]["open"].items()
    view = parsing.order_view(dict(row, txid=txid), IID)
    assert (view.venue_order_id, view.status, view.side, view.quantity, view.price) == (
        "O26VBY-ISGAE-JP5TLU", VenueOrderStatus.OPEN, OrderSide.BUY, Decimal("0.5"), Decimal("29500.0"),
    )  # fmt: skip
    (tid, trade), *_ = _fixture("http_trades_history.json")["result"]["trades"].items()
    fill = parsing.fill_of(dict(trade, txid=tid), IID, "USDT", ts_init=0)
    assert (fill.trade_id, fill.venue_order_id, fill.last_px, fill.last_qty, fill.fee, fill.liquidity) == (
        "TCCCTY-WJ6EO-4FP4VZ", "O26VBY-ISGAE-JP5TLU", Decimal("29500.50"), Decimal("0.5"), Decimal("23.60"), LiquiditySide.MAKER,
    )  # fmt: skip
