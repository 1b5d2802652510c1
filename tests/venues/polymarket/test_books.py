"""Books without sequence numbers stay trusted only while they agree with the venue's top."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.conftest import shared_data
from tradewright.core.ids import Venue
from tradewright.model.prediction import BinaryMarket, OutcomeToken
from tradewright.venues.polymarket.books import BookStatus, TokenBooks
from tradewright.venues.polymarket.parsing import decode, parse_market_messages
from tradewright.venues.polymarket.schemas import BestBidAsk, BookMessage, PriceChangeMessage, TickSizeChange

D = Decimal
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
OTHER = "52114319501245915516055106046884209969926127482827954674443846427813813222426"


def msg(name: str):  # type: ignore[no-untyped-def]
    [m] = parse_market_messages(shared_data(f"venues/polymarket/nautilus_rust/{name}").read_text())
    return m


def change(
    asset: str, side: str, price: str, size: str, bid: str, ask: str, ts: str = "1703875201000"
) -> PriceChangeMessage:
    return decode(
        PriceChangeMessage,
        {
            "market": "0xm",
            "timestamp": ts,
            "price_changes": [
                {
                    "asset_id": asset,
                    "price": price,
                    "side": side,
                    "size": size,
                    "best_bid": bid,
                    "best_ask": ask,
                }
            ],
        },
        "price change",
    )


def snapshot(
    asset: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: str = "1"
) -> BookMessage:
    return decode(
        BookMessage,
        {
            "market": "0xm",
            "asset_id": asset,
            "timestamp": ts,
            "bids": [{"price": p, "size": q} for p, q in bids],
            "asks": [{"price": p, "size": q} for p, q in asks],
        },
        "book",
    )


def books() -> TokenBooks:
    b = TokenBooks()
    b.follow(TOKEN, D("0.01"))
    return b


def test_a_snapshot_replaces_the_book_whatever_order_its_levels_came_in() -> None:
    b = books()
    snap = msg("ws_book_snapshot.json")  # bids ascending, asks descending
    assert b.on_snapshot(snap) == (TOKEN, BookStatus.OK)
    book = b.get(TOKEN)
    assert book is not None and (book.best_bid(), book.best_ask()) == (D("0.50"), D("0.51"))


def test_a_price_change_that_agrees_with_the_venues_top_is_applied() -> None:
    b = books()
    b.on_snapshot(msg("ws_market_book_msg.json"))  # 0.50 / 0.51
    result = b.on_price_change(msg("ws_market_price_change_msg.json"))  # bid 0.51 x 150, top 0.51/0.52
    # The fixture's own top (0.51/0.52) disagrees with the book it follows (0.51 is also an ask): stale.
    assert result == {TOKEN: BookStatus.STALE}
    b.on_snapshot(msg("ws_market_book_msg.json"))
    assert b.on_price_change(change(TOKEN, "SELL", "0.51", "0", "0.50", "0.52")) == {TOKEN: BookStatus.OK}
    book = b.get(TOKEN)
    assert book is not None and (book.best_bid(), book.best_ask()) == (D("0.50"), D("0.52"))


def test_deltas_are_ignored_until_a_fresh_snapshot_arrives() -> None:
    b = books()
    assert b.on_price_change(change(TOKEN, "BUY", "0.40", "5", "0.40", "0.60")) == {TOKEN: BookStatus.WAITING}
    b.on_snapshot(msg("ws_market_book_msg.json"))
    b.on_price_change(change(TOKEN, "BUY", "0.50", "10", "0.49", "0.51"))  # disagrees: stale
    assert b.on_price_change(change(TOKEN, "BUY", "0.45", "1", "0.50", "0.51")) == {TOKEN: BookStatus.WAITING}
    assert b.on_snapshot(msg("ws_market_book_msg.json"))[1] is BookStatus.OK


def test_a_delta_older_than_the_snapshot_is_dropped() -> None:
    b = books()
    b.on_snapshot(msg("ws_market_book_msg.json"))  # ts 1703875200000
    assert b.on_price_change(change(TOKEN, "BUY", "0.49", "0", "0.50", "0.51", ts="1703875199999")) == {
        TOKEN: BookStatus.OLD
    }


def test_best_bid_ask_disagreement_marks_the_book_stale() -> None:
    b = books()
    b.on_snapshot(msg("ws_market_book_msg.json"))
    ok = BestBidAsk(
        market="0xm", asset_id=TOKEN, best_bid=D("0.50"), best_ask=D("0.51"), timestamp="1703875201000"
    )
    bad = BestBidAsk(
        market="0xm", asset_id=TOKEN, best_bid=D("0.49"), best_ask=D("0.51"), timestamp="1703875201000"
    )
    assert b.on_best_bid_ask(ok) is BookStatus.OK
    assert b.on_best_bid_ask(bad) is BookStatus.STALE


def test_a_crossed_book_is_stale() -> None:
    b = books()
    b.on_snapshot(msg("ws_market_book_msg.json"))
    assert b.on_price_change(change(TOKEN, "BUY", "0.52", "5", "0.52", "0.51")) == {TOKEN: BookStatus.STALE}


def test_a_tick_size_change_drops_the_book_until_a_snapshot_on_the_new_grid() -> None:
    b = books()
    b.on_snapshot(msg("ws_market_book_msg.json"))
    tick = TickSizeChange(market="0xm", asset_id=TOKEN, old_tick_size=D("0.01"), new_tick_size=D("0.001"))
    assert b.on_tick_size(tick) is BookStatus.STALE
    assert b.on_price_change(change(TOKEN, "BUY", "0.505", "5", "0.505", "0.51")) == {
        TOKEN: BookStatus.WAITING
    }
    snap = snapshot(TOKEN, [("0.505", "5")], [("0.51", "1")], ts="1703875300000")
    assert b.on_snapshot(snap)[1] is BookStatus.OK


def test_levels_off_the_grid_make_the_snapshot_stale() -> None:
    b = books()
    snap = snapshot(TOKEN, [("0.505", "5")], [])
    assert b.on_snapshot(snap)[1] is BookStatus.STALE


def test_a_message_touching_two_tokens_checks_each() -> None:
    b = books()
    b.follow(OTHER, D("0.01"))
    raw = json.loads(shared_data("venues/polymarket/nautilus_rust/ws_quotes.json").read_text())
    raw["event_type"] = "price_change"
    [pc] = parse_market_messages(json.dumps(raw))
    assert isinstance(pc, PriceChangeMessage)
    b.on_snapshot(snapshot(TOKEN, [("0.50", "1")], [("0.52", "1")]))
    b.on_snapshot(snapshot(OTHER, [("0.48", "1")], []))
    assert b.on_price_change(pc) == {TOKEN: BookStatus.OK, OTHER: BookStatus.OK}


def test_ladder_gives_ticks_and_lots_best_first() -> None:
    b = books()
    b.on_snapshot(msg("ws_book_snapshot.json"))
    market = BinaryMarket(
        venue=Venue("POLYMARKET"),
        market_id="0xm",
        question="q",
        tokens=(
            OutcomeToken(token_id=TOKEN, outcome="Yes", index=0),
            OutcomeToken(token_id="n", outcome="No", index=1),
        ),
        tick_size=D("0.01"),
    )
    book = b.get(TOKEN)
    assert book is not None
    bids, asks = book.ladder(market.instrument(0), depth=2)
    assert bids == [(50, 20_000), (49, 35_000)] and asks == [(51, 15_000), (52, 25_000)]
