"""Binance USD-M parsing on recorded payloads (../shared/data/venues/binance): exact Decimals, the
events an order update implies, the account snapshot in the portfolio's convention, and credentials
that never show their secret."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import shared_data
from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import InstrumentId
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.events import OrderCanceled, OrderExpired
from tradewright.testkit import make_instrument
from tradewright.venues.binance.config import BinanceConfig, Credentials
from tradewright.venues.binance.execution import reject_reason
from tradewright.venues.binance.factory import point_urls
from tradewright.venues.binance.parsing import (
    account_snapshot,
    book_levels,
    decode,
    fill_from_trade,
    instrument_from_symbol,
    order_update,
    update_facts,
    venue_order,
)
from tradewright.venues.binance.schemas import AccountInfo, RestOrder, SymbolInfo, UserTrade

BTC = InstrumentId.parse("BTCUSDT-PERP.BINANCE")


def payload(relative: str) -> Any:
    return json.loads(shared_data(f"venues/binance/{relative}").read_text())


def btc() -> Any:
    info = next(
        s
        for s in payload("nautilus_py/http_responses/http_futures_market_exchange_info.json")["symbols"]
        if s["symbol"] == "BTCUSDT"
    )
    return instrument_from_symbol(
        decode(SymbolInfo, info, "symbol"), maker_fee=Decimal("0.0002"), taker_fee=Decimal("0.0005")
    )


def test_the_instrument_takes_its_grid_and_limits_from_exchange_info() -> None:
    inst = btc()

    assert inst.id == BTC
    assert (inst.tick_size, inst.lot_size, inst.min_size, inst.min_notional) == (
        Decimal("0.1"),
        Decimal("0.001"),
        Decimal("0.001"),
        Decimal("10"),
    )
    assert (inst.base, inst.quote, inst.settle) == ("BTC", "USDT", "USDT")


def test_a_partial_fill_update_gives_its_fill_exactly_and_no_end() -> None:
    update = order_update(payload("nautilus_rust/futures/user_data_json/order_update_trade_partial.json"))

    facts = update_facts(update, BTC, 99, "USDT")

    assert facts.fill is not None and facts.end is None
    assert (facts.fill.trade_id, facts.fill.last_px, facts.fill.last_qty, facts.fill.fee) == (
        "12345678",
        Decimal("7100.50"),
        Decimal("0.001"),
        Decimal("0.01000000"),
    )
    assert (facts.fill.side, facts.fill.liquidity, facts.fill.ts_event) == (
        OrderSide.BUY,
        LiquiditySide.MAKER,
        1568879465651 * 1_000_000,
    )
    assert facts.venue_order.status is VenueOrderStatus.OPEN
    assert facts.venue_order.filled_qty == Decimal("0.001")
    assert facts.ack is not None and facts.ack.venue_order_id == "8886774"


def test_a_new_order_update_is_an_ack_only() -> None:
    facts = update_facts(
        order_update(payload("nautilus_rust/futures/user_data_json/order_update_new.json")), BTC, 1, "USDT"
    )

    assert facts.fill is None and facts.end is None and facts.ack is not None


@pytest.mark.parametrize(("status", "kind"), [("CANCELED", OrderCanceled), ("EXPIRED", OrderExpired)])
def test_an_ended_order_update_carries_its_end(status: str, kind: type) -> None:
    raw = payload("nautilus_rust/futures/user_data_json/order_update_new.json")
    raw["o"] |= {"x": status, "X": status}

    facts = update_facts(order_update(raw), BTC, 1, "USDT")

    assert isinstance(facts.end, kind)


def test_a_malformed_update_names_what_is_wrong() -> None:
    raw = payload("nautilus_rust/futures/user_data_json/order_update_trade.json")
    raw["o"]["L"] = "not a number"

    with pytest.raises(VenueError, match="malformed ORDER_TRADE_UPDATE"):
        order_update(raw)


def test_a_rest_order_and_its_user_trades_become_a_view_and_fills() -> None:
    order = venue_order(
        decode(RestOrder, payload("nautilus_rust/futures/http_json/order_response.json"), "o"), BTC
    )
    trades = [
        decode(UserTrade, t, "t")
        for t in payload("nautilus_py/http_responses/http_futures_account_trades.json")
    ]

    fill = fill_from_trade(trades[1], order.client_order_id, BTC, 5)

    assert (order.client_order_id, order.venue_order_id, order.status, order.filled_qty) == (
        "testOrder123",
        "12345678",
        VenueOrderStatus.OPEN,
        Decimal("0.000"),
    )
    assert (fill.trade_id, fill.last_px, fill.fee, fill.fee_currency, fill.liquidity) == (
        "82357629",
        Decimal("2779"),
        Decimal("0.00555800"),
        "USDT",
        LiquiditySide.TAKER,
    )


def test_the_account_gives_cash_as_wallet_minus_size_times_entry_and_its_newest_update_time() -> None:
    raw = payload("nautilus_rust/futures/http_json/account_info_v2.json")
    for p in raw["positions"]:
        if p["symbol"] == "BTCUSDT":
            p |= {"positionAmt": "0.010", "entryPrice": "61000.5", "updateTime": 1625474309999}
    inst = make_instrument("BTCUSDT-PERP", "BINANCE")

    snap = account_snapshot(decode(AccountInfo, raw, "account"), {"BTCUSDT": inst})

    assert snap.positions[inst.id].quantity == Decimal("0.010")
    assert snap.balances["USDT"] == Decimal("23.72469206") - Decimal("610.005")
    assert snap.as_of_ns == 1625474309999 * 1_000_000


def test_book_levels_convert_ccxt_floats_exactly_and_refuse_off_grid_prices() -> None:
    inst = make_instrument("BTCUSDT-PERP", "BINANCE", tick="0.1", lot="0.001")

    assert book_levels([[61812.6, 3.696], [61812.5, 0.0004]], inst, 5) == [(618126, 3696)]
    with pytest.raises(VenueError, match="not on the tick grid"):
        book_levels([[61812.65, 1.0]], inst, 5)


def test_reject_reasons_come_from_binance_codes() -> None:
    error = Exception('binanceusdm {"code":-5022,"msg":"Due to the order could not be executed as maker"}')

    assert reject_reason(error)[0] == "post_only_would_take"
    assert reject_reason(Exception('{"code": -9999}'))[0] == "binance_-9999"


def test_every_endpoint_is_pointed_at_the_configured_roots_keeping_its_path() -> None:
    urls: dict[str, Any] = {
        "fapiPrivate": "https://fapi.binance.com/fapi/v1",
        "ws": {
            "linear": "wss://fstream.binance.com/ws",
            "ws-api": {"linear": "wss://ws-fapi.binance.com/ws-fapi/v1"},
        },
    }

    point_urls(urls, "http://127.0.0.1:9000", "ws://127.0.0.1:9000")

    assert urls == {
        "fapiPrivate": "http://127.0.0.1:9000/fapi/v1",
        "ws": {"linear": "ws://127.0.0.1:9000/ws", "ws-api": {"linear": "ws://127.0.0.1:9000/ws-fapi/v1"}},
    }


def test_missing_credentials_refuse_to_start_naming_the_variables() -> None:
    config = BinanceConfig()

    with pytest.raises(ConfigError, match="BINANCE_API_KEY and BINANCE_API_SECRET"):
        Credentials.from_env(config, {})
    with pytest.raises(ConfigError, match="set BINANCE_API_SECRET"):
        Credentials.from_env(config, {"BINANCE_API_KEY": "k"})


def test_the_secret_never_appears_in_a_repr() -> None:
    creds = Credentials.from_env(
        BinanceConfig(), {"BINANCE_API_KEY": "AKIAlongkey123", "BINANCE_API_SECRET": "s3cr3t-value"}
    )

    for text in (repr(creds), str(creds), f"{creds}"):
        assert "s3cr3t-value" not in text and "AKIAlongkey123" not in text


@pytest.mark.parametrize("url", ["ftp://x", "127.0.0.1:9000", "https://h/?q=1"])
def test_venue_urls_are_checked(url: str) -> None:
    with pytest.raises(ConfigError, match=r"venue\.rest_url"):
        BinanceConfig(rest_url=url)
