"""The real messages the fuzzers start from, all read from ../shared/data (and the bundled demo data).

Each loader and decoder is fed mutations of messages of its own kind: recording lines of the Binance
USD-M recording, OKX and Kraken book messages from the checksum recordings, Tardis and ES CSV rows, bar
rows; ORDER_TRADE_UPDATE, REST orders, user trades, accounts, exchangeInfo symbols, book and trade
messages from nautilus_trader's Binance fixtures; REST requests and WebSocket requests as CCXT sends
them, built from those fixtures' fields and the cryptofeed session recordings' request lines.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

from tests.conftest import shared_data

__all__ = [
    "FUTURES_USER",
    "book_seeds",
    "checksum_lines",
    "json_fixture",
    "order_update_seeds",
    "recording_lines",
    "rest_order_seeds",
    "rest_request_seeds",
    "symbol_seeds",
    "trade_seeds",
    "user_trade_seeds",
    "ws_request_seeds",
]

BINANCE = "venues/binance"
FUTURES_USER = f"{BINANCE}/nautilus_rust/futures/user_data_json"


def json_fixture(relative: str) -> Any:
    return json.loads(shared_data(relative).read_text())


@functools.cache
def recording_lines(n: int = 1_500) -> tuple[bytes, ...]:
    """The first `n` lines of the real USD-M recording: a snapshot, diffs, trades, bookTickers."""
    with gzip.open(shared_data("l2/hftbacktest/binance_usdm_btcusdt_20240808.jsonl.gz"), "rb") as fh:
        return tuple(fh.read().split(b"\n")[:n])


@functools.cache
def checksum_lines(name: str) -> tuple[bytes, ...]:
    with gzip.open(shared_data(f"checksums/{name}"), "rb") as fh:
        return tuple(fh.read().split(b"\n"))


@functools.cache
def order_update_seeds() -> tuple[Any, ...]:
    folder = shared_data(FUTURES_USER)
    return tuple(json.loads(p.read_text()) for p in sorted(folder.glob("order_update_*.json")))


@functools.cache
def rest_order_seeds() -> tuple[Any, ...]:
    return (json_fixture(f"{BINANCE}/nautilus_rust/futures/http_json/order_response.json"),)


@functools.cache
def user_trade_seeds() -> tuple[Any, ...]:
    return tuple(json_fixture(f"{BINANCE}/nautilus_py/http_responses/http_futures_account_trades.json"))


@functools.cache
def account_seeds() -> tuple[Any, ...]:
    return (json_fixture(f"{BINANCE}/nautilus_rust/futures/http_json/account_info_v2.json"),)


@functools.cache
def symbol_seeds() -> tuple[Any, ...]:
    info = json_fixture(f"{BINANCE}/nautilus_py/http_responses/http_futures_market_exchange_info.json")
    return tuple(s for s in info["symbols"] if s.get("contractType") == "PERPETUAL")[:5]


@functools.cache
def book_seeds() -> tuple[Any, ...]:
    """Order books as CCXT hands them over (floats, best first), from the REST depth snapshots."""
    out = []
    for line in recording_lines():
        if b"lastUpdateId" in line[:80]:
            snap = json.loads(line.partition(b" ")[2])
            out.append(
                {
                    "bids": [[float(p), float(q)] for p, q in snap["bids"][:20]],
                    "asks": [[float(p), float(q)] for p, q in snap["asks"][:20]],
                    "nonce": snap["lastUpdateId"],
                    "timestamp": snap.get("E"),
                }
            )
    return tuple(out)


@functools.cache
def trade_seeds() -> tuple[Any, ...]:
    """Public trades as CCXT hands them over: parsed fields and the raw message in `info`."""
    out = []
    for line in recording_lines():
        if b"@trade" in line[:80]:
            raw = json.loads(line.partition(b" ")[2])["data"]
            out.append(
                {
                    "info": raw,
                    "id": str(raw["t"]),
                    "price": float(raw["p"]),
                    "amount": float(raw["q"]),
                    "timestamp": raw["T"],
                    "side": "sell" if raw["m"] else "buy",
                }
            )
        if len(out) >= 50:
            break
    return tuple(out)


@functools.cache
def rest_request_seeds() -> tuple[tuple[str, str, dict[str, str]], ...]:
    """(method, path, parameters) of requests a client sends: the GETs of the cryptofeed recordings and
    orders made of the fields of the recorded order answers."""
    out: list[tuple[str, str, dict[str, str]]] = []
    with gzip.open(shared_data(f"{BINANCE}/cryptofeed_raw/BINANCE_FUTURES.0.gz"), "rt") as fh:
        for line in fh:
            if line.startswith("https://fapi.binance.com/") and " -> " in line:
                url = line.split(" -> ", 1)[0]
                path, _, query = url.removeprefix("https://fapi.binance.com").partition("?")
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                if "symbol" in params:
                    params["symbol"] = "BTCUSDT"  # the emulator trades one symbol
                out.append(("GET", path, params))
    order = rest_order_seeds()[0]
    placed = {
        "symbol": "BTCUSDT",
        "side": order["side"],
        "type": order["type"],
        "timeInForce": order["timeInForce"],
        "quantity": "0.002",
        "price": "61000.0",
        "newClientOrderId": order["clientOrderId"],
    }
    out += [
        ("POST", "/fapi/v1/order", placed),
        ("POST", "/fapi/v1/order", placed | {"timeInForce": "GTX"}),
        ("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": order["clientOrderId"]}),
        ("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": str(order["orderId"])}),
        ("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"}),
        ("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT", "limit": "10"}),
        ("GET", "/fapi/v2/account", {}),
        ("GET", "/fapi/v1/klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": "5"}),
        ("POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps([placed, placed])}),
        ("DELETE", "/fapi/v1/batchOrders", {"symbol": "BTCUSDT", "orderIdList": "[1,2]"}),
        ("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "10"}),
    ]
    return tuple(out)


@functools.cache
def ws_request_seeds() -> tuple[tuple[str, Any], ...]:
    """(path, request) of WebSocket requests: the subscriptions of the cryptofeed recordings, and
    WebSocket-API calls made of the recorded order answers' fields."""
    out: list[tuple[str, Any]] = []
    with gzip.open(shared_data(f"{BINANCE}/cryptofeed_raw/BINANCE_FUTURES.ws.1.0.gz"), "rt") as fh:
        first = fh.readline()
    streams = first.split("streams=", 1)[1].split()[0].split("/") if "streams=" in first else []
    out.append(
        (
            "/ws",
            {
                "method": "SUBSCRIBE",
                "params": [s.replace("sushiusdt", "btcusdt") for s in streams[:4]],
                "id": 1,
            },
        )
    )
    out += [
        ("/ws", {"method": "LIST_SUBSCRIPTIONS", "id": 2}),
        ("/ws", {"method": "SET_PROPERTY", "params": ["combined", True], "id": 3}),
        ("/ws", {"method": "UNSUBSCRIBE", "params": ["btcusdt@depth"], "id": 4}),
    ]
    order = rest_order_seeds()[0]
    out += [
        ("/ws-fapi/v1", {"id": "a1", "method": "time"}),
        ("/ws-fapi/v1", {"id": "a2", "method": "depth", "params": {"symbol": "BTCUSDT", "limit": 5}}),
        (
            "/ws-fapi/v1",
            {
                "id": "a3",
                "method": "order.place",
                "params": {
                    "symbol": "BTCUSDT",
                    "side": order["side"],
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.002",
                    "price": "61000.0",
                    "apiKey": "emulator-api-key",
                    "timestamp": 0,
                    "signature": "00",
                },
            },
        ),
        ("/ws-fapi/v1", {"id": "a4", "method": "account.status", "params": {"apiKey": "emulator-api-key"}}),
        (
            "/ws-fapi/v1",
            {
                "id": "a5",
                "method": "session.logon",
                "params": {"apiKey": "emulator-api-key", "timestamp": 0, "signature": "00"},
            },
        ),
    ]
    return tuple(out)


def tardis_rows(kind: str) -> tuple[str, list[str]]:
    """(header, rows) of a Tardis CSV sample."""
    text = shared_data(f"l2/nautilus/tardis_{kind}.csv").read_text()
    header, *rows = [line for line in text.splitlines() if line]
    return header, rows


def csv_sample(relative: str, n: int = 200) -> tuple[str, list[str]]:
    path = Path(relative) if Path(relative).is_absolute() else shared_data(relative)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:  # type: ignore[operator]
        lines = [fh.readline().rstrip("\n") for _ in range(n + 1)]
    return lines[0], [line for line in lines[1:] if line]
