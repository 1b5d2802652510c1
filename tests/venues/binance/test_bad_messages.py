"""Venue messages that cannot be true are refused by the decoders with a `VenueError` that names what is
wrong — each case is a real Binance payload (../shared/data) with one value broken as the field saw it."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import shared_data
from tradewright.core.errors import VenueError
from tradewright.core.ids import InstrumentId
from tradewright.testkit import btc_perp
from tradewright.venues.binance.parsing import (
    book_update,
    decode,
    instrument_from_symbol,
    order_update,
    trade_tick,
    update_facts,
)
from tradewright.venues.binance.schemas import SymbolInfo

BTC = InstrumentId.parse("BTCUSDT-PERP.BINANCE")
USER = "venues/binance/nautilus_rust/futures/user_data_json"


def trade_update() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(shared_data(f"{USER}/order_update_trade.json").read_text())
    return payload


def book() -> dict[str, Any]:
    snapshot = json.loads(
        shared_data("venues/binance/nautilus_py/http_responses/http_futures_market_depth.json").read_text()
    )
    # CCXT hands a book over as floats, best first; this one is moved near BTC's price for a 0.1 grid
    return {
        "bids": [[61800.2, 2.5], [61800.1, 0.7], [61799.0, 1.0]],
        "asks": [[61800.3, 2.5], [61801.0, 0.3]],
        "nonce": snapshot["lastUpdateId"],
        "timestamp": snapshot["E"],
    }


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("l", "NaN", "`l` is not a finite number"),
        ("l", "Infinity", "`l` is not a finite number"),
        ("L", "1e30", "`L` is not a finite number"),
        ("L", "-5", "`L` must not be negative"),
        ("i", 2**64, "Expected `int` <= 9223372036854775807"),
        ("T", 2**62, "Expected `int` <= 9223372036854"),
        ("t", -1, "Expected `int` >= 0"),
        ("q", ["0.001"], "Expected `decimal`"),
    ],
)
def test_an_order_update_with_an_impossible_value_is_refused_naming_the_field(
    field: str, value: Any, named: str
) -> None:
    payload = trade_update()
    payload["o"][field] = value

    with pytest.raises(VenueError, match="malformed ORDER_TRADE_UPDATE") as refused:
        update_facts(order_update(payload), BTC, 1, "USDT")

    assert named in str(refused.value)


def test_text_that_is_not_unicode_is_refused_not_a_unicode_error() -> None:
    payload = trade_update()
    payload["o"]["\ud800"] = "x"

    with pytest.raises(VenueError, match="not text"):
        order_update(payload)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda b: b["bids"].insert(0, [1e27, 1.0]), "out of range"),
        (lambda b: b["bids"].insert(0, [1e30, 1.0]), "out of range"),
        (lambda b: b["asks"].insert(0, [float("nan"), 1.0]), "must be finite"),
        (lambda b: b["bids"].insert(0, [-5.0, 1.0]), "price must be > 0"),
        (lambda b: b["bids"].append([10000.0, 1.0]), "more than 10% from the mid"),
        (lambda b: b["bids"].insert(0, [61800.5, 1.0]), "crossed book"),
        (lambda b: b["bids"].append([61800.2, 1.0]), "bids are not in price order"),
        (lambda b: b.update(asks="61800.3"), "a book side is not a list"),
        (lambda b: b.pop("bids"), "without bids and asks"),
    ],
)
def test_a_book_update_that_no_venue_would_send_is_refused(change: Any, named: str) -> None:
    update = book()
    change(update)

    with pytest.raises(VenueError) as refused:
        book_update(update, btc_perp(), 20)

    assert named in str(refused.value)


def test_a_sane_book_update_gives_ticks_and_lots() -> None:
    bids, asks = book_update(book(), btc_perp(), 20)

    assert bids[0] == (618002, 2500) and asks[0] == (618003, 2500)


@pytest.mark.parametrize(
    ("field", "value"), [("p", "-5"), ("q", "0"), ("m", "yes"), ("T", "1e400"), ("p", "NaN")]
)
def test_a_public_trade_that_cannot_be_is_refused(field: str, value: Any) -> None:
    trade = {"info": {"e": "trade", "t": 1, "p": "61800.2", "q": "0.002", "T": 1723161256322, "m": False}}
    trade["info"][field] = value

    with pytest.raises(VenueError, match="bad trade"):
        trade_tick(trade, btc_perp(), 1)


def test_exchange_info_with_a_tick_of_zero_is_refused_as_unusable_rules() -> None:
    info = json.loads(
        shared_data(
            "venues/binance/nautilus_py/http_responses/http_futures_market_exchange_info.json"
        ).read_text()
    )
    symbol = copy.deepcopy(next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT"))
    next(f for f in symbol["filters"] if f["filterType"] == "PRICE_FILTER")["tickSize"] = "0"

    with pytest.raises(VenueError, match="unusable trading rules"):
        instrument_from_symbol(
            decode(SymbolInfo, symbol, "symbol"), maker_fee=Decimal(0), taker_fee=Decimal(0)
        )
