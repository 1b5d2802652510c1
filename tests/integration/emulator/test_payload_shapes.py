"""The emulator's JSON has the fields of Binance's real payloads (../shared/data/venues/binance fixtures)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import shared_data
from tests.integration.emulator.support import Signed, emulator, run
from tests.integration.emulator.test_ws_protocol import frames_until
from tradewright.model.columnar import MarketStream

RUST = "venues/binance/nautilus_rust"


def fixture(relative: str) -> Any:
    return json.loads(shared_data(relative).read_text())


def keys(obj: Any) -> set[str]:
    return set((obj[0] if isinstance(obj, list) else obj).keys())


def test_spot_rest_and_stream_payloads_have_binance_fields(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> dict[str, Any]:
        async with (
            emulator(spot_stream, tmp_path / "p.sqlite", "binance-spot") as server,
            aiohttp.ClientSession() as s,
        ):
            c = Signed(s, server.port)
            key = (await c.call("POST", "/api/v3/userDataStream", signed=False))[1]["listenKey"]
            out: dict[str, Any] = {}
            async with s.ws_connect(f"ws://127.0.0.1:{server.port}/ws/{key}") as ws:
                await asyncio.sleep(0.1)
                market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
                out["new_order_full"] = (await c.call("POST", "/api/v3/order", market))[1]
                frames = await frames_until(ws, lambda f: f.get("X") == "FILLED")
                out["execution_report"] = frames[-1]
                out["account_position"] = next(f for f in frames if f["e"] == "outboundAccountPosition")
            bid = float(
                (await c.call("GET", "/api/v3/depth", {"symbol": "BTCUSDT"}, signed=False))[1]["bids"][0][0]
            )
            limit = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
            }
            placed = (await c.call("POST", "/api/v3/order", limit | {"price": f"{bid * 0.99:.2f}"}))[1]
            ref = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
            out["order"] = (await c.call("GET", "/api/v3/order", ref))[1]
            out["open_orders"] = (await c.call("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}))[1]
            out["cancel"] = (await c.call("DELETE", "/api/v3/order", ref))[1]
            out["my_trades"] = (await c.call("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}))[1]
            out["account"] = (await c.call("GET", "/api/v3/account"))[1]
            out["trades"] = (await c.call("GET", "/api/v3/trades", {"symbol": "BTCUSDT"}, signed=False))[1]
            out["book_ticker"] = (
                await c.call("GET", "/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"}, signed=False)
            )[1]
            out["time"] = (await c.call("GET", "/api/v3/time", signed=False))[1]
            return out

    got = run(body())
    http = f"{RUST}/spot/http_json"
    assert keys(got["new_order_full"]) == keys(fixture(f"{http}/new_order_full_response.json"))
    assert keys(got["new_order_full"]["fills"]) == keys(
        fixture(f"{http}/new_order_full_response.json")["fills"]
    )
    assert keys(got["order"]) == keys(fixture(f"{http}/order_response.json"))
    assert keys(got["open_orders"]) == keys(fixture(f"{http}/open_orders_response.json"))
    assert keys(got["cancel"]) == keys(fixture(f"{http}/cancel_order_response.json"))
    assert keys(got["my_trades"]) == keys(fixture(f"{http}/account_trades_response.json"))
    assert keys(got["account"]) == keys(fixture(f"{http}/account_response.json"))
    assert keys(got["trades"]) == keys(fixture(f"{http}/trades_response.json"))
    assert keys(got["book_ticker"]) == keys(fixture(f"{http}/book_ticker_response.json"))
    assert keys(got["time"]) == keys(fixture(f"{http}/server_time_response.json"))
    wrapped = fixture(f"{RUST}/spot/user_data_json/execution_report_wrapped.json")["event"]
    assert keys(got["execution_report"]) == keys(wrapped)
    assert keys(got["account_position"]) == keys(fixture(f"{RUST}/spot/user_data_json/account_position.json"))


def test_usdm_rest_and_stream_payloads_have_binance_fields(usdm_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> dict[str, Any]:
        async with (
            emulator(usdm_stream, tmp_path / "p.sqlite", "binance-usdm") as server,
            aiohttp.ClientSession() as s,
        ):
            c = Signed(s, server.port)
            key = (await c.call("POST", "/fapi/v1/listenKey", signed=False))[1]["listenKey"]
            out: dict[str, Any] = {}
            async with s.ws_connect(f"ws://127.0.0.1:{server.port}/private/ws?listenKey={key}") as ws:
                await asyncio.sleep(0.1)
                market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.002"}
                out["order"] = (
                    await c.call("POST", "/fapi/v1/order", market | {"newOrderRespType": "RESULT"})
                )[1]
                frames = await frames_until(
                    ws, lambda f: f.get("e") == "ORDER_TRADE_UPDATE" and f["o"]["X"] == "FILLED"
                )
                out["order_update"] = frames[-1]
                out["account_update"] = next(f for f in frames if f["e"] == "ACCOUNT_UPDATE")
                out["trade_lite"] = next(f for f in frames if f["e"] == "TRADE_LITE")
            out["user_trades"] = (await c.call("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"}))[1]
            out["position_risk_v2"] = (await c.call("GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"}))[1]
            out["balance"] = (await c.call("GET", "/fapi/v2/balance"))[1]
            out["account_v2"] = (await c.call("GET", "/fapi/v2/account"))[1]
            return out

    got = run(body())
    http = f"{RUST}/futures/http_json"
    assert keys(fixture(f"{http}/order_response.json")) <= keys(got["order"])
    assert keys(fixture(f"{http}/position_risk.json")) <= keys(got["position_risk_v2"])
    assert keys(got["balance"]) == keys(fixture(f"{http}/balance.json"))
    account = fixture(f"{http}/account_info_v2.json")
    assert keys(account) == keys(got["account_v2"])
    assert keys(account["assets"]) == keys(got["account_v2"]["assets"])
    assert keys(account["positions"]) <= keys(got["account_v2"]["positions"])
    assert keys(got["user_trades"]) == keys(
        fixture("venues/binance/nautilus_py/http_responses/http_futures_account_trades.json")
    )
    user = f"{RUST}/futures/user_data_json"
    trade_update = fixture(f"{user}/order_update_trade.json")
    assert keys(trade_update) == keys(got["order_update"])
    trailing_only = {"AP", "cr"}  # activation price, callback rate: "only pushed with TRAILING_STOP_MARKET"
    assert keys(trade_update["o"]) - trailing_only <= keys(got["order_update"]["o"])
    account_update = fixture(f"{user}/account_update.json")
    assert keys(account_update) == keys(got["account_update"])
    assert keys(account_update["a"]["B"]) == keys(got["account_update"]["a"]["B"])
    assert keys(account_update["a"]["P"]) == keys(got["account_update"]["a"]["P"])
    assert keys(got["trade_lite"]) == keys(fixture(f"{user}/trade_lite.json"))
