"""A local IB gateway with recorded CME bars, the IB venue connected to it, and an event log that
applies the venue's events the way the kernel does (the real order manager and portfolio)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from tests.conftest import shared_data
from tests.venues.kit import Book
from tradewright.core.clock import LiveClock
from tradewright.servers.ib import IbGatewayServer, build_ib_server
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.ib import IbConfig, IbInstrumentConfig, IbVenue, connect

SIXE = "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
D = Decimal


@asynccontextmanager
async def gateway(**options: Any) -> AsyncIterator[IbGatewayServer]:
    server = build_ib_server([(shared_data(SIXE), "")], **options)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def config(port: int, **kw: Any) -> IbConfig:
    instruments = kw.pop("instruments", [IbInstrumentConfig(symbol="6E")])
    return IbConfig(port=port, client_id=kw.pop("client_id", 11), instruments=instruments, reconnect_base_s=0.05,
                    reconnect_cap_s=0.2, commission_wait_ms=500, bar_grace_s=30.0, **kw)


@asynccontextmanager
async def venue(server: IbGatewayServer, **kw: Any) -> AsyncIterator[tuple[IbVenue, Book]]:
    book = Book()
    hooks = VenueHooks(clock=LiveClock(), emit=book.emit, on_status=book.statuses.append)
    cfg = config(server.port, **kw)
    v = await connect(cfg, Credentials("Interactive Brokers", {}), hooks)
    book.instruments = v.instruments
    stream = asyncio.create_task(v.execution.run_user_stream())
    try:
        yield v, book
    finally:
        stream.cancel()
        await v.close()


