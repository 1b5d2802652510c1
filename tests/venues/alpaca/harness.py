"""A local Alpaca replaying recorded NVDA daily bars (and BTC one-minute bars as BTC/USD), with the Alpaca
venue (alpaca-py) connected to it over its REST API and its streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.conftest import shared_data
from tests.venues.kit import Book
from tradewright.core.clock import LiveClock
from tradewright.servers._core import AccountSpec, Pacing, ReplayServer
from tradewright.servers.alpaca import build_alpaca_server
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.alpaca import AlpacaConfig, AlpacaVenue, connect

NVDA = "bars/backtrader/nvda-1999-2014.txt"
BTC = "bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz"
KEY, SECRET = "AKTEST0000000001", "s3cr3t-for-tests-only"


@asynccontextmanager
async def alpaca(crypto: bool = False, **options: Any) -> AsyncIterator[ReplayServer]:
    data = [(shared_data(NVDA), "NVDA", "us_equity")]
    if crypto:
        data = [(shared_data(BTC), "BTC/USD", "crypto")]
    server = build_alpaca_server(
        data, start="2014-01-02" if not crypto else "", pacing=Pacing.STEP, accounts=(AccountSpec(KEY, SECRET),),
        **options,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def config(server: ReplayServer, symbols: list[str] | None = None) -> AlpacaConfig:
    return AlpacaConfig(
        symbols=symbols or ["NVDA"], trading_url=server.url, stream_url=f"{server.ws_url}/stream",
        data_url=server.ws_url, timeout_s=5.0,
    )


@asynccontextmanager
async def venue(server: ReplayServer, **kw: Any) -> AsyncIterator[tuple[AlpacaVenue, Book]]:
    book = Book()
    hooks = VenueHooks(clock=LiveClock(), emit=book.emit, on_status=book.statuses.append)
    creds = Credentials("Alpaca", {"api_key": kw.pop("key", KEY), "secret": kw.pop("secret", SECRET)})
    v = await connect(config(server, **kw), creds, hooks)
    book.instruments = v.instruments
    stream = asyncio.create_task(v.execution.run_user_stream())
    try:
        assert await v.execution.wait_user_stream(10), "the trade stream did not connect"
        yield v, book
    finally:
        stream.cancel()
        await asyncio.gather(stream, return_exceptions=True)
        await v.close()
