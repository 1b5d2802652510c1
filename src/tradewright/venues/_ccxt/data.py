"""Public market data of a CCXT venue: books we verify ourselves, public trades, the venue's best bid/ask.

Every raw WebSocket message reaches `on_raw` before CCXT handles it. Book frames go to the market's
`VerifiedBook`; after each verified frame `on_book` gets the top levels (and a recorder `on_deltas` the
frame itself). A frame that fails the venue's rule (checksum, sequence chain, a malformed level) is
counted per instrument in `stats`, logged with the venue and the raw frame (truncated), and the book is
resubscribed and rebuilt from a new snapshot. CCXT's own checks, where it has any, end in the same
resubscription. A dropped connection is reconnected with jittered exponential backoff, the health
reported through `hooks.on_status` (DEGRADED while reconnecting, DOWN after repeated failures, UP once
a verified snapshot is in).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ccxt

from tradewright.core.errors import ChecksumMismatch, SequenceGap, VenueError
from tradewright.core.ids import InstrumentId
from tradewright.model.data import BookDelta, BookDeltas, QuoteTick, TradeTick
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt.books import BookFrame, VerifiedBook
from tradewright.venues._ccxt.config import CcxtVenueConfig
from tradewright.venues._ccxt.family import Family, PublicQuote, PublicTrade
from tradewright.venues._common.backoff import Backoff
from tradewright.venues._common.feed import FeedStats
from tradewright.venues._common.ports import (
    BookCallback,
    DeltasCallback,
    QuoteCallback,
    ResyncCallback,
    TradeCallback,
    VenueHealth,
    VenueHooks,
    VenueStatus,
)

__all__ = ["BookInvalid", "CcxtMarketFeed"]

MS = 1_000_000
_DOWN_AFTER = 5  # failed reconnects in a row before a stream counts as down


class BookInvalid(ccxt.ChecksumError):  # type: ignore[misc]
    """Our verifier rejected a frame: the book must be resubscribed."""


@dataclass(slots=True)
class _Book:
    iid: InstrumentId
    symbol: str
    verified: VerifiedBook
    on_book: BookCallback | None = None
    on_deltas: DeltasCallback | None = None
    on_resync: ResyncCallback | None = None
    needs_resync: bool = False
    last_reason: str = ""


@dataclass(slots=True)
class _Trades:
    iid: InstrumentId
    instrument: Instrument
    callbacks: list[TradeCallback] = field(default_factory=list)


class CcxtMarketFeed:
    """`MarketFeed` (and the recorder's delta feed) for one venue family."""

    def __init__(
        self,
        family: Family,
        exchange: Any,
        config: CcxtVenueConfig,
        instruments: Mapping[InstrumentId, Instrument],
        symbols: Mapping[InstrumentId, str],
        market_ids: Mapping[InstrumentId, str],
        hooks: VenueHooks,
    ) -> None:
        self.family = family
        self._ex = exchange
        self._config = config
        self._instruments = dict(instruments)
        self._symbols = dict(symbols)
        self._market_ids = dict(market_ids)
        self._hooks = hooks
        self._log: logging.Logger = hooks.log
        self._books: dict[str, _Book] = {}
        self._trades: dict[str, _Trades] = {}
        self._quotes: dict[str, list[tuple[InstrumentId, QuoteCallback]]] = {}
        self._stats = FeedStats()
        self._health = VenueHealth.UP

    @property
    def stats(self) -> FeedStats:
        return self._stats

    def book(self, instrument_id: InstrumentId) -> VerifiedBook | None:
        state = self._books.get(self._market_ids[instrument_id])
        return None if state is None else state.verified

    # --- the tap ------------------------------------------------------------------------------------
    def on_raw(self, client: Any, message: Any) -> None:
        """Every raw WebSocket message, before CCXT handles it (called by the tapped exchange)."""
        if not isinstance(message, dict | list):
            return
        for frame in self.family.book_frames(message):
            state = self._books.get(frame.market_id)
            if state is not None:
                self._on_frame(client, state, frame)
        if self._trades:
            for trade in self.family.trades(message):
                self._on_trade(trade)
        if self._quotes:
            for quote in self.family.quotes(message):
                self._on_quote(quote)

    def _on_quote(self, quote: PublicQuote) -> None:
        subs = self._quotes.get(quote.market_id)
        if not subs:
            return
        iid = subs[0][0]
        try:
            tick = QuoteTick(
                instrument_id=iid, bid=Decimal(quote.bid), bid_size=Decimal(quote.bid_size),
                ask=Decimal(quote.ask), ask_size=Decimal(quote.ask_size), update_id=quote.update_id,
                ts_event=quote.ts_ms * MS, ts_init=self._hooks.clock.now_ns(),
            )  # fmt: skip
        except ArithmeticError:
            self._stats.of(iid).malformed += 1
            self._log.warning("%s %s: skipped a malformed quote %s", self.family.name, iid, quote)
            return
        for _, cb in subs:
            cb(tick)

    def _on_frame(self, client: Any, state: _Book, frame: BookFrame) -> None:
        stats = self._stats.of(state.iid)
        if state.needs_resync:
            return  # the book is being rebuilt: frames until the new snapshot are meaningless
        try:
            applied = state.verified.apply(frame)
        except SequenceGap as exc:
            stats.sequence_gaps += 1
            self._invalid(client, state, f"sequence gap: {exc}", frame)
            return
        except ChecksumMismatch as exc:
            stats.checksum_failures += 1
            self._invalid(client, state, str(exc), frame)
            return
        except VenueError as exc:
            stats.malformed += 1
            self._invalid(client, state, str(exc), frame)
            return
        if not applied:
            return
        now = self._hooks.clock.now_ns()
        stats.updates += len(applied)
        stats.last_update_ns = now
        if frame.snapshot:
            self._set_health(VenueHealth.UP, f"{state.iid}: book synchronised")
        if state.on_deltas is not None:
            for f in applied:
                state.on_deltas(self._deltas(state.iid, f, now))
        if state.on_book is not None:
            bids, asks = state.verified.top(self._config.book_depth)
            state.on_book(state.iid, bids, asks)

    def _deltas(self, iid: InstrumentId, f: BookFrame, now: int) -> BookDeltas:
        levels = [BookDelta(1, Decimal(p), Decimal(s)) for p, s in f.bids]
        levels += [BookDelta(-1, Decimal(p), Decimal(s)) for p, s in f.asks]
        return BookDeltas(
            instrument_id=iid, deltas=tuple(levels), is_snapshot=f.snapshot,
            first_update_id=f.first_id or 0, last_update_id=f.last_id or f.seq or 0,
            prev_update_id=f.prev_seq or 0, checksum=f.checksum, ts_event=f.ts_ms * MS, ts_init=now,
        )  # fmt: skip

    def _invalid(self, client: Any, state: _Book, why: str, frame: BookFrame) -> None:
        """The book cannot be trusted: count it, log it with the raw frame, and resubscribe."""
        stats = self._stats.of(state.iid)
        stats.resyncs += 1
        stats.last_problem = why
        state.needs_resync = True
        state.last_reason = why
        self._log.warning(
            "%s %s: %s; resubscribing and rebuilding the book; frame: %s",
            self.family.name, state.iid, why, frame.raw[:300],
        )  # fmt: skip
        if state.on_resync is not None:
            state.on_resync(state.iid, why)
        self.family.mark_resync(self._ex, state.symbol)
        client.reject(
            BookInvalid(f"{self.family.name} {state.iid}: {why}"), self.family.book_hash(state.symbol)
        )

    def _on_trade(self, trade: PublicTrade) -> None:
        sub = self._trades.get(trade.market_id)
        if sub is None:
            return
        try:
            tick = TradeTick(
                instrument_id=sub.iid, price=Decimal(trade.price), size=Decimal(trade.size),
                aggressor=OrderSide.BUY if trade.aggressor > 0 else OrderSide.SELL if trade.aggressor < 0 else None,
                trade_id=trade.trade_id, ts_event=trade.ts_ms * MS, ts_init=self._hooks.clock.now_ns(),
            )  # fmt: skip
        except ArithmeticError:
            self._stats.of(sub.iid).malformed += 1
            self._log.warning("%s %s: skipped a malformed trade %s", self.family.name, sub.iid, trade)
            return
        self._stats.of(sub.iid).trades += 1
        for cb in sub.callbacks:
            cb(tick)

    # --- health -------------------------------------------------------------------------------------
    def _set_health(self, health: VenueHealth, reason: str) -> None:
        if health is self._health:
            return
        self._health = health
        self._hooks.on_status(VenueStatus(self.family.venue, health, reason, self._hooks.clock.now_ns()))

    async def _reconnect_pause(self, backoff: Backoff, what: str, exc: BaseException) -> None:
        self._stats.reconnects += 1
        health = VenueHealth.DOWN if backoff.attempt + 1 >= _DOWN_AFTER else VenueHealth.DEGRADED
        self._set_health(health, f"{what}: connection lost ({type(exc).__name__}); reconnecting")
        delay = backoff.next_delay_s()
        self._log.warning("%s %s: %s; reconnecting in %.2f s", self.family.name, what, str(exc)[:200], delay)
        await asyncio.sleep(delay)

    # --- MarketFeed ---------------------------------------------------------------------------------
    async def run_book(
        self,
        instrument_id: InstrumentId,
        on_book: BookCallback | None = None,
        *,
        on_deltas: DeltasCallback | None = None,
        on_resync: ResyncCallback | None = None,
    ) -> None:
        """Keep one instrument's verified book; runs until cancelled (see the module docstring)."""
        symbol = self._symbols[instrument_id]
        market_id = self._market_ids[instrument_id]
        inst = self._instruments[instrument_id]
        state = _Book(
            instrument_id,
            symbol,
            VerifiedBook(inst, self.family.book_rule(inst)),
            on_book,
            on_deltas,
            on_resync,
        )
        self._books[market_id] = state
        backoff = Backoff(self._config.reconnect_base_s, self._config.reconnect_cap_s)
        try:
            while True:
                if state.needs_resync:
                    await self._resubscribe(state)
                try:
                    await self._ex.watch_order_book(symbol, self.family.book_limit)
                    backoff.reset()
                except BookInvalid:
                    state.needs_resync = True
                except (ccxt.ChecksumError, ccxt.InvalidNonce, ccxt.UnsubscribeError) as exc:
                    # CCXT's own check fired (where it has one): the same resynchronisation
                    if not state.needs_resync:
                        self._stats.of(instrument_id).resyncs += 1
                        self._log.warning(
                            "%s %s: ccxt: %s; resubscribing", self.family.name, instrument_id, exc
                        )
                    state.needs_resync = True
                except ccxt.NetworkError as exc:
                    state.verified.reset()
                    state.needs_resync = False
                    await self._reconnect_pause(backoff, f"{instrument_id} book", exc)
                except ccxt.BaseError as exc:
                    state.verified.reset()
                    await self._reconnect_pause(backoff, f"{instrument_id} book", exc)
        finally:
            self._books.pop(market_id, None)

    async def _resubscribe(self, state: _Book) -> None:
        state.verified.reset()
        try:
            await self.family.resubscribe(self._ex, state.symbol)
        except (TimeoutError, ccxt.BaseError) as exc:
            self._log.info("%s %s: unsubscribe before resync: %s", self.family.name, state.iid, exc)
        for client in list(getattr(self._ex, "clients", {}).values()):
            client.rejections.pop(self.family.book_hash(state.symbol), None)  # a stale BookInvalid
        state.needs_resync = False

    async def run_book_deltas(
        self, instrument_id: InstrumentId, on_deltas: DeltasCallback, on_resync: ResyncCallback
    ) -> None:
        """The recorder's view: every verified book message as it came, and every resynchronisation."""
        await self.run_book(instrument_id, None, on_deltas=on_deltas, on_resync=on_resync)

    async def run_trades(self, instrument_id: InstrumentId, on_trade: TradeCallback) -> None:
        market_id = self._market_ids[instrument_id]
        sub = self._trades.setdefault(market_id, _Trades(instrument_id, self._instruments[instrument_id]))
        sub.callbacks.append(on_trade)
        await self._keep(
            lambda: self._ex.watch_trades(self._symbols[instrument_id]), f"{instrument_id} trades"
        )

    async def run_quotes(self, instrument_id: InstrumentId, on_quote: QuoteCallback) -> None:
        """The venue's own best bid and offer (its ticker / bookTicker channel)."""
        self._quotes.setdefault(self._market_ids[instrument_id], []).append((instrument_id, on_quote))
        await self._keep(
            lambda: self.family.watch_quotes(self._ex, self._symbols[instrument_id]),
            f"{instrument_id} quotes",
        )

    async def _keep(self, watch: Callable[[], Any], what: str) -> None:
        backoff = Backoff(self._config.reconnect_base_s, self._config.reconnect_cap_s)
        while True:
            try:
                await watch()
                backoff.reset()
            except ccxt.NetworkError as exc:
                await self._reconnect_pause(backoff, what, exc)
            except ccxt.BaseError as exc:
                await self._reconnect_pause(backoff, what, exc)
