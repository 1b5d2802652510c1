"""Polymarket's market channel: one WebSocket for every token followed, books verified against the
venue's own top, rebuilt from REST after any disagreement, tick-size changes and resolutions passed on.

- `run_book(instrument_id, on_book)` registers the token on the shared connection (subscribing it at
  once when the connection is up) and calls `on_book` after every update that leaves the book trusted
  (see `tradewright.venues.polymarket.books`). A stale book is rebuilt from `GET /book` and counted in
  `FeedStats.resyncs`; a dropped connection is re-opened with backoff, every token resubscribed and
  every book rebuilt from the fresh `book` messages.
- `tick_size_change` moves the market to its new grid (`VenueHooks.on_instrument`) and rebuilds the book.
- `market_resolved` becomes one `MarketResolved` per outcome token (`VenueHooks.emit`).
- `last_trade_price` becomes a `TradeTick` for `run_trades` callers.
- A malformed message is counted, logged with its raw text (truncated), and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tradewright.core.errors import TradewrightError, VenueError
from tradewright.core.ids import InstrumentId
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.model.prediction import resolution_events
from tradewright.venues._common.backoff import Backoff
from tradewright.venues._common.feed import FeedStats
from tradewright.venues._common.ports import BookCallback, TradeCallback, VenueHealth, VenueHooks, VenueStatus
from tradewright.venues.polymarket.books import BookStatus, TokenBooks
from tradewright.venues.polymarket.catalog import Catalog
from tradewright.venues.polymarket.http import ClobHttp, PolymarketApiError
from tradewright.venues.polymarket.parsing import VENUE, decode, ms_to_ns, parse_market_messages
from tradewright.venues.polymarket.schemas import (
    BestBidAsk,
    BookMessage,
    BookSummary,
    LastTradePrice,
    MarketResolvedMessage,
    PriceChangeLegacy,
    PriceChangeMessage,
    TickSizeChange,
)

__all__ = ["PolymarketMarketData"]


@dataclass(slots=True)
class _Follow:
    books: list[BookCallback] = field(default_factory=list)
    trades: list[TradeCallback] = field(default_factory=list)


class PolymarketMarketData:
    """The market channel of one Polymarket connection (see the module docstring)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws_url: str,
        http: ClobHttp,
        catalog: Catalog,
        hooks: VenueHooks,
        *,
        depth: int = 50,
        ping_interval_s: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._session = session
        self._url = ws_url.rstrip("/") + "/ws/market"
        self._http = http
        self.catalog = catalog
        self._hooks = hooks
        self._depth = depth
        self._ping_s = ping_interval_s
        self._backoff = backoff or Backoff(0.1, 10.0)
        self.books = TokenBooks()
        self._stats = FeedStats()
        self._follow: dict[str, _Follow] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._runner: asyncio.Task[None] | None = None
        self._resyncing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()
        self.resolved: set[str] = set()  # condition ids resolved while we watched

    @property
    def stats(self) -> FeedStats:
        return self._stats

    # --- MarketFeed ---------------------------------------------------------------------------
    async def run_book(self, instrument_id: InstrumentId, on_book: BookCallback) -> None:
        token = self.catalog.token_of(instrument_id)
        follow = self._join(token)
        follow.books.append(on_book)
        try:
            await asyncio.Event().wait()
        finally:
            follow.books.remove(on_book)

    async def run_trades(self, instrument_id: InstrumentId, on_trade: TradeCallback) -> None:
        token = self.catalog.token_of(instrument_id)
        follow = self._join(token)
        follow.trades.append(on_trade)
        try:
            await asyncio.Event().wait()
        finally:
            follow.trades.remove(on_trade)

    def _join(self, token: str) -> _Follow:
        follow = self._follow.get(token)
        if follow is None:
            follow = self._follow[token] = _Follow()
            market, _ = self.catalog.by_token(token)
            self.books.follow(token, market.tick_size)
            if self._ws is not None and not self._ws.closed:
                self._spawn(
                    self._send(
                        {"operation": "subscribe", "assets_ids": [token], "custom_feature_enabled": True}
                    )
                )
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(
                self._run(), name="polymarket market channel"
            )
        return follow

    async def close(self) -> None:
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._ws is not None:
            await self._ws.close()

    # --- the connection -----------------------------------------------------------------------
    async def _run(self) -> None:
        first = True
        while True:
            try:
                async with self._session.ws_connect(self._url, heartbeat=None, autoping=True) as ws:
                    self._ws = ws
                    if not first:
                        self._stats.reconnects += 1
                    first = False
                    self.books.invalidate_all("reconnected: waiting for fresh snapshots")
                    await self._send(
                        {"type": "market", "assets_ids": list(self._follow), "custom_feature_enabled": True}
                    )
                    self.connected.set()
                    self._status(VenueHealth.UP, "market channel connected")
                    pinger = asyncio.get_running_loop().create_task(self._ping(ws))
                    try:
                        async for msg in ws:
                            if msg.type is aiohttp.WSMsgType.TEXT:
                                self._backoff.reset()
                                await self._on_frame(msg.data)
                            elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                                break
                    finally:
                        pinger.cancel()
            except asyncio.CancelledError:
                raise
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                self._hooks.log.warning("polymarket market channel: %s", exc)
            self.connected.clear()
            self._ws = None
            self._status(VenueHealth.DEGRADED, "market channel disconnected; reconnecting")
            await asyncio.sleep(self._backoff.next_delay_s())

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """The channel's keep-alive: the text PING (answered with PONG, which is ignored)."""
        while not ws.closed:
            await asyncio.sleep(self._ping_s)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str("PING")

    async def _send(self, payload: dict[str, object]) -> None:
        ws = self._ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(json.dumps(payload, separators=(",", ":")))

    def _status(self, health: VenueHealth, reason: str) -> None:
        self._hooks.on_status(VenueStatus(VENUE, health, reason, self._hooks.clock.now_ns()))

    # --- messages -----------------------------------------------------------------------------
    async def _on_frame(self, text: str) -> None:
        try:
            messages = parse_market_messages(text)
        except TradewrightError as exc:
            self._malformed(text, exc)
            return
        for msg in messages:
            try:
                await self._on_message(msg)
            except TradewrightError as exc:
                self._malformed(text, exc)

    def _malformed(self, text: str, exc: Exception) -> None:
        self._hooks.log.warning("polymarket: skipped a malformed market message (%s): %.300s", exc, text)
        for token in self._follow:
            self._stats.of(self._iid(token)).malformed += 1
            break

    async def _on_message(self, msg: object) -> None:
        if isinstance(msg, BookMessage):
            token, status = self.books.on_snapshot(msg)
            if status is BookStatus.OK:
                self._deliver(token)
            elif status is BookStatus.STALE:
                self._resync(token)
        elif isinstance(msg, PriceChangeMessage | PriceChangeLegacy):
            for token, status in self.books.on_price_change(msg).items():
                if status is BookStatus.OK:
                    self._deliver(token)
                elif status is BookStatus.STALE:
                    self._resync(token)
        elif isinstance(msg, BestBidAsk):
            if self.books.on_best_bid_ask(msg) is BookStatus.STALE:
                self._resync(msg.asset_id)
        elif isinstance(msg, TickSizeChange):
            self._on_tick_size(msg)
        elif isinstance(msg, LastTradePrice):
            self._on_trade(msg)
        elif isinstance(msg, MarketResolvedMessage):
            self._on_resolved(msg)

    def _iid(self, token: str) -> InstrumentId:
        market, index = self.catalog.by_token(token)
        return market.instrument_id(index)

    def _deliver(self, token: str) -> None:
        follow = self._follow.get(token)
        book = self.books.get(token)
        if follow is None or book is None or not book.valid:
            return
        instrument = self.catalog.instrument_of_token(token)
        bids, asks = book.ladder(instrument, self._depth)
        stats = self._stats.of(instrument.id)
        stats.updates += 1
        stats.last_update_ns = self._hooks.clock.now_ns()
        for callback in list(follow.books):
            callback(instrument.id, bids, asks)

    def _resync(self, token: str) -> None:
        if token in self._resyncing or token not in self._follow:
            return
        book = self.books.get(token)
        stats = self._stats.of(self._iid(token))
        stats.resyncs += 1
        stats.last_problem = book.problem if book is not None else "unknown"
        self._hooks.log.info(
            "polymarket %s: book stale (%s); fetching a snapshot", token[:12], stats.last_problem
        )
        self._resyncing.add(token)
        self._spawn(self._snapshot(token))

    async def _snapshot(self, token: str) -> None:
        try:
            for attempt in range(5):
                try:
                    raw = await self._http.request("GET", "/book", params={"token_id": token})
                    summary = decode(BookSummary, raw, "book summary")
                except (PolymarketApiError, VenueError) as exc:
                    self._hooks.log.warning("polymarket %s: snapshot failed (%s)", token[:12], exc)
                    await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
                    continue
                _, status = self.books.on_snapshot(summary)
                if status is BookStatus.OK:
                    self._deliver(token)
                    return
                await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
        finally:
            self._resyncing.discard(token)

    def _on_tick_size(self, msg: TickSizeChange) -> None:
        if not self.catalog.knows_token(msg.asset_id):
            return
        moved = self.catalog.set_tick_size(msg.asset_id, msg.new_tick_size)
        self.books.on_tick_size(msg)
        market, _ = self.catalog.by_token(msg.asset_id)
        for token in (t.token_id for t in market.tokens):
            book = self.books.get(token)
            if book is not None:
                book.tick_size = msg.new_tick_size
                book.invalidate(f"tick size changed to {msg.new_tick_size}")
        if moved is not None:
            self._hooks.log.info(
                "polymarket market %s: tick size %s -> %s",
                market.market_id[:12],
                msg.old_tick_size,
                msg.new_tick_size,
            )
            for instrument in moved:
                self._hooks.on_instrument(instrument)
        for token in (t.token_id for t in market.tokens):
            if token in self._follow:
                self._resync(token)

    def _on_trade(self, msg: LastTradePrice) -> None:
        follow = self._follow.get(msg.asset_id)
        if follow is None or not follow.trades:
            return
        iid = self._iid(msg.asset_id)
        self._stats.of(iid).trades += 1
        side = msg.side.upper()
        tick = TradeTick(
            instrument_id=iid,
            price=msg.price,
            size=msg.size,
            aggressor=OrderSide(side) if side in ("BUY", "SELL") else None,
            trade_id="",  # the channel carries no trade id
            ts_event=ms_to_ns(msg.timestamp),
            ts_init=self._hooks.clock.now_ns(),
        )
        for callback in list(follow.trades):
            callback(tick)

    def _on_resolved(self, msg: MarketResolvedMessage) -> None:
        if not self.catalog.knows_token(msg.winning_asset_id) or msg.market in self.resolved:
            return
        market, _ = self.catalog.by_token(msg.winning_asset_id)
        self.resolved.add(market.market_id)
        now = self._hooks.clock.now_ns()
        for event in resolution_events(
            market, market.resolution_of(msg.winning_asset_id), ts_event=ms_to_ns(msg.timestamp), ts_init=now
        ):
            self._hooks.emit(event)
        self._hooks.log.info(
            "polymarket market %s resolved: %s won", market.market_id[:12], msg.winning_outcome
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
