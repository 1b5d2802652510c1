"""Polymarket payloads (the recorded fixtures in ../shared/data/venues/polymarket) as our model."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.conftest import shared_data
from tradewright.core.errors import VenueError
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.venues.polymarket.parsing import (
    decode,
    event_from_gamma,
    market_from_clob,
    market_from_gamma,
    order_status,
    our_fills,
    parse_market_messages,
    parse_user_message,
    split_frame,
)
from tradewright.venues.polymarket.schemas import (
    BestBidAsk,
    BookMessage,
    ClobMarket,
    GammaEvent,
    GammaMarket,
    LastTradePrice,
    MarketResolvedMessage,
    PriceChangeLegacy,
    PriceChangeMessage,
    TickSizeChange,
    UserOrder,
    UserTrade,
)

D = Decimal
PM = "venues/polymarket"
YES = "21742633143463906290569050155826241533067272736897614950488156847949938836455"
NO = "48331043336612883890938759509493159234755048973500640148014422747788308965732"


def fixture(name: str) -> str:
    return shared_data(f"{PM}/{name}").read_text()


def test_each_market_channel_fixture_parses_to_its_type() -> None:
    cases = {
        "nautilus_py/ws_messages/book.json": BookMessage,
        "nautilus_rust/ws_market_book_msg.json": BookMessage,
        "nautilus_rust/ws_book_snapshot.json": BookMessage,
        "nautilus_py/ws_messages/price_change_v2.json": PriceChangeMessage,
        "nautilus_rust/ws_quotes.json": PriceChangeMessage,
        "nautilus_py/ws_messages/price_change.json": PriceChangeLegacy,
        "nautilus_py/ws_messages/tick_size_change.json": TickSizeChange,
        "nautilus_rust/ws_market_tick_size_msg.json": TickSizeChange,
        "nautilus_py/ws_messages/last_trade_price.json": LastTradePrice,
        "nautilus_rust/ws_market_best_bid_ask_msg.json": BestBidAsk,
        "nautilus_rust/ws_market_resolved_msg.json": MarketResolvedMessage,
    }
    for name, kind in cases.items():
        [msg] = parse_market_messages(fixture(name))
        assert isinstance(msg, kind), name


def test_an_array_frame_yields_every_event_and_keepalive_texts_yield_nothing() -> None:
    book = json.loads(fixture("nautilus_rust/ws_market_book_msg.json"))
    trade = json.loads(fixture("nautilus_rust/ws_market_last_trade_msg.json"))
    msgs = parse_market_messages(json.dumps([book, trade]))
    assert [type(m) for m in msgs] == [BookMessage, LastTradePrice]
    assert split_frame("NO NEW ASSETS") == [] and split_frame("PONG") == []
    assert parse_market_messages(fixture("nautilus_rust/ws_market_new_market_msg.json")) == [None]


def test_prices_and_sizes_decode_exactly() -> None:
    [msg] = parse_market_messages(fixture("nautilus_py/ws_messages/book.json"))
    assert isinstance(msg, BookMessage)
    assert D("199.31") in {lv.size for lv in msg.asks}
    assert all(isinstance(lv.price, Decimal) for lv in msg.bids)


def test_a_malformed_message_names_what_was_wrong() -> None:
    with pytest.raises(VenueError, match="malformed Polymarket book"):
        parse_market_messages('{"event_type":"book","market":"0x1"}')
    with pytest.raises(VenueError, match="not JSON"):
        split_frame("{oops")


def test_gamma_market_with_json_in_string_lists_becomes_a_binary_market() -> None:
    g = decode(GammaMarket, fixture("nautilus_rust/gamma_market.json"), "gamma market")
    m = market_from_gamma(g)
    assert m is not None
    assert [t.outcome for t in m.tokens] == ["Up", "Down"]
    assert m.tokens[0].token_id.startswith("10423989803880713605")
    assert m.tick_size == D("0.01") and m.min_size == D(5)
    assert m.end_ns == 1773307500 * 10**9  # 2026-03-12T09:25:00Z
    assert not m.neg_risk and m.allows_split_resolution


def test_gamma_neg_risk_event_groups_its_markets() -> None:
    [raw] = json.loads(fixture("nautilus_rust/gamma_event.json"))
    event = event_from_gamma(decode(GammaEvent, raw, "gamma event"))
    assert event.neg_risk and len(event.markets) == 2
    assert all(m.neg_risk and m.neg_risk_market_id == event.neg_risk_market_id for m in event.markets)
    assert event.markets[0].tick_size == D("0.001")
    assert not event.markets[0].allows_split_resolution


def test_clob_market_object_becomes_a_neg_risk_binary_market() -> None:
    m = market_from_clob(decode(ClobMarket, fixture("nautilus_py/http_responses/market.json"), "market"))
    assert m.neg_risk and m.tokens[0].token_id == YES and m.tokens[1].token_id == NO
    assert m.tick_size == D("0.001") and m.min_size == D(5)


def test_a_closed_clob_market_is_not_accepting_orders() -> None:
    raw = fixture("nautilus_rust/clob_market_closed_binary_accepting_false.json")
    m = market_from_clob(decode(ClobMarket, raw, "market"))
    assert not m.accepting_orders and not m.active


def test_order_statuses_map_onto_ours_and_a_venue_cancel_is_not_a_reject() -> None:
    assert order_status("LIVE") is VenueOrderStatus.OPEN
    assert order_status("MATCHED") is VenueOrderStatus.FILLED
    assert order_status("CANCELED_MARKET_RESOLVED") is VenueOrderStatus.CANCELED
    assert order_status("INVALID", "CANCELLATION") is VenueOrderStatus.CANCELED
    assert order_status("INVALID") is VenueOrderStatus.REJECTED
    with pytest.raises(VenueError):
        order_status("SOMETHING_NEW")


def test_user_order_fixtures_parse() -> None:
    placed = parse_user_message(json.loads(fixture("nautilus_py/ws_messages/order_placement.json")))
    cancel = parse_user_message(json.loads(fixture("nautilus_py/ws_messages/order_cancel.json")))
    assert isinstance(placed, UserOrder) and placed.type == "PLACEMENT" and placed.price == D("0.513")
    assert (
        isinstance(cancel, UserOrder)
        and order_status(cancel.status, cancel.type) is VenueOrderStatus.CANCELED
    )


def _trade(name: str) -> UserTrade:
    raw = json.loads(fixture(f"nautilus_py/ws_messages/{name}"))
    raw.setdefault("event_type", "trade")
    msg = parse_user_message(raw)
    assert isinstance(msg, UserTrade)
    return msg


def test_our_taker_fill_takes_the_taker_side_price_and_size() -> None:
    trade = _trade("user_trade2.json")
    [fill] = our_fills(trade, {trade.taker_order_id: OrderSide.BUY})
    assert (fill.side, fill.price, fill.size, fill.liquidity) == (
        OrderSide.BUY,
        D("0.52"),
        D(5),
        LiquiditySide.TAKER,
    )
    assert fill.token_id == YES and fill.status == "MATCHED"
    assert fill.ts_ns == 1725958681 * 10**9


def test_a_resting_order_filled_against_the_other_token_is_booked_on_its_own_side() -> None:
    # user_trade1: a taker BUYs YES at 0.518; one maker rests on the NO token at 0.482 (= 1 - 0.518):
    # a resting BUY NO matched with a BUY YES (the venue mints the pair). Booking it as a SELL (the
    # opposite of the taker, as for a same-token maker) is NautilusTrader's issue 3126.
    trade = _trade("user_trade1.json")
    no_maker = next(m for m in trade.maker_orders if m.asset_id != trade.asset_id)
    assert trade.side == "BUY" and no_maker.asset_id == NO
    [fill] = our_fills(trade, {}, owner=no_maker.owner)
    assert (fill.token_id, fill.side, fill.price, fill.size) == (NO, OrderSide.BUY, D("0.482"), D(10))
    assert fill.trade_id == f"{trade.id}:{no_maker.order_id}" and fill.liquidity is LiquiditySide.MAKER
    # Knowing the order: our own order's side is used as sent.
    [known] = our_fills(trade, {no_maker.order_id: OrderSide.BUY})
    assert known.side is OrderSide.BUY


def test_a_maker_on_the_same_token_takes_the_opposite_side_of_the_taker() -> None:
    trade = _trade("user_trade1.json")
    yes_maker = next(m for m in trade.maker_orders if m.asset_id == trade.asset_id)
    [fill] = our_fills(trade, {}, owner=yes_maker.owner)
    assert (fill.token_id, fill.side) == (YES, OrderSide.SELL)


def test_several_of_our_resting_orders_in_one_trade_give_one_fill_each() -> None:
    trade = _trade("user_trade4.json")
    ours = {
        m.order_id: OrderSide.BUY
        for m in trade.maker_orders
        if m.owner == "a93a3d32-74fa-dd2b-4b67-98bfa6fc5cb5"
    }
    fills = our_fills(trade, ours)
    assert len(fills) == len(ours) >= 2
    assert len({f.trade_id for f in fills}) == len(fills)
    assert trade.status == "CONFIRMED"


def test_a_trade_of_others_gives_no_fill() -> None:
    assert our_fills(_trade("user_trade1.json"), {"0xnotours": OrderSide.BUY}) == []
