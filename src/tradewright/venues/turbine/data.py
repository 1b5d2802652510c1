"""Turbine market data: the public stream (`/api/v1/stream`) and resolution tracking.

The stream sends full `orderbook` snapshots (no deltas), so a book is simply replaced by each one
that is newer than the last (`lastUpdate`); a frame may hold several messages, one a line. A dropped
connection is re-opened with backoff and every market resubscribed. Written from Turbine's
WebSocket documentation and turbine-py-client's `ws` module (the `outcome` of a book message is
taken from the message, defaulting to YES — whether one subscription carries both outcomes' books
is not documented, so both are subscribed explicitly).

`follow_resolution(market)` polls `GET /api/v1/resolution/{id}` after a market ends and emits one
`MarketResolved` per outcome when the venue reports the winner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import aiohttp

from tradewright.core.errors import TradewrightError
from tradewright.core.ids import InstrumentId
from tradewright.model.prediction import BinaryMarket, Resolution, resolution_events
from tradewright.venues._common.backoff import Backoff
from tradewright.venues._common.feed import FeedStats
from tradewright.venues._common.ports import (
    BookCallback,
    BookLevels,
    TradeCallback,
    VenueHealth,
    VenueHooks,
    VenueStatus,
)
from tradewright.venues.turbine.client import TurbineApiError, TurbineHttp
from tradewright.venues.turbine.parsing import VENUE, decode, from_micro, split_frame
from tradewright.venues.turbine.schemas import Book
from tradewright.venues.turbine.schemas import Resolution as VResolution

__all__ = ["TurbineMarketData"]

_OUTCOMES = ("YES", "NO")


class TurbineMarketData:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws_url: str,
        http: TurbineHttp,
        hooks: VenueHooks,
        markets: Callable[[str], BinaryMarket | None],
        *,
        depth: int = 50,
        backoff: Backoff | None = None,
    ) -> None:
        self._session = session
        self._url = ws_url.rstrip("/") + "/api/v1/stream"
        self._http = http
        self._hooks = hooks
        self._market = markets
        self._depth = depth
        self._backoff = backoff or Backoff(0.1, 10.0)
        self._stats = FeedStats()
        self._books: dict[InstrumentId, list[BookCallback]] = {}
        self._last: dict[InstrumentId, int] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._runner: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.resolved: set[str] = set()

    @property
    def stats(self) -> FeedStats:
        return self._stats

    async def run_book(self, instrument_id: InstrumentId, on_book: BookCallback) -> None:
        self._books.setdefault(instrument_id, []).append(on_book)
        market_id = instrument_id.symbol.rpartition("-")[0]
        if self._ws is not None and not self._ws.closed:
            await self._subscribe(market_id)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="turbine stream")
        try:
            await asyncio.Event().wait()
        finally:
            self._books[instrument_id].remove(on_book)
            if not self._books[instrument_id]:
                del self._books[instrument_id]
                if not any(i.symbol.startswith(market_id) for i in self._books):
                    await self._send({"type": "unsubscribe", "marketId": market_id})

    async def run_trades(self, instrument_id: InstrumentId, on_trade: TradeCallback) -> None:
        """Public trades are not streamed per outcome in a documented form: nothing is delivered."""
        await asyncio.Event().wait()

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._ws is not None:
            await self._ws.close()

    async def _send(self, payload: dict[str, object]) -> None:
        ws = self._ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(json.dumps(payload, separators=(",", ":")))

    async def _subscribe(self, market_id: str) -> None:
        for outcome in (0, 1):
            await self._send({"type": "subscribe", "marketId": market_id, "data": {"outcome": outcome}})

    async def _run(self) -> None:
        first = True
        while True:
            try:
                async with self._session.ws_connect(self._url, autoping=True) as ws:
                    self._ws = ws
                    if not first:
                        self._stats.reconnects += 1
                    first = False
                    for market_id in {i.symbol.rpartition("-")[0] for i in self._books}:
                        await self._subscribe(market_id)
                    self.connected.set()
                    self._status(VenueHealth.UP, "stream connected")
                    async for msg in ws:
                        if msg.type is aiohttp.WSMsgType.TEXT:
                            self._backoff.reset()
                            self._on_frame(msg.data)
                        elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                            break
            except asyncio.CancelledError:
                raise
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                self._hooks.log.warning("turbine stream: %s", exc)
            self.connected.clear()
            self._ws = None
            self._status(VenueHealth.DEGRADED, "stream disconnected; reconnecting")
            await asyncio.sleep(self._backoff.next_delay_s())

    def _status(self, health: VenueHealth, reason: str) -> None:
        self._hooks.on_status(VenueStatus(VENUE, health, reason, self._hooks.clock.now_ns()))

    def _on_frame(self, text: str) -> None:
        try:
            messages = split_frame(text)
        except TradewrightError as exc:
            self._hooks.log.warning("turbine: skipped a malformed frame (%s): %.300s", exc, text)
            return
        for msg in messages:
            if msg.type != "orderbook":
                continue
            try:
                book = decode(Book, msg.data, "orderbook")
                self._on_book(book)
            except TradewrightError as exc:
                self._hooks.log.warning("turbine: skipped a malformed book (%s)", exc)
                for iid in self._books:
                    self._stats.of(iid).malformed += 1
                    break

    def _on_book(self, book: Book) -> None:
        if book.outcome not in (0, 1):
            return
        iid = InstrumentId(f"{book.marketId}-{_OUTCOMES[book.outcome]}", VENUE)
        callbacks = self._books.get(iid)
        market = self._market(book.marketId)
        if not callbacks or market is None:
            return
        if book.lastUpdate < self._last.get(iid, 0):
            return  # an older snapshot than the one in use
        self._last[iid] = book.lastUpdate
        inst = market.instrument(book.outcome)
        bids = _ladder(inst.tick_size, inst.lot_size, [(lv.price, lv.size) for lv in book.bids], down=True)[
            : self._depth
        ]
        asks = _ladder(inst.tick_size, inst.lot_size, [(lv.price, lv.size) for lv in book.asks], down=False)[
            : self._depth
        ]
        stats = self._stats.of(iid)
        stats.updates += 1
        stats.last_update_ns = self._hooks.clock.now_ns()
        for callback in list(callbacks):
            callback(iid, bids, asks)

    # --- resolution ----------------------------------------------------------------------------------
    async def follow_resolution(
        self, market: BinaryMarket, *, poll_s: float = 5.0, attempts: int = 720
    ) -> Resolution | None:
        """Poll until the venue reports the winner (the UMA assertion can take a while); emit it."""
        for _ in range(attempts):
            try:
                raw = await self._http.request("GET", f"/api/v1/resolution/{market.market_id}")
                res = decode(VResolution, raw, "resolution")
            except (TurbineApiError, TradewrightError) as exc:
                self._hooks.log.info(
                    "turbine resolution of %s not readable yet (%s)", market.market_id[:10], exc
                )
                res = None
            if res is not None and res.resolved and res.winner in (0, 1):
                resolution = Resolution.YES if res.winner == 0 else Resolution.NO
                if market.market_id not in self.resolved:
                    self.resolved.add(market.market_id)
                    now = self._hooks.clock.now_ns()
                    ts = res.timestamp * 1_000_000_000 if res.timestamp else now
                    for event in resolution_events(market, resolution, ts_event=ts, ts_init=now):
                        self._hooks.emit(event)
                return resolution
            await asyncio.sleep(poll_s)
        return None


def _ladder(tick: object, lot: object, levels: list[tuple[int, int]], *, down: bool) -> BookLevels:
    """(ticks, lots) levels best first, each price moved onto our tick grid away from the touch
    (bids down, asks up) and same-tick levels merged."""
    from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

    tick_d, lot_d = Decimal(str(tick)), Decimal(str(lot))
    merged: dict[int, int] = {}
    for price, size in levels:
        px = from_micro(price) / tick_d
        ticks = int(px.to_integral_value(rounding=ROUND_FLOOR if down else ROUND_CEILING))
        lots = int(from_micro(size) / lot_d)
        if lots > 0:
            merged[ticks] = merged.get(ticks, 0) + lots
    return sorted(merged.items(), reverse=down)
