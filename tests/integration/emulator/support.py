"""Helpers for the emulator's integration tests: recordings, an in-process emulator, ccxt clients.

Every test runs its own emulator on an ephemeral port of 127.0.0.1 with its own state file. ccxt is
pointed at it by rewriting every URL in ``urls['api']`` (so nothing can leave the machine) and told to
load only the emulated market type.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from tests.conftest import bundled_data, shared_data
from tradewright.data.loading import load_stream
from tradewright.emulator import EmulatorConfig, EmulatorServer
from tradewright.model.columnar import MarketStream

T = TypeVar("T")

API_KEY = "emulator-api-key"
SECRET = "emulator-api-secret"
SPOT_RECORDING = "l2/hftbacktest/binance_spot_btcusdt_20240808.jsonl.gz"
USDM_RECORDING = "binance/binance_usdm_btcusdt_20240808.jsonl.gz"

_streams: dict[str, MarketStream] = {}


def spot_path() -> Path:
    return shared_data(SPOT_RECORDING)


def usdm_path() -> Path:
    return bundled_data(USDM_RECORDING)


def stream_of(path: Path) -> MarketStream:
    """Load a recording once per test session (the emulator only reads the arrays)."""
    key = str(path)
    if key not in _streams:
        _streams[key] = load_stream([path])
    return _streams[key]


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run a test body on a fresh event loop, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def emulator(
    stream: MarketStream, state: Path, venue: str, *, speed: float = 10.0, **settings: Any
) -> AsyncIterator[EmulatorServer]:
    """An emulator serving `stream` on 127.0.0.1 for the duration of the block."""
    config = EmulatorConfig(venue=venue, data=[stream.source], state=str(state), speed=speed, **settings)  # type: ignore[arg-type]
    server = EmulatorServer(config, stream=stream)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def point_at(ex: Any, port: int, *, futures: bool) -> Any:
    """Rewrite every ccxt URL to the emulator (scheme and host; paths kept) and load only its market type."""
    host = f"127.0.0.1:{port}"

    def walk(node: dict[str, Any]) -> None:
        for key, value in list(node.items()):
            if isinstance(value, dict):
                walk(value)
            elif isinstance(value, str) and "://" in value:
                scheme, rest = value.split("://", 1)
                path = rest.split("/", 1)[1] if "/" in rest else ""
                new_scheme = "ws" if scheme.startswith("ws") else "http"
                node[key] = f"{new_scheme}://{host}/{path}" if path else f"{new_scheme}://{host}"

    walk(ex.urls["api"])
    if "ws" in ex.urls["api"]:
        ws = ex.urls["api"]["ws"]
        ws["spot"] = ws["linear"] = f"ws://{host}/ws"  # ccxt appends /<n>; USD-M rewrites to /public/ws etc.
        ws["ws-api"]["spot"] = f"ws://{host}/ws-api/v3"
        ws["ws-api"]["linear"] = f"ws://{host}/ws-fapi/v1"
    ex.options["fetchMarkets"] = {"types": ["linear" if futures else "spot"]}
    ex.options["fetchCurrencies"] = False
    ex.options["fetchMargins"] = False
    return ex


@contextlib.asynccontextmanager
async def ccxt_clients(port: int, *, futures: bool, **options: Any) -> AsyncIterator[tuple[Any, Any]]:
    """(ccxt.async_support.binance, ccxt.pro.binance) on the emulator, markets loaded from it once."""
    import ccxt.async_support as ccxt_async
    import ccxt.pro as ccxt_pro

    kw: dict[str, Any] = {"apiKey": API_KEY, "secret": SECRET, "enableRateLimit": False}
    if futures:
        kw["options"] = {"defaultType": "swap"}
    rest = point_at(ccxt_async.binance(kw), port, futures=futures)
    pro = point_at(ccxt_pro.binance(kw), port, futures=futures)
    rest.options.update(options)
    pro.options.update(options)
    try:
        await rest.load_markets()
        pro.set_markets(rest.markets, rest.currencies)
        yield rest, pro
    finally:
        await rest.close()
        await pro.close()


class Signed:
    """A minimal hand-rolled Binance client, to see the raw wire (status, headers, body)."""

    def __init__(
        self, session: aiohttp.ClientSession, port: int, *, key: str = API_KEY, secret: str = SECRET
    ):
        self.session = session
        self.base = f"http://127.0.0.1:{port}"
        self.key = key
        self.secret = secret

    def sign(self, params: dict[str, Any], *, timestamp_ms: int | None = None) -> str:
        query = urllib.parse.urlencode(params | {"timestamp": timestamp_ms or int(time.time() * 1000)})
        signature = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        return f"{query}&signature={signature}"

    async def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, *, signed: bool = True, **kw: Any
    ) -> tuple[int, Any, dict[str, str]]:
        headers = {"X-MBX-APIKEY": self.key} if self.key else {}
        query = self.sign(params or {}, **kw) if signed else urllib.parse.urlencode(params or {})
        async with self.session.request(method, f"{self.base}{path}?{query}", headers=headers) as resp:
            body = await resp.json(content_type=None)
            return resp.status, body, dict(resp.headers)


async def admin(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"http://127.0.0.1:{port}/_admin/{path}", json=body) as resp,
    ):
        return await resp.json()


async def wait_until(predicate: Any, timeout: float = 10.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)
