"""Backtests of binary (prediction) markets: several markets, both outcome books of each, replayed from
their recordings (`tradewright.data.binary_recording`) through the kernel and `BinarySimVenue`, each
market resolved at its recorded time and its positions paid out into the portfolio.

Rows of every market are merged by receive time (ties: the order the markets were given, then the
recording's own order). After each complete message the venue re-checks the resting orders of that
token and the strategies hear `on_book` (as their `book_trigger` asks); trades go to the venue (queue
consumption, cross-token fills) and to `on_trade`. A tick-size change gives the market's instruments
and books the new grid. A resolution cancels our resting orders there, settles each token's position
at its payout (`Portfolio.apply_resolution`: 1, 0, or 0.5 each) and records one `MarketResolved` per
token in the run's events. Equity is cash plus every open position at its book's mid (one side when
only one is quoted); a position whose books are empty is valued at its cost.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from tradewright.core.clock import SimClock, ns_to_iso
from tradewright.core.errors import DataError, GridError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.data.binary_recording import BinaryRecording, BinaryRow
from tradewright.engine.kernel import Kernel
from tradewright.engine.ports import RiskGate
from tradewright.model.book import OrderBook
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.model.prediction import BinaryMarket, Resolution, resolution_events
from tradewright.portfolio.portfolio import Portfolio
from tradewright.runlog.recorder import RunRecorder
from tradewright.sim.binary_venue import BinarySimVenue, MarketStatus
from tradewright.sim.latency import ConstantLatency, LatencyModel
from tradewright.strategy.base import BookTrigger, Strategy

__all__ = ["BinaryBacktest", "BinaryBacktestResult", "BinaryRunRecorder", "MarketOutcome"]

_ZERO = Decimal(0)


@dataclass(slots=True)
class MarketOutcome:
    """What became of one market in the run."""

    market_id: str
    question: str
    status: str = MarketStatus.OPEN.value
    resolution: str = ""
    resolved_at: str = ""
    settled: dict[str, str] = field(default_factory=dict)  # instrument -> position paid out
    settlement_pnl: Decimal = _ZERO  # realised at resolution

    def as_dict(self) -> dict[str, Any]:
        return {
            "market_id": self.market_id,
            "question": self.question,
            "status": self.status,
            "resolution": self.resolution,
            "resolved_at": self.resolved_at,
            "settled": dict(self.settled),
            "settlement_pnl": str(self.settlement_pnl),
        }


@dataclass(slots=True)
class BinaryBacktestResult:
    kernel: Kernel
    venues: dict[Venue, BinarySimVenue]
    recorder: BinaryRunRecorder
    outcomes: list[MarketOutcome]
    rows: int
    wall_seconds: float
    off_grid_levels: int = 0

    @property
    def cross_token_fills(self) -> int:
        return sum(v.cross_token_fills for v in self.venues.values())


class BinaryRunRecorder(RunRecorder):
    """The run recorder for many instruments: equity is the whole portfolio (cash plus every open
    position at its mark); the price, own-quote and position columns show the first instrument."""

    def __init__(
        self, kernel: Kernel, instrument_id: InstrumentId, currency: str, events_file: IO[bytes] | None
    ):
        super().__init__(kernel, instrument_id, events_file)
        self.currency = currency
        self._rows: list[tuple[str, ...]] = []

    def sample(self, ts_ns: int) -> None:
        kernel = self._kernel
        portfolio = kernel.portfolio
        marks: dict[InstrumentId, Decimal] = {}
        for pos in portfolio.positions:
            if pos.quantity != 0:
                mark = kernel.mark(pos.instrument.id)
                marks[pos.instrument.id] = pos.avg_px if mark is None else mark
        book = kernel.books[self._iid]
        bid, ask = book.best_bid, book.best_ask
        own_bid, own_ask = kernel.orders.best_prices(self._iid)
        primary = portfolio.find_position(self._iid)
        cur = self.currency
        self._rows.append(
            (
                str(ts_ns),
                ns_to_iso(ts_ns),
                "" if bid is None or ask is None else str((bid + ask) / 2),
                "" if bid is None else str(bid),
                "" if ask is None else str(ask),
                "" if own_bid is None else str(own_bid),
                "" if own_ask is None else str(own_ask),
                str(_ZERO if primary is None else primary.quantity),
                str(portfolio.balance(cur)),
                str(portfolio.equity(cur, marks)),
                str(portfolio.realized_pnl(cur)),
                str(portfolio.unrealized_pnl(cur, marks)),
                str(portfolio.fees(cur)),
            )
        )
        self.max_abs_position = max([self.max_abs_position, *(abs(p.quantity) for p in portfolio.positions)])

    @property
    def equity(self) -> list[tuple[str, ...]]:
        return self._rows


class BinaryBacktest:
    """Wire a kernel, one simulated venue per venue named, and the markets' books; then replay."""

    def __init__(
        self,
        recordings: list[BinaryRecording],
        *,
        starting_balance: Decimal,
        latency: LatencyModel | None = None,
        risk: RiskGate | None = None,
        equity_sample_ns: int = 1_000_000_000,
        events_file: IO[bytes] | None = None,
        id_prefix: str = "BT",
        end_flush_ns: int = 1_000_000_000,
        primary: InstrumentId | None = None,
    ) -> None:
        if not recordings:
            raise DataError("no binary-market recording to replay")
        if equity_sample_ns <= 0:
            raise ValueError(f"equity_sample_ns must be > 0, got {equity_sample_ns}")
        ids = [r.market.market_id for r in recordings]
        if len(set(ids)) != len(ids):
            raise DataError(f"a market is given twice: {sorted(i for i in ids if ids.count(i) > 1)[0]}")
        currencies = {r.market.collateral for r in recordings}
        if len(currencies) != 1:
            raise DataError(f"the markets settle in different currencies: {', '.join(sorted(currencies))}")
        self.currency = currencies.pop()
        self.recordings = recordings
        first = min((r.rows[0].ts_recv for r in recordings if r.rows), default=0)
        self.clock = SimClock(first)
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio({self.currency: starting_balance}),
            risk=risk,
            id_prefix=id_prefix,
        )
        self.venues: dict[Venue, BinarySimVenue] = {}
        self.markets: dict[str, BinaryMarket] = {}
        self.outcomes: dict[str, MarketOutcome] = {}
        for rec in recordings:
            market = rec.market
            venue = self.venues.get(market.venue)
            if venue is None:
                venue = self.venues[market.venue] = BinarySimVenue(
                    market.venue,
                    self.clock,
                    self.kernel.schedule,
                    self.kernel.on_venue_event,
                    latency=latency or ConstantLatency(0, 0),
                )
                self.kernel.add_execution_client(venue)
            self.markets[market.market_id] = market
            books = self._books(market, None)
            venue.add_market(market, books, close_ns=self._close_ns(market, first))
            self.outcomes[market.market_id] = MarketOutcome(market.market_id, market.question)
        self.primary = primary or recordings[0].market.instrument_id(0)
        if self.primary not in self.kernel.instruments:
            raise DataError(f"{self.primary} is not an outcome token of the recorded markets")
        self.recorder = BinaryRunRecorder(self.kernel, self.primary, self.currency, events_file)
        self.kernel.sinks.append(self.recorder)
        self.equity_sample_ns = equity_sample_ns
        self.end_flush_ns = end_flush_ns
        self.off_grid_levels = 0
        self._tops: dict[InstrumentId, tuple[Any, ...]] = {}

    @staticmethod
    def _close_ns(market: BinaryMarket, first_ns: int) -> int | None:
        """When the venue stops taking orders: a Turbine quick market at its end time. Polymarket keeps
        trading past a market's end date until it stops accepting orders (a recorded close or the
        resolution), and an end time before the recording starts is not trusted over the recording."""
        if market.end_ns is None or market.end_ns < first_ns or market.venue == "POLYMARKET":
            return None
        return market.end_ns

    def _books(
        self, market: BinaryMarket, old: tuple[OrderBook, OrderBook] | None
    ) -> tuple[OrderBook, OrderBook]:
        """Give the kernel the market's instruments and a book each (refilled from `old` on a new grid)."""
        books: list[OrderBook] = []
        for index, inst in enumerate(market.instruments()):
            book = self.kernel.add_instrument(inst)
            if old is not None:
                for side in (1, -1):
                    for price, size in old[index].depth(side, 100_000):
                        self._set(book, side, price, size)
            books.append(book)
        return books[0], books[1]

    def add_strategy(self, strategy: Strategy) -> None:
        self.kernel.add_strategy(strategy)

    def venue_of(self, market_id: str) -> BinarySimVenue:
        return self.venues[self.markets[market_id].venue]

    # --- the replay ---------------------------------------------------------------------------
    def _rows(self) -> Iterator[tuple[int, int, int, BinaryRow]]:
        def keyed(m: int, rows: list[BinaryRow]) -> Iterator[tuple[int, int, int, BinaryRow]]:
            for k, row in enumerate(rows):
                yield row.ts_recv, m, k, row

        streams = [keyed(m, rec.rows) for m, rec in enumerate(self.recordings)]
        return heapq.merge(*streams, key=lambda item: (item[0], item[1], item[2]))

    def run(self, progress: Callable[[int, int], None] | None = None) -> BinaryBacktestResult:
        """Replay every market; cancel what is still open at the end; return the result."""
        started = time.perf_counter()
        kernel = self.kernel
        total = sum(len(r.rows) for r in self.recordings)
        kernel.start()
        next_sample = self.clock.now_ns()
        last_ts = self.clock.now_ns()
        for done, (ts, m, _, row) in enumerate(self._rows(), start=1):
            while next_sample <= ts:  # the grid, in time order with what the venue answers meanwhile
                kernel.run_due(next_sample - 1)
                self.clock.advance_to(next_sample)
                self.recorder.sample(next_sample)
                next_sample += self.equity_sample_ns
            kernel.run_due(ts - 1)
            self.clock.advance_to(ts)
            self._apply(self.recordings[m].market.market_id, row)
            last_ts = ts
            if progress is not None and done % 50_000 == 0:
                progress(done, total)
        kernel.run_due(last_ts + self.end_flush_ns)
        # The run lasts until the end of the flush window (answers in flight reach the strategy there).
        self.clock.advance_to(max(self.clock.now_ns(), last_ts + self.end_flush_ns))
        kernel.stop()
        kernel.cancel_all_orders(actor="backtest:end")
        while kernel.next_due_ns() < (1 << 62):
            kernel.run_due(kernel.next_due_ns())
        self.recorder.sample(self.clock.now_ns())
        if progress is not None:
            progress(total, total)
        for market_id, outcome in self.outcomes.items():
            if outcome.status == MarketStatus.OPEN.value:
                outcome.status = self.venue_of(market_id).status(market_id).value
        return BinaryBacktestResult(
            kernel=kernel,
            venues=self.venues,
            recorder=self.recorder,
            outcomes=list(self.outcomes.values()),
            rows=total,
            wall_seconds=time.perf_counter() - started,
            off_grid_levels=self.off_grid_levels,
        )

    def _apply(self, market_id: str, row: BinaryRow) -> None:
        market = self.markets[market_id]
        kind = row.kind
        if kind in ("clear", "level"):
            index = market.token(row.token).index
            book = self.kernel.books[market.instrument_id(index)]
            if kind == "clear":
                book.clear()
            elif row.side in (1, -1):
                self._set(book, row.side, row.price, row.size)
            if row.last:
                self.venue_of(market_id).book_changed(market_id, index)
                self._on_book(market.instrument_id(index), book)
        elif kind == "trade":
            index = market.token(row.token).index
            self.venue_of(market_id).on_trade(market_id, index, row.side, row.price, row.size)
            self.kernel.on_trade(
                TradeTick(
                    instrument_id=market.instrument_id(index),
                    price=row.price,
                    size=row.size,
                    aggressor=OrderSide.BUY if row.side > 0 else OrderSide.SELL if row.side < 0 else None,
                    trade_id=row.note,
                    ts_event=row.ts_event,
                    ts_init=self.clock.now_ns(),
                )
            )
        elif kind == "tick":
            self._retick(market, row.price)
        elif kind == "status":
            if row.note == MarketStatus.CLOSED.value:
                self.venue_of(market_id).close_market(market_id, MarketStatus.CLOSED, "market_closed")
        elif kind == "resolved":
            self._resolve(market, Resolution(row.note), row.ts_event)

    def _set(self, book: OrderBook, side: int, price: Decimal, size: Decimal) -> None:
        inst = book.instrument
        try:
            tick = inst.price_to_ticks(price)
        except GridError:
            self.off_grid_levels += 1
            return
        book.set_level(side, tick, int(size / inst.lot_size))

    def _on_book(self, iid: InstrumentId, book: OrderBook) -> None:
        trigger = self.kernel.book_trigger(iid)
        top: tuple[Any, ...] = book.top_ticks()
        if trigger is BookTrigger.TOP:
            top = (*top, book.best_bid_lots, book.best_ask_lots)
        if trigger is not BookTrigger.EVERY and self._tops.get(iid) == top:
            return
        self._tops[iid] = top
        self.kernel.on_book(iid)

    def _retick(self, market: BinaryMarket, tick_size: Decimal) -> None:
        if tick_size == market.tick_size:
            return
        new = market.with_tick_size(tick_size)
        old_books = (self.kernel.books[market.instrument_id(0)], self.kernel.books[market.instrument_id(1)])
        self.markets[market.market_id] = new
        books = self._books(new, old_books)
        for pos in self.kernel.portfolio.positions:
            if pos.instrument.id in (new.instrument_id(0), new.instrument_id(1)):
                pos.instrument = self.kernel.instruments[pos.instrument.id]
        self.venue_of(market.market_id).set_market(new, books)

    def _resolve(self, market: BinaryMarket, resolution: Resolution, ts_event: int) -> None:
        outcome = self.outcomes[market.market_id]
        if outcome.resolution:
            return  # a repeated announcement
        venue = self.venue_of(market.market_id)
        venue.close_market(market.market_id, MarketStatus.RESOLVED, "market_resolved")
        for index in (0, 1):  # a resolved market has no book: nothing is left to quote against
            self.kernel.books[market.instrument_id(index)].clear()
        now = self.clock.now_ns()
        outcome.status = MarketStatus.RESOLVED.value
        outcome.resolution = resolution.value
        outcome.resolved_at = ns_to_iso(ts_event)
        for event in resolution_events(market, resolution, ts_event=ts_event, ts_init=now):
            inst = self.kernel.instruments[event.instrument_id]
            pos = self.kernel.portfolio.find_position(inst.id)
            if pos is not None and pos.quantity != 0:
                quantity = pos.quantity
                outcome.settlement_pnl += self.kernel.portfolio.apply_resolution(inst, event)
                outcome.settled[str(inst.id)] = f"{quantity} at {event.settlement_px}"
            self.kernel.emit(event)
        self.recorder.sample(now)
