"""IB market data: the best bid and offer (a one-level book), last trades, and completed bars.

- `run_book`: reqMktData; every quote change calls `on_book` with one level a side (IB's top of book).
- `run_trades`: the last-trade ticks that carry a size.
- `run_bars`: reqHistoricalData with keepUpToDate. IB keeps sending the bar that is forming; a bar is
  complete when a later one begins, or when no update has come for `bar_grace_s` after its end (the
  last bar before a halt). Each completed bar is delivered once, in order; after a reconnect the
  history is asked again and the bars completed meanwhile are delivered.

All subscriptions are renewed after the session reconnects (ib-async forgets them with the socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from decimal import Decimal
from typing import Any

from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import InstrumentId, TradeId
from tradewright.model.data import Bar, TradeTick
from tradewright.model.instrument import Instrument
from tradewright.venues._common.feed import FeedStats
from tradewright.venues._common.ports import BarCallback, BookCallback, TradeCallback
from tradewright.venues.ib.contracts import Resolved
from tradewright.venues.ib.parsing import exact, ib_bar
from tradewright.venues.ib.schemas import IbBar
from tradewright.venues.ib.session import IbSession

__all__ = ["BAR_SIZES", "IbMarketData"]

_S = 1_000_000_000
#: Bar lengths IB's historical bars offer (reqHistoricalData barSizeSetting), in ns.
BAR_SIZES: dict[int, str] = {
    60 * _S: "1 min",
    120 * _S: "2 mins",
    180 * _S: "3 mins",
    300 * _S: "5 mins",
    600 * _S: "10 mins",
    900 * _S: "15 mins",
    1200 * _S: "20 mins",
    1800 * _S: "30 mins",
    3600 * _S: "1 hour",
}


class IbMarketData:
    """`MarketFeed` and `BarFeed` of the connected gateway for the resolved contracts."""

    def __init__(self, session: IbSession, contracts: dict[InstrumentId, Resolved]) -> None:
        self._session = session
        self._contracts = contracts
        self._stats = FeedStats()
        self._renew = asyncio.Event()
        session.on_reconnect.append(self._renew.set)
        session.on_data_lost.append(self._renew.set)

    @property
    def stats(self) -> FeedStats:
        return self._stats

    def _resolved(self, instrument_id: InstrumentId) -> Resolved:
        resolved = self._contracts.get(instrument_id)
        if resolved is None:
            raise ConfigError(f"{instrument_id} is not one of the IB venue's configured instruments")
        return resolved

    async def _until_renewal(self) -> None:
        """Wait for the session to need fresh subscriptions (a reconnect, or IB 1101)."""
        await self._renew.wait()
        self._renew.clear()
        await self._session.connected.wait()
        self._stats.reconnects += 1

    # --- quotes and trades ---------------------------------------------------------------------
    async def run_book(self, instrument_id: InstrumentId, on_book: BookCallback) -> None:
        resolved = self._resolved(instrument_id)
        inst = resolved.instrument
        stats = self._stats.of(instrument_id)

        def on_ticker(ticker: Any) -> None:
            try:
                bid, ask = _level(ticker.bid, ticker.bidSize, inst), _level(ticker.ask, ticker.askSize, inst)
            except VenueError as exc:
                stats.malformed += 1
                stats.last_problem = str(exc)
                return
            if bid is None and ask is None:
                return
            stats.updates += 1
            stats.last_update_ns = self._session.hooks.clock.now_ns()
            on_book(instrument_id, [] if bid is None else [bid], [] if ask is None else [ask])

        await self._subscribed(resolved, on_ticker)

    async def run_trades(self, instrument_id: InstrumentId, on_trade: TradeCallback) -> None:
        resolved = self._resolved(instrument_id)
        inst = resolved.instrument
        stats = self._stats.of(instrument_id)
        seen = 0

        def on_ticker(ticker: Any) -> None:
            nonlocal seen
            for tick in ticker.ticks:
                if tick.tickType not in (4, 48, 68) or not tick.size or tick.size <= 0:
                    continue
                try:
                    price = exact(tick.price, inst.tick_size, "last price")
                    size = exact(tick.size, inst.lot_size, "last size")
                except VenueError as exc:
                    stats.malformed += 1
                    stats.last_problem = str(exc)
                    continue
                seen += 1
                now = self._session.hooks.clock.now_ns()
                stats.trades += 1
                on_trade(
                    TradeTick(
                        instrument_id=instrument_id,
                        price=price,
                        size=size,
                        aggressor=None,
                        trade_id=TradeId(f"ib-{seen}"),
                        ts_event=int(tick.time.timestamp() * _S) if tick.time else now,
                        ts_init=now,
                    )
                )

        await self._subscribed(resolved, on_ticker)

    async def _subscribed(self, resolved: Resolved, on_ticker: Any) -> None:
        ib = self._session.ib
        while True:
            await self._session.connected.wait()
            generation = self._session.generation
            ticker = ib.reqMktData(resolved.contract, "", False, False)
            ticker.updateEvent += on_ticker
            try:
                await self._until_renewal()
            finally:
                ticker.updateEvent -= on_ticker
                if generation == self._session.generation and self._session.connected.is_set():
                    with contextlib.suppress(Exception):
                        ib.cancelMktData(resolved.contract)

    # --- bars ------------------------------------------------------------------------------------
    async def run_bars(self, instrument_id: InstrumentId, interval_ns: int, on_bar: BarCallback) -> None:
        resolved = self._resolved(instrument_id)
        size = BAR_SIZES.get(interval_ns)
        if size is None:
            raise ConfigError(
                f"IB bars of {interval_ns / _S:g} s are not offered; choose one of "
                f"{', '.join(f'{k // _S} s' for k in BAR_SIZES)}"
            )
        feed = _BarStream(self._session, resolved, interval_ns, size, on_bar, self._stats)
        while True:
            await self._session.connected.wait()
            await feed.subscribe()
            try:
                await self._until_renewal()
            finally:
                feed.unsubscribe()


class _BarStream:
    """One keepUpToDate subscription and the bookkeeping that delivers each completed bar once."""

    def __init__(
        self,
        session: IbSession,
        resolved: Resolved,
        interval_ns: int,
        size: str,
        on_bar: BarCallback,
        stats: FeedStats,
    ) -> None:
        self._session = session
        self._resolved = resolved
        self._inst = resolved.instrument
        self._interval = interval_ns
        self._size = size
        self._on_bar = on_bar
        self._stats = stats.of(resolved.instrument.id)
        self._bars: Any = None
        self._generation = 0
        self._delivered = -1  # open time of the last bar delivered
        self._timer: asyncio.TimerHandle | None = None

    async def subscribe(self) -> None:
        session = self._session
        await session.historical.acquire()
        # On the first subscription only the new bars count; after a reconnect, the gap is filled.
        duration = f"{max(2 * self._interval // _S, 3600)} S" if self._delivered < 0 else "1 D"
        bars = await session.ib.reqHistoricalDataAsync(
            self._resolved.contract,
            endDateTime="",
            durationStr=duration,
            barSizeSetting=self._size,
            whatToShow="TRADES",
            useRTH=False,
            formatDate=2,
            keepUpToDate=True,
        )
        if not bars:
            raise VenueError(
                f"IB sent no {self._size} bars for {self._inst.id}: "
                + "; ".join(f"error {c}: {t}" for c, t in session.errors_for(-1)[-1:])
            )
        complete = [ib_bar(b) for b in list(bars)[:-1]]  # the last one is still forming
        if self._delivered < 0:
            self._delivered = complete[-1].ts_open_ns if complete else -1
        else:
            for bar in complete:
                self._deliver(bar)
        self._bars = bars
        self._generation = session.generation
        bars.updateEvent += self._on_update
        self._arm_timer()

    def unsubscribe(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._bars is not None:
            self._bars.updateEvent -= self._on_update
            if self._generation == self._session.generation and self._session.connected.is_set():
                with contextlib.suppress(Exception):
                    self._session.ib.cancelHistoricalData(self._bars)
            self._bars = None

    def _on_update(self, bars: Any, has_new_bar: bool) -> None:
        if has_new_bar and len(bars) >= 2:
            try:
                self._deliver(ib_bar(bars[-2]))
            except VenueError as exc:
                self._stats.malformed += 1
                self._stats.last_problem = str(exc)
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._session.config.bar_grace_s, self._grace_elapsed)

    def _grace_elapsed(self) -> None:
        """No update for a while: the forming bar is complete once its end has passed."""
        bars = self._bars
        if bars is None or not bars:
            return
        try:
            bar = ib_bar(bars[-1])
        except VenueError:
            return
        if self._session.hooks.clock.now_ns() >= bar.ts_open_ns + self._interval:
            self._deliver(bar)

    def _deliver(self, raw: IbBar) -> None:
        if raw.ts_open_ns <= self._delivered:
            return
        inst = self._inst
        try:
            bar = _bar(raw, inst, self._interval, self._session.hooks.clock.now_ns())
        except VenueError as exc:
            self._stats.malformed += 1
            self._stats.last_problem = str(exc)
            return
        self._delivered = raw.ts_open_ns
        self._stats.updates += 1
        self._stats.last_update_ns = bar.ts_init
        self._on_bar(bar)


def _bar(raw: IbBar, inst: Instrument, interval_ns: int, now: int) -> Bar:
    volume = Decimal(raw.volume) if raw.volume not in ("", "-1", "-1.0") else Decimal(0)
    return Bar(
        instrument_id=inst.id,
        interval_ns=interval_ns,
        open=exact(raw.open, inst.tick_size, "bar open"),
        high=exact(raw.high, inst.tick_size, "bar high"),
        low=exact(raw.low, inst.tick_size, "bar low"),
        close=exact(raw.close, inst.tick_size, "bar close"),
        volume=volume,
        ts_event=raw.ts_open_ns + interval_ns,
        ts_init=now,
    )


def _level(price: float, size: float, inst: Instrument) -> tuple[int, int] | None:
    """One side of IB's top of book in (ticks, lots); None when IB has no quote there (NaN, -1)."""
    if price is None or size is None or math.isnan(price) or price <= 0 or math.isnan(size) or size <= 0:
        return None
    ticks = inst.price_to_ticks(exact(price, inst.tick_size, "quote"))
    lots = int(Decimal(repr(size)) / inst.lot_size)
    return ticks, lots
