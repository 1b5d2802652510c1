"""Public market data of one Binance USD-M symbol through ccxt.pro: the L2 book and public trades."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import ccxt

from tradewright.core.clock import Clock
from tradewright.core.errors import VenueError
from tradewright.model.data import TradeTick
from tradewright.model.instrument import Instrument
from tradewright.venues.binance.parsing import book_levels, trade_tick

__all__ = ["BinanceMarketData", "BookLevels"]

BookLevels = list[tuple[int, int]]  # (ticks, lots), best first
_BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0)


class BinanceMarketData:
    """Watch the book (its top `depth` levels a side, after every update) and the public trades.

    CCXT keeps the book in sync (REST snapshot + diffs by update id, resynchronising after a gap); a
    dropped connection is retried with backoff, and the book callback then gets the fresh book.
    """

    def __init__(
        self,
        exchange: Any,
        instrument: Instrument,
        market_symbol: str,
        clock: Clock,
        *,
        depth: int,
        on_book: Callable[[BookLevels, BookLevels], None],
        on_trade: Callable[[TradeTick], None] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self._ex = exchange
        self.instrument = instrument
        self._symbol = market_symbol
        self._clock = clock
        self._depth = depth
        self._on_book = on_book
        self._on_trade = on_trade
        self._log = log or logging.getLogger("tradewright.venues.binance.data")
        self.malformed = 0
        self.reconnects = 0

    async def run_book(self) -> None:
        failures = 0
        while True:
            try:
                book = await self._ex.watch_order_book(self._symbol)
            except ccxt.NetworkError as exc:
                failures += 1
                self.reconnects += 1
                pause = _BACKOFF_S[min(failures, len(_BACKOFF_S)) - 1]
                self._log.warning("order book stream: %s; retrying in %.1f s", exc, pause)
                await asyncio.sleep(pause)
                continue
            failures = 0
            try:
                bids = book_levels(book["bids"], self.instrument, self._depth)
                asks = book_levels(book["asks"], self.instrument, self._depth)
            except VenueError as exc:
                self.malformed += 1
                self._log.warning("skipped a book update: %s", exc)
                continue
            self._on_book(bids, asks)

    async def run_trades(self) -> None:
        if self._on_trade is None:
            return
        failures = 0
        while True:
            try:
                trades = await self._ex.watch_trades(self._symbol)
            except ccxt.NetworkError as exc:
                failures += 1
                self.reconnects += 1
                pause = _BACKOFF_S[min(failures, len(_BACKOFF_S)) - 1]
                self._log.warning("trade stream: %s; retrying in %.1f s", exc, pause)
                await asyncio.sleep(pause)
                continue
            failures = 0
            for raw in trades:
                try:
                    tick = trade_tick(raw, self.instrument, self._clock.now_ns())
                except VenueError as exc:
                    self.malformed += 1
                    self._log.warning("skipped a trade: %s", exc)
                    continue
                self._on_trade(tick)
