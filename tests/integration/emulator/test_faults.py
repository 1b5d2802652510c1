"""Each fault mode, switched on live through ``POST /_admin/faults``, and what a client sees — the same
thing it would see when Binance misbehaves that way."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
import pytest

from tests.integration.emulator.support import Signed, admin, ccxt_clients, emulator, run
from tradewright.model.columnar import MarketStream

SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"


async def faults(port: int, **settings: Any) -> Any:
    return await admin(port, "POST", "faults", settings)


async def watch_until_error(pro: Any, symbol: str, seconds: float = 10.0) -> BaseException:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(pro.watch_order_book(symbol), deadline - time.monotonic())
        except (ccxt.BaseError, TimeoutError) as exc:
            return exc
    raise AssertionError("watch_order_book never failed")


@pytest.mark.parametrize(
    ("venue", "symbol", "fault"),
    [
        ("binance-spot", SPOT, {"ws_drop": 1, "ws_drop_match": "depth"}),
        ("binance-spot", SPOT, {"depth_gap": 1}),
        ("binance-usdm", PERP, {"ws_drop": 1, "ws_drop_match": "depth"}),
        ("binance-usdm", PERP, {"depth_gap": 1}),
    ],
    ids=["spot-drop", "spot-gap", "usdm-drop", "usdm-gap"],
)
def test_a_missing_depth_diff_breaks_the_update_id_chain_and_ccxt_raises_checksum_error(
    venue: str,
    symbol: str,
    fault: dict[str, Any],
    spot_stream: MarketStream,
    usdm_stream: MarketStream,
    tmp_path: Path,
) -> None:
    stream = usdm_stream if venue == "binance-usdm" else spot_stream

    async def body() -> None:
        async with (
            emulator(stream, tmp_path / "f.sqlite", venue) as server,
            ccxt_clients(server.port, futures=venue == "binance-usdm") as (_, pro),
        ):
            for _ in range(3):
                await asyncio.wait_for(pro.watch_order_book(symbol), 10)
            await faults(server.port, **fault)
            error = await watch_until_error(pro, symbol)
            assert isinstance(error, ccxt.ChecksumError), repr(error)
            state = await admin(server.port, "GET", "faults")
            assert state["fired"] == {next(iter(fault)): 1}

    run(body())


def test_delayed_frames_arrive_late_but_in_order(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with emulator(spot_stream, tmp_path / "f.sqlite", "binance-spot") as server:
            url = f"ws://127.0.0.1:{server.port}/ws"
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:

                async def ack_after(req_id: int) -> float:
                    started = time.monotonic()
                    await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": req_id})
                    reply = json.loads((await ws.receive(timeout=5)).data)
                    assert reply == {"result": [], "id": req_id}
                    return time.monotonic() - started

                assert await ack_after(1) < 0.2
                await faults(server.port, ws_delay_ms=400)
                assert 0.4 <= await ack_after(2) < 1.5
                await admin(server.port, "DELETE", "faults")
                assert await ack_after(3) < 0.2

    run(body())


def test_a_malformed_frame_reaches_the_client_as_invalid_json(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with emulator(spot_stream, tmp_path / "f.sqlite", "binance-spot") as server:
            url = f"ws://127.0.0.1:{server.port}/ws/btcusdt@trade"
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
                json.loads((await ws.receive(timeout=5)).data)
                await faults(server.port, ws_malformed=1)
                broken: list[str] = []
                after: list[str] = []
                while len(after) < 3:  # frames queued before the switch still arrive intact first
                    text = (await ws.receive(timeout=5)).data
                    try:
                        assert json.loads(text)["e"] == "trade"
                    except json.JSONDecodeError:
                        broken.append(text)
                        continue
                    if broken:
                        after.append(text)
                assert len(broken) == 1 and broken[0].startswith('{"e":"trade"'), "one frame is cut short"
                assert all(json.loads(t)["e"] == "trade" for t in after), "and the stream goes on after it"

    run(body())


def test_closing_connections_disconnects_raw_clients_and_fails_ccxt_watchers(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "f.sqlite", "binance-spot") as server,
            ccxt_clients(server.port, futures=False) as (_, pro),
        ):
            nonce = (await asyncio.wait_for(pro.watch_order_book(SPOT), 10))["nonce"]
            await admin(server.port, "POST", "replay", {"paused": True})  # no data: the next watch waits
            pending = asyncio.create_task(pro.watch_order_book(SPOT))
            url = f"ws://127.0.0.1:{server.port}/ws/btcusdt@trade"
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
                await asyncio.sleep(0.2)
                reply = await faults(server.port, close_ws=True)
                assert reply["closed"] == 2
                while True:
                    msg = await ws.receive(timeout=5)
                    if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        break
                assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1001)  # going away
                assert ws.closed
            with pytest.raises(ccxt.NetworkError):
                await asyncio.wait_for(pending, 5)
            # the client reconnects, fetches a new snapshot and carries on
            await admin(server.port, "POST", "replay", {"paused": False})
            book = await asyncio.wait_for(pro.watch_order_book(SPOT), 10)
            assert book["nonce"] > nonce

    run(body())


def test_periodic_connection_drops_per_run(spot_stream: MarketStream, tmp_path: Path) -> None:
    from tradewright.emulator import FaultSettings

    async def body() -> None:
        async with emulator(
            spot_stream, tmp_path / "f.sqlite", "binance-spot", faults=FaultSettings(ws_close_every_s=0.5)
        ) as server:
            url = f"ws://127.0.0.1:{server.port}/ws/btcusdt@trade"
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
                started = time.monotonic()
                while not ws.closed:
                    await ws.receive(timeout=5)
                assert time.monotonic() - started < 2

    run(body())


def test_server_errors_before_and_after_execution(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "f.sqlite", "binance-spot") as server,
            ccxt_clients(server.port, futures=False) as (rest, _),
        ):
            price = float(
                rest.price_to_precision(SPOT, (await rest.fetch_order_book(SPOT, 5))["bids"][0][0] * 0.99)
            )
            await faults(server.port, http_error=1, http_error_status=503)
            with pytest.raises(ccxt.ExchangeError) as refused:
                await rest.create_order(SPOT, "limit", "buy", 0.001, price, {"clientOrderId": "lost-1"})
            assert rest.last_http_response is not None and '"code":-1008' in rest.last_http_response
            assert "-1008" in str(refused.value)
            assert await rest.fetch_open_orders(SPOT) == []  # refused before it was executed

            await faults(server.port, http_error=1, http_error_status=504, http_error_after_execute=True)
            with pytest.raises(ccxt.RequestTimeout):  # -1007 TIMEOUT
                await rest.create_order(SPOT, "limit", "buy", 0.001, price, {"clientOrderId": "unknown-1"})
            # "send status unknown; execution status unknown": it was executed, reconciliation finds it
            assert [o["clientOrderId"] for o in await rest.fetch_open_orders(SPOT)] == ["unknown-1"]

    run(body())


def test_an_injected_429_burst_and_the_real_weight_limit_with_its_ban(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(
                spot_stream, tmp_path / "f.sqlite", "binance-spot", weight_limit=30, ban_after=2, ban_s=5
            ) as server,
            aiohttp.ClientSession() as session,
        ):
            c = Signed(session, server.port)
            await faults(server.port, http_429=1)
            status, body, headers = await c.call("GET", "/api/v3/ping", signed=False)
            assert status == 429 and body["code"] == -1003 and "Retry-After" in headers
            assert (await c.call("GET", "/api/v3/ping", signed=False))[0] == 200

            seen = []
            for _ in range(12):
                status, body, headers = await c.call(
                    "GET", "/api/v3/depth", {"symbol": "BTCUSDT"}, signed=False
                )
                seen.append(status)
                if status != 200:
                    assert int(headers["Retry-After"]) > 0
            # 5 weight a request: 200 while under 30, then 429 (weight), then 418 (banned) after 2 more
            assert seen[:5] == [200] * 5
            assert 429 in seen and seen[-1] == 418
            assert seen.index(418) > seen.index(429)
            assert body["code"] == -1003 and "IP banned until" in body["msg"]

    run(body())


def test_ccxt_sees_rate_limits_as_ddos_protection(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "f.sqlite", "binance-spot") as server,
            ccxt_clients(server.port, futures=False) as (rest, _),
        ):
            await faults(server.port, http_429=1)
            with pytest.raises(ccxt.DDoSProtection):
                await rest.fetch_order_book(SPOT)
            assert (await rest.fetch_order_book(SPOT))["bids"]

    run(body())


@pytest.mark.parametrize(
    ("code", "exception"),
    [(-2010, ccxt.InsufficientFunds), (-1013, ccxt.InvalidOrder), (-1015, ccxt.RateLimitExceeded)],
)
def test_injected_order_rejections_carry_binance_codes(
    code: int, exception: type[Exception], spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "f.sqlite", "binance-spot") as server,
            ccxt_clients(server.port, futures=False) as (rest, _),
        ):
            await faults(server.port, reject_orders=1, reject_code=code)
            with pytest.raises(exception):
                await rest.create_order(SPOT, "market", "buy", 0.001)
            assert json.loads(rest.last_http_response)["code"] == code
            assert (await rest.create_order(SPOT, "market", "buy", 0.001))["status"] == "closed"

    run(body())


def test_invalid_fault_settings_are_refused_by_name(spot_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with emulator(spot_stream, tmp_path / "f.sqlite", "binance-spot") as server:
            reply = await faults(server.port, ws_dorp=1)
            assert "ws_dorp" in reply["error"]
            reply = await faults(server.port, reject_orders=1, reject_code=-9999)
            assert "reject_msg" in reply["error"]

    run(body())
