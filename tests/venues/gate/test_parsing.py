"""Gate futures payloads -> our model, on the recorded 2023 contract list and order-book stream."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.servers.support import recording
from tradewright.core.errors import SequenceGap
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.venues._ccxt.books import BookRule, Chain, VerifiedBook
from tradewright.venues.gate import parsing

IID = InstrumentId("RDNT_USDT-PERP", Venue("GATE"))


def _contract(name: str) -> dict:
    (r,) = recording("gate").http_matching("/api/v4/futures/usdt/contracts")
    return next(c for c in json.loads(r.body) if c["name"] == name)


def test_contract_becomes_an_instrument_of_whole_contracts_with_its_multiplier() -> None:
    inst = parsing.instrument_from_contract(_contract("RDNT_USDT"), IID, maker_fee=None, taker_fee=None)
    assert (inst.tick_size, inst.lot_size, inst.multiplier, inst.min_size) == (
        Decimal("0.0001"),
        Decimal(1),
        Decimal(1),
        Decimal(1),
    )


def _book(rest_snapshot: bool = True) -> tuple[VerifiedBook, list]:
    inst = parsing.instrument_from_contract(_contract("RDNT_USDT"), IID, maker_fee=None, taker_fee=None)
    book = VerifiedBook(inst, BookRule(chain=Chain.FIRST_LAST))
    (r,) = [r for r in recording("gate").http_matching("/futures/usdt/order_book") if "RDNT_USDT" in r.url]
    (session,) = recording("gate").sessions_matching("/v4/ws/usdt")
    diffs = [
        f
        for m in session.frames
        for f in parsing.book_frames(json.loads(m.text))
        if f.market_id == "RDNT_USDT"
    ]
    snapshot = parsing.book_frames({parsing.REST_BOOK: json.loads(r.body), "market_id": "RDNT_USDT"})
    return book, snapshot + diffs if rest_snapshot else diffs


def test_recorded_diffs_chain_onto_the_rest_snapshot_and_early_ones_are_held_then_dropped() -> None:
    book, frames = _book()
    snapshot, diffs = frames[0], frames[1:]
    assert book.apply(diffs[0]) == []  # before the snapshot: held
    applied = book.apply(snapshot)
    assert applied == [snapshot]  # the held diff was older than the snapshot
    changed = sum(len(book.apply(d)) for d in diffs[1:])
    assert changed == sum(1 for d in diffs if d.last_id > snapshot.last_id) > 30


def test_a_missing_diff_is_a_sequence_gap() -> None:
    book, frames = _book()
    snapshot, diffs = frames[0], [f for f in frames[1:] if f.last_id > frames[0].last_id]
    book.apply(snapshot)
    book.apply(diffs[0])
    with pytest.raises(SequenceGap):
        book.apply(diffs[2])
    assert not book.synced


def test_order_and_fill_pushes_read_signed_sizes() -> None:
    order = {
        "id": 7,
        "contract": "RDNT_USDT",
        "size": "-10",
        "left": "4",
        "status": "open",
        "price": "0.3",
        "text": "t-x",
        "create_time": 1.5,
    }
    view = parsing.order_view(order, IID)
    assert (view.side, view.quantity, view.filled_qty, view.status, view.client_order_id) == (
        OrderSide.SELL,
        Decimal(10),
        Decimal(6),
        VenueOrderStatus.OPEN,
        "t-x",
    )
    done = order | {"status": "finished", "finish_as": "cancelled", "left": "4"}
    assert parsing.order_view(done, IID).status is VenueOrderStatus.CANCELED
    trade = {
        "id": 9,
        "contract": "RDNT_USDT",
        "order_id": "7",
        "size": "-6",
        "price": "0.3",
        "role": "maker",
        "create_time": 1.25,
        "text": "t-x",
        "fee": "0.0001",
    }
    fill = parsing.fill_of(trade, IID, "USDT", ts_init=0)
    assert (fill.side, fill.last_qty, fill.liquidity, fill.trade_id, fill.ts_event) == (
        OrderSide.SELL,
        Decimal(6),
        LiquiditySide.MAKER,
        "9",
        1_250_000_000,
    )
