"""Public market data of one Binance USD-M symbol through ccxt.pro: the L2 book and public trades."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import ccxt

from tradewright.core.clock import Clock
from tradewright.core.errors import TradewrightError, VenueError
from tradewright.model.data import TradeTick
from tradewright.model.instrument import Instrument
from tradewright.venues.binance.parsing import book_update, excerpt, trade_tick

__all__ = ["BinanceMarketData", "BookLevels"]

BookLevels = list[tuple[int, int]]  # (ticks, lots), best first
_BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0)
_RESYNC_TIMEOUT_S = 5.0


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
        self.resyncs = 0
        # Told (False, why) when the book's connection fails and (True, "") at the first update after.
        self.on_link: Callable[[bool, str], None] | None = None

    async def run_book(self) -> None:
        """Hand every sane book update to `on_book`; refuse the others and resynchronise the book.

        A refused update (`parsing.book_update` says why) means CCXT's local book holds a level the
        venue never had — e.g. a corrupted diff — which no later diff would remove: the subscription is
        dropped so that the next watch starts from a fresh snapshot. Nothing a message holds can end
        this task: an unexpected error is logged, counted and retried (this is the task's boundary).
        """
        failures = 0
        lost = False
        while True:
            try:
                book = await self._ex.watch_order_book(self._symbol)
            except ccxt.NetworkError as exc:
                failures += 1
                self.reconnects += 1
                lost = True
                if self.on_link is not None:
                    self.on_link(False, _short(exc))
                pause = _BACKOFF_S[min(failures, len(_BACKOFF_S)) - 1]
                self._log.warning("order book stream: %s; retrying in %.1f s", exc, pause)
                await asyncio.sleep(pause)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # CCXT failed on a message it could not parse: the book is unknown
                failures += 1
                self.malformed += 1
                pause = _BACKOFF_S[min(failures, len(_BACKOFF_S)) - 1]
                self._log.warning(
                    "order book stream: CCXT could not apply a venue message (%s); resynchronising in %.1f s",
                    _short(exc),
                    pause,
                )
                await self._resync_book()
                await asyncio.sleep(pause)
                continue
            failures = 0
            if lost:
                lost = False
                if self.on_link is not None:
                    self.on_link(True, "")
            try:
                bids, asks = book_update(book, self.instrument, self._depth)
                self._on_book(bids, asks)
            except TradewrightError as exc:  # VenueError (a bad update), BookError (the book cannot hold it)
                self.malformed += 1
                self._log.warning(
                    "order book of %s: refused a venue update (%s); resynchronising from a snapshot",
                    self._symbol,
                    exc,
                )
                await self._resync_book()

    async def _resync_book(self) -> None:
        """Drop CCXT's local book (unsubscribe): the next watch fetches a fresh snapshot."""
        try:
            await asyncio.wait_for(self._ex.un_watch_order_book(self._symbol), timeout=_RESYNC_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection may be gone already: the next watch reconnects anyway
            self._log.info("order book resync: unsubscribe did not complete (%s)", _short(exc))
        self.resyncs += 1

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
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # CCXT failed on a trade message it could not parse
                failures += 1
                self.malformed += 1
                pause = _BACKOFF_S[min(failures, len(_BACKOFF_S)) - 1]
                self._log.warning("trade stream: CCXT could not parse a venue message (%s)", _short(exc))
                await asyncio.sleep(pause)
                continue
            failures = 0
            for raw in trades if isinstance(trades, list) else []:
                try:
                    tick = trade_tick(raw, self.instrument, self._clock.now_ns())
                except VenueError as exc:
                    self.malformed += 1
                    self._log.warning("skipped a venue trade message: %s", exc)
                    continue
                self._on_trade(tick)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {excerpt(str(exc), 200)}"
