"""alpaca-py's stream clients run in their own threads (`run()` owns an event loop); this bridges them
to ours: messages are handed over in arrival order, and every (re)connection is reported, because what a
stream missed while it was down is only recovered by asking the REST API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from alpaca.data.live import CryptoDataStream, StockDataStream
from alpaca.trading.stream import TradingStream

__all__ = ["BridgedCryptoStream", "BridgedStockStream", "BridgedTradingStream", "StreamThread"]

_log = logging.getLogger("tradewright.venues.alpaca")


class _Connected:
    """Mixed into alpaca-py's streams: call `on_connected` after each (re)connection and login."""

    on_connected: Callable[[], None] = staticmethod(lambda: None)

    async def _start_ws(self) -> None:
        await super()._start_ws()  # type: ignore[misc]
        self.on_connected()


class BridgedTradingStream(_Connected, TradingStream):
    pass


class BridgedStockStream(_Connected, StockDataStream):
    pass


class BridgedCryptoStream(_Connected, CryptoDataStream):
    pass


class StreamThread:
    """One alpaca-py stream in a daemon thread. `bridge(callback)` makes a handler that hands each
    message to `callback` on our loop; `connections` counts the (re)connections."""

    def __init__(self, stream: Any, name: str, loop: asyncio.AbstractEventLoop) -> None:
        self.stream = stream
        self.name = name
        self._loop = loop
        self.connections = 0
        self.connected = asyncio.Event()
        self.on_reconnect: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        stream.on_connected = lambda: loop.call_soon_threadsafe(self._connected)

    def bridge(self, callback: Callable[[Any], None]) -> Callable[[Any], Any]:
        loop = self._loop

        async def handler(message: Any) -> None:
            loop.call_soon_threadsafe(callback, message)

        return handler

    def _connected(self) -> None:
        self.connections += 1
        self.connected.set()
        if self.connections > 1:
            _log.warning("Alpaca %s stream connected again (connection %d)", self.name, self.connections)
            for listener in list(self.on_reconnect):
                try:
                    listener()
                except Exception:  # a task boundary: one listener never stops the others
                    _log.exception("Alpaca %s reconnect listener failed", self.name)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.stream.run, name=f"alpaca-{self.name}", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        if self._thread is None:
            return
        loop = getattr(self.stream, "_loop", None)
        if loop is not None and loop.is_running():
            with contextlib.suppress(Exception):
                done = asyncio.run_coroutine_threadsafe(_halt(self.stream), loop)
                await asyncio.wait_for(asyncio.wrap_future(done), 5)
        await asyncio.to_thread(self._thread.join, 5)
        self._thread = None


async def _halt(stream: Any) -> None:
    """Stop the stream and close its socket now (its receive loop would notice a stop only within 5 s)."""
    await stream.stop_ws()
    await stream.close()
