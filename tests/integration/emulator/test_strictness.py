"""The emulator is as strict as Binance: filters that depend on the market and the account, duplicated
and malformed parameters, requests too large or too slow, and WebSocket requests that are not what they
should be — every refusal in Binance's JSON envelope, never a 500 or a plain-text page."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.emulator.support import (
    API_KEY,
    SECRET,
    Signed,
    admin,
    emulator,
    run,
    spot_path,
    stream_of,
    usdm_path,
)
from tradewright.core.errors import ConfigError

ORDER = {"/fapi/v1": "0.002", "/api/v3": "0.001"}


def order(price: str, qty: str, side: str = "BUY", **extra: Any) -> dict[str, Any]:
    return {
        "symbol": "BTCUSDT",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": qty,
        "price": price,
    } | extra


async def paused_mid(c: Signed, prefix: str) -> Decimal:
    await admin(int(c.base.rsplit(":", 1)[1]), "POST", "replay", {"paused": True})
    _, book, _ = await c.call("GET", f"{prefix}/depth", {"symbol": "BTCUSDT", "limit": 5}, signed=False)
    return (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2


# --- filters that need the market or the account ----------------------------------------------------
def test_usdm_percent_price_refuses_limits_beyond_the_mark_band_with_binance_codes(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(stream_of(usdm_path()), tmp_path / "u.sqlite", "binance-usdm") as server,
            aiohttp.ClientSession() as session,
        ):
            c = Signed(session, server.port)
            mid = await paused_mid(c, "/fapi/v1")
            status, high, _ = await c.call("POST", "/fapi/v1/order", order("4000000.0", "0.002"))
            assert status == 400 and high["code"] == -4016
            cap = Decimal(high["msg"].removeprefix("Limit price can't be higher than ").rstrip("."))
            assert abs(cap - mid * Decimal("1.05")) < 1
            status, low, _ = await c.call("POST", "/fapi/v1/order", order("50000.0", "0.002", side="SELL"))
            assert status == 400 and low["code"] == -4024 and "can't be lower than" in low["msg"]
            _, info, _ = await c.call("GET", "/fapi/v1/exchangeInfo", signed=False)
            filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
            assert (
                filters["PERCENT_PRICE"]["multiplierUp"],
                filters["PERCENT_PRICE"]["multiplierDown"],
            ) == (
                "1.0500",
                "0.9500",
            )
            _, open_orders, _ = await c.call("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
            assert open_orders == []

    run(body())


def test_spot_percent_price_by_side_refuses_a_bid_five_times_the_price(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(stream_of(spot_path()), tmp_path / "s.sqlite", "binance-spot") as server,
            aiohttp.ClientSession() as session,
        ):
            c = Signed(session, server.port)
            await paused_mid(c, "/api/v3")
            status, refused, _ = await c.call("POST", "/api/v3/order", order("999999.99", "0.00010"))
            assert (status, refused) == (
                400,
                {"code": -1013, "msg": "Filter failure: PERCENT_PRICE_BY_SIDE"},
            )
            _, info, _ = await c.call("GET", "/api/v3/exchangeInfo", signed=False)
            band = next(
                f for f in info["symbols"][0]["filters"] if f["filterType"] == "PERCENT_PRICE_BY_SIDE"
            )
            assert (band["bidMultiplierUp"], band["askMultiplierDown"]) == ("5", "0.2")

    run(body())


def test_max_num_orders_refuses_the_201st_open_order(tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(
                stream_of(usdm_path()),
                tmp_path / "u.sqlite",
                "binance-usdm",
                orders_per_10s=1000,
                weight_limit=100_000,
            ) as server,
            aiohttp.ClientSession() as session,
        ):
            c = Signed(session, server.port)
            mid = await paused_mid(c, "/fapi/v1")
            price = f"{(mid * Decimal('0.97')).quantize(Decimal('0.1'))}"
            for n in range(200):
                status, placed, _ = await c.call("POST", "/fapi/v1/order", order(price, "0.002"))
                assert status == 200, (n, placed)
            status, refused, _ = await c.call("POST", "/fapi/v1/order", order(price, "0.002"))
            assert (status, refused) == (400, {"code": -2025, "msg": "Reach max open order limit."})

    run(body(), timeout=120)


# --- parameters ------------------------------------------------------------------------------------
def _signed_query(pairs: list[tuple[str, str]]) -> str:
    query = urllib.parse.urlencode([*pairs, ("timestamp", str(int(time.time() * 1000)))])
    return f"{query}&signature={hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()}"


def test_a_duplicated_parameter_is_refused_even_when_signed_and_nothing_is_placed(tmp_path: Path) -> None:
    async def body() -> None:
        async with emulator(stream_of(usdm_path()), tmp_path / "u.sqlite", "binance-usdm") as server:
            base = f"http://127.0.0.1:{server.port}"
            pairs = [*list(order("59000.0", "0.002").items()), ("quantity", "5")]
            async with (
                aiohttp.ClientSession(headers={"X-MBX-APIKEY": API_KEY}) as session,
                session.post(f"{base}/fapi/v1/order?{_signed_query(pairs)}") as resp,
            ):
                assert resp.status == 400
                assert await resp.json() == {
                    "code": -1101,
                    "msg": "Duplicate values for a parameter detected.",
                }
            assert len(server.exchange.orders) == 0

    run(body())


@pytest.mark.parametrize(
    "timestamp",
    [
        "+1796000000000",
        "1_796_000_000_000",
        "١٧٩٦",
        " 1796000000000",
        "1796000000000\n",
        "1e12",
        "99999999999999999999",
    ],
)
def test_numbers_follow_binances_grammar_not_pythons(tmp_path: Path, timestamp: str) -> None:
    async def body() -> None:
        async with emulator(stream_of(usdm_path()), tmp_path / "u.sqlite", "binance-usdm") as server:
            base = f"http://127.0.0.1:{server.port}"
            query = urllib.parse.urlencode({"symbol": "BTCUSDT", "timestamp": timestamp, "signature": "00"})
            async with (
                aiohttp.ClientSession(headers={"X-MBX-APIKEY": API_KEY}) as session,
                session.get(f"{base}/fapi/v1/openOrders?{query}") as resp,
            ):
                assert resp.status == 400
                assert await resp.json() == {
                    "code": -1100,
                    "msg": "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.",
                }

    run(body())


@pytest.mark.parametrize("quantity", ["1e-3", "0x10", "+0.002", "0.002\n", "NaN", "Infinity", "٠.٠٠٢"])
def test_decimal_parameters_follow_binances_grammar(tmp_path: Path, quantity: str) -> None:
    async def body() -> None:
        async with (
            emulator(stream_of(usdm_path()), tmp_path / "u.sqlite", "binance-usdm") as server,
            aiohttp.ClientSession() as session,
        ):
            status, refused, _ = await Signed(session, server.port).call(
                "POST", "/fapi/v1/order", order("59000.0", quantity)
            )
            assert status == 400 and refused["code"] == -1100 and "'quantity'" in refused["msg"]

    run(body())


# --- requests too large, malformed or too slow -----------------------------------------------------
async def _raw(port: int, data: bytes, read_s: float = 5.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), read_s)
    finally:
        writer.close()


def _json_status(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/json" in head, answer[:300]
    return int(head.split(b" ", 2)[1]), body


def test_oversized_bodies_request_lines_and_headers_get_binance_json(tmp_path: Path) -> None:
    async def body() -> None:
        async with emulator(stream_of(usdm_path()), tmp_path / "u.sqlite", "binance-usdm") as server:
            base = f"http://127.0.0.1:{server.port}"
            async with (
                aiohttp.ClientSession(headers={"X-MBX-APIKEY": API_KEY}) as session,
                session.post(f"{base}/fapi/v1/order", data=b"a=" + b"x" * 1_000_000) as resp,
            ):
                assert resp.status == 413 and resp.content_type == "application/json"
                assert (await resp.json())["code"] == -1101
            line = await _raw(
                server.port, b"GET /fapi/v1/time?" + b"a" * 8192 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            assert _json_status(line) == (
                414,
                b'{"code":-1101,"msg":"Too many parameters sent for this endpoint."}',
            )
            header = await _raw(
                server.port,
                b"GET /fapi/v1/time HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: " + b"k" * 9000 + b"\r\n\r\n",
            )
            assert _json_status(header)[0] == 431
            garbage = await _raw(server.port, b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
            assert _json_status(garbage) == (400, b'{"code":-1102,"msg":"Malformed request."}')

    run(body())


def test_a_connection_that_never_finishes_its_request_is_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        async with emulator(
            stream_of(usdm_path()),
            tmp_path / "u.sqlite",
            "binance-usdm",
            header_timeout_s=0.5,
            idle_timeout_s=1.0,
        ) as server:
            started = time.monotonic()
            half_open = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(50)]
            for _, writer in half_open:
                writer.write(b"GET /fapi/v1/time HTTP/1.1\r\nHost: x\r\n")  # the head never ends
            closed = await asyncio.gather(*(asyncio.wait_for(r.read(), 5) for r, _ in half_open))
            assert closed == [b""] * 50 and time.monotonic() - started < 3
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /fapi/v1/time HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(4096), 5)
            assert b"200 OK" in answer
            assert await asyncio.wait_for(reader.read(), 5) == b""  # idle keep-alive closed after 1 s
            for _, w in [*half_open, (reader, writer)]:
                w.close()

    run(body())


# --- WebSocket requests ----------------------------------------------------------------------------
def test_websocket_requests_that_are_nested_or_mistyped_get_errors_and_the_connection_stays(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        async with emulator(stream_of(usdm_path()), tmp_path / "u.sqlite", "binance-usdm") as server:
            base = f"ws://127.0.0.1:{server.port}"
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{base}/ws-fapi/v1") as ws,
            ):
                await ws.send_str('{"id":1,"method":"time","params":' + "[" * 50_000 + "]" * 50_000 + "}")
                assert (await ws.receive_json(timeout=5))["error"]["code"] == -1102
                await ws.send_json({"id": 2, "method": "account.status", "params": {"apiKey": 5}})
                answer = await ws.receive_json(timeout=5)
                assert (answer["status"], answer["error"]) == (
                    401,
                    {"code": -2014, "msg": "API-key format invalid."},
                )
                duplicated = '{"id":5,"method":"order.place","params":{"symbol":"BTCUSDT","quantity":"0.002","quantity":"5"}}'
                await ws.send_str(duplicated)  # a key twice, as a parameter twice over REST: refused
                assert (await ws.receive_json(timeout=5))["error"]["code"] == -1102
                await ws.send_json({"id": 3, "method": "time"})
                assert (await ws.receive_json(timeout=5))["status"] == 200
                async with session.ws_connect(f"{base}/ws") as ws:
                    await ws.send_str("[" * 100_000)
                    assert (await ws.receive_json(timeout=5))["error"]["code"] == 3
                    await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 4})
                    assert (await ws.receive_json(timeout=5)) == {"result": [], "id": 4}

    run(body())


# --- secrets at rest -------------------------------------------------------------------------------
def test_the_state_file_holds_no_secret_and_a_restart_needs_the_same_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "u.sqlite"

    async def serve_once() -> None:
        async with (
            emulator(stream_of(usdm_path()), state, "binance-usdm") as server,
            aiohttp.ClientSession() as session,
        ):
            status, _, _ = await Signed(session, server.port).call("GET", "/fapi/v2/balance")
            assert status == 200

    run(serve_once())
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("u.sqlite"))
    assert SECRET.encode() not in stored and b"scrypt$" in stored
    run(serve_once())  # the same secret from the environment: accepted
    monkeypatch.setenv("TRADEWRIGHT_EMULATOR_API_SECRET", "another-secret")
    with pytest.raises(ConfigError, match=r"not the one state file .* was created with") as refused:
        run(serve_once())
    assert "another-secret" not in str(refused.value)


def test_a_state_file_from_before_hashing_has_its_plain_secret_hashed_and_wiped(tmp_path: Path) -> None:
    import sqlite3

    state = tmp_path / "old.sqlite"
    db = sqlite3.connect(state)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE accounts (api_key TEXT PRIMARY KEY, secret TEXT NOT NULL, leverage INTEGER NOT NULL, update_ms INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO accounts VALUES (?, ?, 20, 0)", (API_KEY, SECRET))
    db.commit()
    db.close()
    assert SECRET.encode() in state.read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("old.sqlite-*")
    )

    async def body() -> None:
        async with (
            emulator(stream_of(usdm_path()), state, "binance-usdm") as server,
            aiohttp.ClientSession() as session,
        ):
            status, _, _ = await Signed(session, server.port).call("GET", "/fapi/v2/balance")
            assert status == 200  # the secret from the environment matches the migrated hash

    run(body())
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("old.sqlite"))
    assert SECRET.encode() not in stored and b"scrypt$" in stored
