"""Record prediction markets (Polymarket, Turbine): both outcome books of each market, its public trades,
tick-size changes and its resolution, one folder per market (`tradewright.data.binary_recording`), for
the binary-market backtest.

Only public data is read (no keys). Books are the adapters' verified books (Polymarket's are checked
against the venue's own best bid/ask and rebuilt from REST when they disagree; a rebuild starts with a
``clear`` row): each update is written as the levels that changed since the previous one, within the
feed's `book_depth` levels a side.

Polymarket: `--symbols` are condition ids. Turbine: `--symbols` are assets (``BTC``): the quick market
open now and every later one are recorded as they come (the rotation), each until it resolves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId
from tradewright.data.binary_recording import BinaryRecordingWriter, BinaryRow
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.model.events import Event, MarketResolved
from tradewright.model.instrument import Instrument
from tradewright.model.prediction import BinaryMarket
from tradewright.venues._common.ports import BookLevels, VenueHooks, VenueStatus

__all__ = ["BinaryRecordSummary", "MarketRecorder", "record_binary"]

log = logging.getLogger("tradewright.recorder")
_FLUSH_S = 1.0


@dataclass
class BinaryRecordSummary:
    folders: dict[str, Path] = field(default_factory=dict)  # market id -> folder
    rows: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, str] = field(default_factory=dict)  # market id -> YES/NO/SPLIT
    statuses: list[VenueStatus] = field(default_factory=list)


class MarketRecorder:
    """Rows of one market from the feed's callbacks (called on the event loop)."""

    def __init__(self, out: Path, market: BinaryMarket, clock: LiveClock) -> None:
        self.market = market
        self.clock = clock
        self.writer = BinaryRecordingWriter(out / str(market.venue) / market.market_id, market)
        self.instruments: dict[InstrumentId, Instrument] = {i.id: i for i in market.instruments()}
        self._last: dict[InstrumentId, dict[tuple[int, Decimal], Decimal]] = {}
        self.resolution = ""

    def _token(self, iid: InstrumentId) -> str:
        return self.market.tokens[self.market.index_of(iid)].token_id

    def book(self, iid: InstrumentId, bids: BookLevels, asks: BookLevels) -> None:
        inst = self.instruments[iid]
        now = self.clock.now_ns()
        levels = {(1, inst.ticks_to_price(t)): inst.lots_to_size(q) for t, q in bids}
        levels.update({(-1, inst.ticks_to_price(t)): inst.lots_to_size(q) for t, q in asks})
        token = self._token(iid)
        previous = self._last.get(iid)
        rows: list[BinaryRow] = []
        if previous is None:
            rows.append(BinaryRow(now, now, "clear", token, last=False))
            changed = levels
        else:
            changed = {k: v for k, v in levels.items() if previous.get(k) != v}
            changed.update({k: Decimal(0) for k in previous.keys() - levels.keys()})
        for (side, price), size in sorted(changed.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
            rows.append(BinaryRow(now, now, "level", token, side, price, size, last=False))
        self._last[iid] = levels
        if not rows:
            return
        rows[-1].last = True
        for row in rows:
            self.writer.add(row)

    def trade(self, t: TradeTick) -> None:
        side = 1 if t.aggressor is OrderSide.BUY else -1 if t.aggressor is OrderSide.SELL else 0
        now = self.clock.now_ns()
        self.writer.add(
            BinaryRow(
                t.ts_event or now,
                now,
                "trade",
                self._token(t.instrument_id),
                side,
                t.price,
                t.size,
                note=t.trade_id,
            )
        )

    def instrument(self, inst: Instrument) -> None:
        """The venue moved the market to a new tick: write it once, and rebuild the books from here."""
        if inst.id not in self.instruments:
            return
        old = self.instruments[inst.id]
        self.instruments[inst.id] = inst
        if inst.tick_size != old.tick_size and self.market.instrument_id(0) == inst.id:
            now = self.clock.now_ns()
            self.writer.add(BinaryRow(now, now, "tick", price=inst.tick_size))
        self._last.pop(inst.id, None)

    def resolved(self, event: MarketResolved) -> None:
        if self.resolution or event.resolution == "":
            return
        self.resolution = event.resolution
        now = self.clock.now_ns()
        self.writer.add(BinaryRow(event.ts_event or now, now, "resolved", note=event.resolution))
        self.writer.flush()


class _Recording:
    """The markets being recorded and the routing of the venue's callbacks to them."""

    def __init__(self, out: Path, clock: LiveClock, summary: BinaryRecordSummary) -> None:
        self.out = out
        self.clock = clock
        self.summary = summary
        self.markets: dict[str, MarketRecorder] = {}
        self.by_instrument: dict[InstrumentId, MarketRecorder] = {}
        self.tasks: list[asyncio.Task[Any]] = []

    def add(self, market: BinaryMarket) -> MarketRecorder:
        rec = self.markets[market.market_id] = MarketRecorder(self.out, market, self.clock)
        for iid in rec.instruments:
            self.by_instrument[iid] = rec
        self.summary.folders[market.market_id] = rec.writer.folder
        return rec

    def emit(self, event: Event) -> None:
        if isinstance(event, MarketResolved):
            rec = self.by_instrument.get(event.instrument_id)
            if rec is not None:
                rec.resolved(event)

    def on_instrument(self, inst: Instrument) -> None:
        rec = self.by_instrument.get(inst.id)
        if rec is not None:
            rec.instrument(inst)

    def book(self, iid: InstrumentId, bids: BookLevels, asks: BookLevels) -> None:
        rec = self.by_instrument.get(iid)
        if rec is not None:
            rec.book(iid, bids, asks)

    def trade(self, t: TradeTick) -> None:
        rec = self.by_instrument.get(t.instrument_id)
        if rec is not None:
            rec.trade(t)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(work, name=name))


