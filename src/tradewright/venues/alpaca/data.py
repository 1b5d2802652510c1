"""Alpaca market data: bars (one-minute and daily), the best bid and offer (a one-level book) and
trades, for stocks (``/v2/{feed}``) and crypto (``/v1beta3/crypto/us``).

Alpaca allows one data connection per key per endpoint, so all subscriptions of one endpoint share one
alpaca-py stream (started on first use; it reconnects and resubscribes by itself, and each reconnect is
counted in `stats`). Bars that complete while the stream is down are not resent by Alpaca: the feed
reports the reconnect and the caller decides (the historical-bars API fills such gaps).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import InstrumentId, TradeId
from tradewright.model.data import Bar, TradeTick
from tradewright.model.instrument import Instrument
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.feed import FeedStats
from tradewright.venues._common.ports import BarCallback, BookCallback, TradeCallback
from tradewright.venues.alpaca.config import AlpacaConfig
from tradewright.venues.alpaca.parsing import exact
from tradewright.venues.alpaca.streams import BridgedCryptoStream, BridgedStockStream, StreamThread

__all__ = ["BAR_INTERVALS", "AlpacaMarketData"]

_S = 1_000_000_000
BAR_INTERVALS = {60 * _S: "bars", 86_400 * _S: "dailyBars"}
_log = logging.getLogger("tradewright.venues.alpaca")


class AlpacaMarketData:
    """`MarketFeed` and `BarFeed` of one Alpaca account's data subscription."""

    def __init__(
        self,
        config: AlpacaConfig,
        credentials: Credentials,
        symbols: dict[InstrumentId, tuple[str, Instrument, bool]],
        clock_ns: Callable[[], int],
    ) -> None:
        self._config = config
        self._credentials = credentials
        self._symbols = symbols
        self._now = clock_ns
        self._streams: dict[bool, StreamThread] = {}
        self._stats = FeedStats()

    @property
    def stats(self) -> FeedStats:
        return self._stats

    def _stream(self, crypto: bool) -> StreamThread:
        thread = self._streams.get(crypto)
        if thread is None:
            kind = BridgedCryptoStream if crypto else BridgedStockStream
            stream = kind(
                self._credentials.get("api_key"),
                self._credentials.get("secret"),
                raw_data=True,
                url_override=self._config.data_stream(crypto),
            )
            thread = self._streams[crypto] = StreamThread(stream, "crypto data" if crypto else "stock data", asyncio.get_running_loop())
            thread.on_reconnect.append(self._reconnected)
            thread.start()
        return thread

    def _reconnected(self) -> None:
        self._stats.reconnects += 1

    def _lookup(self, instrument_id: InstrumentId) -> tuple[str, Instrument, bool]:
        found = self._symbols.get(instrument_id)
        if found is None:
            raise ConfigError(f"{instrument_id} is not one of the Alpaca venue's configured symbols")
        return found

    async def _hold(self, subscribe: Callable[[], None], unsubscribe: Callable[[], None]) -> None:
        subscribe()
        try:
            await asyncio.Event().wait()
        finally:
            try:
                unsubscribe()
            except Exception:  # the stream may already be gone
                _log.debug("Alpaca unsubscribe failed", exc_info=True)

    async def run_bars(self, instrument_id: InstrumentId, interval_ns: int, on_bar: BarCallback) -> None:
        symbol, inst, crypto = self._lookup(instrument_id)
        channel = BAR_INTERVALS.get(interval_ns)
        if channel is None:
            raise ConfigError("Alpaca streams one-minute bars and daily bars (60 s or 86,400 s)")
        thread = self._stream(crypto)
        stats = self._stats.of(instrument_id)

        def on_raw(message: Any) -> None:
            try:
                bar = _bar(message, inst, interval_ns, self._now())
            except (VenueError, KeyError, TypeError, AttributeError) as exc:
                stats.malformed += 1
                stats.last_problem = str(exc)
                return
            stats.updates += 1
            stats.last_update_ns = bar.ts_init
            on_bar(bar)

        handler = thread.bridge(on_raw)
        stream = thread.stream
        if channel == "bars":
            await self._hold(lambda: stream.subscribe_bars(handler, symbol), lambda: stream.unsubscribe_bars(symbol))
        else:
            await self._hold(lambda: stream.subscribe_daily_bars(handler, symbol), lambda: stream.unsubscribe_daily_bars(symbol))

    async def run_book(self, instrument_id: InstrumentId, on_book: BookCallback) -> None:
        symbol, inst, crypto = self._lookup(instrument_id)
        thread = self._stream(crypto)
        stats = self._stats.of(instrument_id)

        def on_raw(message: Any) -> None:
            try:
                bid = _level(message["bp"], message["bs"], inst)
                ask = _level(message["ap"], message["as"], inst)
            except (VenueError, KeyError, TypeError) as exc:
                stats.malformed += 1
                stats.last_problem = str(exc)
                return
            stats.updates += 1
            stats.last_update_ns = self._now()
            on_book(instrument_id, [] if bid is None else [bid], [] if ask is None else [ask])

        stream = thread.stream
        handler = thread.bridge(on_raw)
        await self._hold(lambda: stream.subscribe_quotes(handler, symbol), lambda: stream.unsubscribe_quotes(symbol))

    async def run_trades(self, instrument_id: InstrumentId, on_trade: TradeCallback) -> None:
        symbol, inst, crypto = self._lookup(instrument_id)
        thread = self._stream(crypto)
        stats = self._stats.of(instrument_id)

        def on_raw(message: Any) -> None:
            try:
                now = self._now()
                tick = TradeTick(
                    instrument_id=instrument_id,
                    price=exact(message["p"], inst.tick_size, "trade price"),
                    size=exact(message["s"], inst.lot_size, "trade size"),
                    aggressor=None,
                    trade_id=TradeId(str(message.get("i", ""))),
                    ts_event=int(message["t"].to_unix_nano()),
                    ts_init=now,
                )
            except (VenueError, KeyError, TypeError, AttributeError) as exc:
                stats.malformed += 1
                stats.last_problem = str(exc)
                return
            stats.trades += 1
            on_trade(tick)

        stream = thread.stream
        handler = thread.bridge(on_raw)
        await self._hold(lambda: stream.subscribe_trades(handler, symbol), lambda: stream.unsubscribe_trades(symbol))

    async def close(self) -> None:
        for thread in self._streams.values():
            await thread.stop()
        self._streams.clear()


def _bar(message: Any, inst: Instrument, interval_ns: int, now: int) -> Bar:
    opened = int(message["t"].to_unix_nano())
    return Bar(
        instrument_id=inst.id,
        interval_ns=interval_ns,
        open=exact(message["o"], inst.tick_size, "bar open"),
        high=exact(message["h"], inst.tick_size, "bar high"),
        low=exact(message["l"], inst.tick_size, "bar low"),
        close=exact(message["c"], inst.tick_size, "bar close"),
        volume=Decimal(repr(float(message["v"]))),
        ts_event=opened + interval_ns,
        ts_init=now,
    )


def _level(price: Any, size: Any, inst: Instrument) -> tuple[int, int] | None:
    if not price or not size or price <= 0 or size <= 0:
        return None
    ticks = inst.price_to_ticks(exact(price, inst.tick_size, "quote"))
    lots = int(Decimal(repr(float(size))) / inst.lot_size)
    return ticks, lots
