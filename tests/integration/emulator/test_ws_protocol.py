"""The WebSocket protocol as Binance speaks it: stream control messages, raw and combined streams,
listen-key user streams (spot and USD-M) and the WebSocket API with its signature subscription."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.emulator.support import API_KEY, SECRET, Signed, emulator, run
from tradewright.model.columnar import MarketStream


async def frames_until(ws: aiohttp.ClientWebSocketResponse, want: Any, timeout: float = 10) -> list[Any]:
    """Read JSON frames until `want(frame)` is true; return all read."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while True:
        msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        frame = json.loads(msg.data)
        seen.append(frame)
        if want(frame):
            return seen


def test_market_stream_control_messages(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "w.sqlite", "binance-spot") as server,
            aiohttp.ClientSession() as session,
            session.ws_connect(f"ws://127.0.0.1:{server.port}/ws/0") as ws,
        ):

            async def ask(msg: dict[str, Any]) -> Any:
                await ws.send_json(msg)
                return (
                    await frames_until(ws, lambda f: isinstance(f, dict) and f.get("id") == msg.get("id"))
                )[-1]

            assert await ask(
                {"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade", "btcusdt@depth5@100ms"], "id": 1}
            ) == {
                "result": None,
                "id": 1,
            }
            assert await ask({"method": "LIST_SUBSCRIPTIONS", "id": 2}) == {
                "result": ["btcusdt@aggTrade", "btcusdt@depth5@100ms"],
                "id": 2,
            }
            seen: set[str] = set()
            frames = await frames_until(
                ws, lambda f: seen.add(f.get("e", "partial")) or seen >= {"aggTrade", "partial"}
            )
            partial = next(f for f in frames if "lastUpdateId" in f)
            assert set(partial) == {"lastUpdateId", "bids", "asks"} and len(partial["bids"]) == 5
            assert await ask({"method": "UNSUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 3}) == {
                "result": None,
                "id": 3,
            }
            assert await ask({"method": "GET_PROPERTY", "params": ["combined"], "id": 4}) == {
                "result": False,
                "id": 4,
            }
            assert await ask({"method": "SET_PROPERTY", "params": ["combined", True], "id": 5}) == {
                "result": None,
                "id": 5,
            }
            wrapped = await frames_until(ws, lambda f: "stream" in f)
            assert wrapped[-1]["stream"] == "btcusdt@depth5@100ms"
            assert (await ask({"method": "SUBSCRIBED", "params": [], "id": 6}))["error"]["code"] == 2
            await ws.send_str("{not json")
            error = (await frames_until(ws, lambda f: "error" in f and f.get("id") is None))[-1]
            assert error["error"]["code"] == 3 and error["error"]["msg"].startswith("Invalid JSON")

    run(body())


def test_raw_and_combined_stream_urls(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with emulator(spot_stream, tmp_path / "w.sqlite", "binance-spot") as server:
            base = f"ws://127.0.0.1:{server.port}"
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(f"{base}/ws/btcusdt@bookTicker") as ws:
                    frame = json.loads((await ws.receive(timeout=5)).data)
                    assert set(frame) == {"u", "s", "b", "B", "a", "A"}  # spot bookTicker has no event name
                url = f"{base}/stream?streams=btcusdt@trade/btcusdt@depth"
                async with session.ws_connect(url) as ws:
                    frames = await frames_until(ws, lambda f: f["stream"] == "btcusdt@trade")
                    assert all(set(f) == {"stream", "data"} for f in frames)

    run(body())


def test_spot_listen_key_user_stream(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "w.sqlite", "binance-spot") as server,
            aiohttp.ClientSession() as session,
        ):
            c = Signed(session, server.port)
            status, created, _ = await c.call("POST", "/api/v3/userDataStream", signed=False)
            assert status == 200 and len(created["listenKey"]) == 60
            key = created["listenKey"]
            assert (await c.call("POST", "/api/v3/userDataStream", signed=False))[
                1
            ] == created  # the active key again
            async with session.ws_connect(f"ws://127.0.0.1:{server.port}/ws/{key}") as ws:
                await asyncio.sleep(0.1)
                await c.call(
                    "POST",
                    "/api/v3/order",
                    {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.001"},
                )
                frames = await frames_until(
                    ws, lambda f: f.get("e") == "executionReport" and f["X"] == "FILLED"
                )
                kinds = [(f["e"], f.get("x")) for f in frames]
                assert kinds[:2] == [("executionReport", "NEW"), ("outboundAccountPosition", None)]
                assert ("executionReport", "TRADE") in kinds
            assert (await c.call("PUT", "/api/v3/userDataStream", {"listenKey": key}, signed=False))[:2] == (
                200,
                {},
            )
            assert (await c.call("DELETE", "/api/v3/userDataStream", {"listenKey": key}, signed=False))[
                :2
            ] == (200, {})
            status, error, _ = await c.call("PUT", "/api/v3/userDataStream", {"listenKey": key}, signed=False)
            assert (status, error["code"]) == (400, -1125)

    run(body())


def test_usdm_listen_key_user_stream_on_both_urls(usdm_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(usdm_stream, tmp_path / "w.sqlite", "binance-usdm") as server,
            aiohttp.ClientSession() as session,
        ):
            c = Signed(session, server.port)
            key = (await c.call("POST", "/fapi/v1/listenKey", signed=False))[1]["listenKey"]
            base = f"ws://127.0.0.1:{server.port}"
            async with (
                session.ws_connect(f"{base}/private/ws?listenKey={key}") as new_url,
                session.ws_connect(f"{base}/ws/{key}") as old_url,
            ):
                await asyncio.sleep(0.1)
                await c.call(
                    "POST",
                    "/fapi/v1/order",
                    {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.002"},
                )
                for ws in (new_url, old_url):
                    frames = await frames_until(
                        ws, lambda f: f.get("e") == "ORDER_TRADE_UPDATE" and f["o"]["X"] == "FILLED"
                    )
                    kinds = [f["e"] for f in frames]
                    assert kinds[0] == "ORDER_TRADE_UPDATE" and frames[0]["o"]["x"] == "NEW"
                    assert {"TRADE_LITE", "ACCOUNT_UPDATE"} <= set(kinds)
                    update = next(f for f in frames if f["e"] == "ACCOUNT_UPDATE")
                    assert update["a"]["m"] == "ORDER" and update["a"]["P"][0]["pa"] == "0.002"
            keepalive = await c.call("PUT", "/fapi/v1/listenKey", signed=False)
            assert keepalive[:2] == (200, {"listenKey": key})

    run(body())


def _ws_sign(params: dict[str, Any]) -> dict[str, Any]:
    params = params | {"apiKey": API_KEY, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return params | {"signature": hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()}


def test_spot_websocket_api_orders_and_signature_subscription(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "w.sqlite", "binance-spot") as server,
            aiohttp.ClientSession() as session,
            session.ws_connect(f"ws://127.0.0.1:{server.port}/ws-api/v3") as ws,
        ):
            inbox: list[Any] = []

            async def call(req_id: str, method: str, params: dict[str, Any]) -> Any:
                await ws.send_json({"id": req_id, "method": method, "params": params})
                inbox.extend(await frames_until(ws, lambda f: f.get("id") == req_id))
                return inbox[-1]

            sub = await call("s", "userDataStream.subscribe.signature", _ws_sign({}))
            assert (sub["status"], sub["result"]) == (200, {"subscriptionId": 0})
            assert sub["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
            book = await call("d", "depth", {"symbol": "BTCUSDT", "limit": 5})
            bid = float(book["result"]["bids"][0][0])
            placed = await call(
                "p",
                "order.place",
                _ws_sign(
                    {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
                    | {"quantity": "0.001", "price": f"{bid * 0.99:.2f}", "newClientOrderId": "ws-1"}
                ),
            )
            assert placed["status"] == 200 and placed["result"]["status"] == "NEW"
            order_id = placed["result"]["orderId"]
            # user data arrives wrapped, published before the answer to the request
            events = [f for f in inbox if "subscriptionId" in f]
            assert [(set(e), e["event"]["e"]) for e in events] == [
                ({"subscriptionId", "event"}, "executionReport"),
                ({"subscriptionId", "event"}, "outboundAccountPosition"),
            ]
            assert events[0]["event"]["c"] == "ws-1"
            status = await call("q", "order.status", _ws_sign({"symbol": "BTCUSDT", "orderId": order_id}))
            assert status["result"]["clientOrderId"] == "ws-1"
            canceled = await call("c", "order.cancel", _ws_sign({"symbol": "BTCUSDT", "orderId": order_id}))
            assert canceled["result"]["status"] == "CANCELED"
            bad = await call(
                "b",
                "order.status",
                _ws_sign({"symbol": "BTCUSDT", "orderId": order_id}) | {"signature": "0" * 64},
            )
            assert (bad["status"], bad["error"]) == (
                400,
                {"code": -1022, "msg": "Signature for this request is not valid."},
            )
            unknown = await call("u", "no.such.method", {})
            assert unknown["status"] == 400 and unknown["error"]["code"] == -1020
            assert (await call("x", "userDataStream.unsubscribe", {"subscriptionId": 0}))["result"] == {}

    run(body())


def test_session_logon_then_unsigned_requests_and_user_data(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "w.sqlite", "binance-spot") as server,
            aiohttp.ClientSession() as session,
            session.ws_connect(f"ws://127.0.0.1:{server.port}/ws-api/v3") as ws,
        ):
            inbox: list[Any] = []

            async def call(req_id: str, method: str, params: dict[str, Any]) -> Any:
                await ws.send_json({"id": req_id, "method": method, "params": params})
                inbox.extend(await frames_until(ws, lambda f: f.get("id") == req_id))
                return inbox[-1]

            refused = await call("0", "userDataStream.subscribe", {})
            assert (refused["status"], refused["error"]["code"]) == (401, -1002)
            logon = await call("1", "session.logon", _ws_sign({}))
            assert logon["status"] == 200 and logon["result"]["apiKey"] == API_KEY
            assert (await call("2", "userDataStream.subscribe", {}))["result"] == {"subscriptionId": 0}
            market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
            placed = await call("3", "order.place", market)  # no signature: the session is logged on
            assert placed["result"]["status"] == "FILLED" and placed["result"]["fills"]
            assert any(f.get("event", {}).get("x") == "TRADE" for f in inbox)

    run(body())


def test_usdm_websocket_api_places_and_cancels(usdm_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(usdm_stream, tmp_path / "w.sqlite", "binance-usdm") as server,
            aiohttp.ClientSession() as session,
            session.ws_connect(f"ws://127.0.0.1:{server.port}/ws-fapi/v1") as ws,
        ):

            async def call(req_id: str, method: str, params: dict[str, Any]) -> Any:
                await ws.send_json({"id": req_id, "method": method, "params": params})
                return (await frames_until(ws, lambda f: f.get("id") == req_id))[-1]

            bid = float((await call("d", "depth", {"symbol": "BTCUSDT", "limit": 5}))["result"]["bids"][0][0])
            order = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.002",
            }
            placed = await call("p", "order.place", _ws_sign(order | {"price": f"{bid * 0.99:.1f}"}))
            assert placed["status"] == 200 and placed["result"]["status"] == "NEW"
            ref = {"symbol": "BTCUSDT", "orderId": placed["result"]["orderId"]}
            assert (await call("c", "order.cancel", _ws_sign(ref)))["result"]["status"] == "CANCELED"
            balance = await call("b", "v2/account.balance", _ws_sign({}))
            assert balance["result"][0]["asset"] == "USDT"

    run(body())