async def record_binary(
    kind: str,
    config: Any,
    out: Path,
    *,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    resolution_poll_s: float = 5.0,
) -> BinaryRecordSummary:
    """Record the configured markets of `kind` (polymarket or turbine) into `out` until `duration_s`
    passes or `stop` is set (see the module docstring)."""
    if kind not in ("polymarket", "turbine"):
        raise ConfigError(f"venue kind {kind!r} has no binary markets to record")
    clock = LiveClock()
    summary = BinaryRecordSummary()
    rec = _Recording(out, clock, summary)
    hooks = VenueHooks(
        clock=clock,
        emit=rec.emit,
        on_status=summary.statuses.append,
        on_instrument=rec.on_instrument,
        log=log,
    )
    session = aiohttp.ClientSession()
    closers: list[Callable[[], Coroutine[Any, Any, None]]] = [session.close]
    try:
        if kind == "polymarket":
            feed_close = await _start_polymarket(config, session, hooks, rec)
        else:
            feed_close = await _start_turbine(config, session, hooks, rec, resolution_poll_s)
        closers.insert(0, feed_close)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        deadline = None if duration_s is None else loop.time() + duration_s
        while not stop.is_set() and (deadline is None or loop.time() < deadline):
            failed = [t for t in rec.tasks if t.done() and not t.cancelled() and t.exception() is not None]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
            wait = _FLUSH_S if deadline is None else max(0.0, min(_FLUSH_S, deadline - loop.time()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            for market in rec.markets.values():
                market.writer.flush()  # one row group a second: little is lost if the process dies
    finally:
        for task in rec.tasks:
            task.cancel()
        for task in rec.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for market_id, market in rec.markets.items():
            market.writer.close()
            summary.rows[market_id] = market.writer.written
            if market.resolution:
                summary.resolved[market_id] = market.resolution
        for close in closers:
            with contextlib.suppress(Exception):
                await close()
    return summary


async def _start_polymarket(
    config: Any, session: aiohttp.ClientSession, hooks: VenueHooks, rec: _Recording
) -> Callable[[], Coroutine[Any, Any, None]]:
    from tradewright.venues.polymarket.catalog import Catalog
    from tradewright.venues.polymarket.data import PolymarketMarketData
    from tradewright.venues.polymarket.factory import load_market
    from tradewright.venues.polymarket.http import ClobHttp

    if not config.markets:
        raise ConfigError("polymarket: name the condition ids to record (--symbols 0x...)")
    http = ClobHttp(session, config.clob, timeout_s=config.timeout_ms / 1000)
    markets = [(await load_market(http, cid, config.collateral))[0] for cid in config.markets]
    feed = PolymarketMarketData(
        session, config.ws_url, http, Catalog(markets), hooks, depth=config.book_depth,
        ping_interval_s=config.ping_interval_ms / 1000,
    )  # fmt: skip
    for market in markets:
        rec.add(market)
        for iid in (market.instrument_id(0), market.instrument_id(1)):
            rec.spawn(feed.run_book(iid, rec.book), f"book {iid}")
            rec.spawn(feed.run_trades(iid, rec.trade), f"trades {iid}")
    return feed.close


async def _start_turbine(
    config: Any, session: aiohttp.ClientSession, hooks: VenueHooks, rec: _Recording, poll_s: float
) -> Callable[[], Coroutine[Any, Any, None]]:
    from tradewright.venues.turbine.client import TurbineHttp
    from tradewright.venues.turbine.data import TurbineMarketData
    from tradewright.venues.turbine.factory import discover
    from tradewright.venues.turbine.parsing import market_of

    http = TurbineHttp(session, config.rest_url, timeout_s=config.timeout_ms / 1000)
    known: dict[str, BinaryMarket] = {}
    feed = TurbineMarketData(session, config.ws_url, http, hooks, known.get)

    async def follow(market: BinaryMarket) -> None:
        if market.end_ns is not None:
            await asyncio.sleep(max(0.0, (market.end_ns - hooks.clock.now_ns()) / 1e9))
        await feed.follow_resolution(market, poll_s=poll_s)

    async def rotate() -> None:
        # The rotation: every quick market the venue lists for the assets is recorded from when it is
        # first seen until it resolves (its books stop when it ends).
        while True:
            for q in await discover(http, list(config.assets), config.interval_minutes):
                if q.marketId in known:
                    continue
                market = market_of(q, tick_size=config.tick_size, fee_rate=config.fee_rate)
                known[q.marketId] = market
                rec.add(market)
                for iid in (market.instrument_id(0), market.instrument_id(1)):
                    rec.spawn(feed.run_book(iid, rec.book), f"book {iid}")
                rec.spawn(follow(market), f"resolution {market.market_id}")
            await asyncio.sleep(poll_s)

    rec.spawn(rotate(), "turbine rotation")
    return feed.close
