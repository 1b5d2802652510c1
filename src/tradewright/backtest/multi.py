"""Replay several instruments' recordings together through one kernel: a strategy that trades more than one
instrument (cross-venue arbitrage, spot against perpetual) sees every book in time order.

The rows of every stream are merged by their receive time (ties: streams in the order given, and a
venue message's rows stay together), and each row goes through the per-row path of the simulated venue
(`SimVenue.on_row`, the path paper mode uses) — the venue that lists the instrument matches our orders
against the book as it stands at that row. The strategy reads the venue's own books (no market-data
latency between them); order, cancel and response latencies, queue position and fees are modelled as in a
single-instrument backtest. Scheduled work due before a row runs before it; rows at the same time as
scheduled work are applied first (data before actions, as in `BacktestEngine`).

Instruments on the same venue share one simulated venue; each venue name gets its own.

Starting inventory (`[account] starting_positions`) is bought at the instrument's first two-sided mid,
from cash, without a fee — equity at the start is the starting balance. A cross-venue arbitrage needs it
on spot venues, where nothing can be sold that is not held.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import msgspec
import numpy as np

from tradewright.core.clock import SimClock
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.kernel import INF, Kernel
from tradewright.engine.ports import RiskGate
from tradewright.model.book import MAX_CAPACITY, OrderBook
from tradewright.model.columnar import F_LAST, KIND_DELTA, KIND_TRADE, MarketStream
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.runlog.portfolio_recorder import PortfolioRecorder
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, LatencyModel
from tradewright.sim.queue import ConservativeQueue, QueueModel
from tradewright.sim.venue import SimVenue
from tradewright.strategy.base import BookTrigger, Strategy

__all__ = ["MultiBacktestEngine", "MultiBacktestResult"]


@dataclass(slots=True)
class MultiBacktestResult:
    kernel: Kernel
    venues: dict[Venue, SimVenue]
    recorder: PortfolioRecorder
    instrument_ids: list[InstrumentId]
    rows: int
    wall_seconds: float


class MultiBacktestEngine:
    """Wire one kernel, one simulated venue per venue name and the strategies around several streams."""

    def __init__(
        self,
        streams: Sequence[MarketStream],
        *,
        starting_balance: Decimal,
        latency: LatencyModel | None = None,
        queue_model: QueueModel | None = None,
        fees: FeeModel | None = None,
        risk: RiskGate | None = None,
        mark_price: MarkPrice = MarkPrice.MID,
        equity_sample_ns: int = 1_000_000_000,
        events_file: IO[bytes] | None = None,
        starting_positions: Mapping[str, Decimal] | None = None,
        id_prefix: str = "BT",
        end_flush_ns: int = 1_000_000_000,
    ) -> None:
        if len(streams) < 2:
            raise TradewrightError("a multi-instrument backtest needs at least two streams")
        if equity_sample_ns <= 0:
            raise ValueError(f"equity_sample_ns must be > 0, got {equity_sample_ns}")
        fees = fees or FeeModel()
        prepared: list[MarketStream] = []
        self.far_levels_dropped = 0
        for stream in streams:
            if len(stream) == 0:
                raise TradewrightError(f"the recording of {stream.instrument.id} has no rows")
            # Levels absurdly far from the market never trade and do not fit the ladder: drop and count them.
            stream, dropped = stream.without_far_levels(MAX_CAPACITY // 4)
            self.far_levels_dropped += dropped
            # Fee overrides of `[venue]` become the instruments' own rates, so a strategy that prices its
            # edge from the instrument (the arbitrage) sees what the simulated venue charges.
            changes = {
                name: rate
                for name, rate in (("maker_fee", fees.maker), ("taker_fee", fees.taker))
                if rate is not None
            }
            if changes:
                stream.instrument = msgspec.structs.replace(stream.instrument, **changes)
            prepared.append(stream)
        ids = [s.instrument.id for s in prepared]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"two recordings hold the same instrument: {', '.join(map(str, ids))}")
        self.streams = prepared
        self.instrument_ids = ids
        first = prepared[0].instrument
        settles = {s.instrument.settle for s in prepared}
        if len(settles) > 1:
            raise ConfigError(
                f"the instruments settle in different currencies ({', '.join(sorted(settles))}); a "
                "multi-instrument backtest keeps one account currency"
            )
        self.clock = SimClock(min(int(s.ts_recv[0]) for s in prepared))
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio({first.settle: starting_balance}, mark_price=mark_price),
            risk=risk,
            id_prefix=id_prefix,
        )
        self.venues: dict[Venue, SimVenue] = {}
        for stream in prepared:
            inst = stream.instrument
            book = self.kernel.add_instrument(inst, OrderBook(inst))
            venue = self.venues.get(inst.id.venue)
            if venue is None:
                venue = self.venues[inst.id.venue] = SimVenue(
                    inst.id.venue,
                    self.clock,
                    self.kernel.schedule,
                    self.kernel.on_venue_event,
                    latency=latency or ConstantLatency(0, 0),
                    fees=FeeModel(),  # the instruments carry the rates (above)
                    queue_model=queue_model or ConservativeQueue(),
                )
                self.kernel.add_execution_client(venue)
            venue.add_instrument(inst, book)
        self._inventory: dict[InstrumentId, Decimal] = {}
        for key, qty in (starting_positions or {}).items():
            iid = InstrumentId.parse(key)
            if iid not in self.kernel.instruments:
                raise ConfigError(
                    f"`account.starting_positions.{key}`: no recording holds it "
                    f"(the instruments are {', '.join(map(str, ids))})"
                )
            inst = self.kernel.instruments[iid]
            try:
                inst.validate_order(None, abs(qty))
            except TradewrightError as exc:
                raise ConfigError(f"`account.starting_positions.{key}`: {exc}") from None
            if qty != 0:
                self._inventory[iid] = qty
        self.recorder = PortfolioRecorder(self.kernel, ids, events_file)
        self.kernel.sinks.append(self.recorder)
        self.equity_sample_ns = equity_sample_ns
        self.end_flush_ns = end_flush_ns
        self._tops: dict[InstrumentId, tuple[int | None, int | None, int, int]] = {}

    def add_strategy(self, strategy: Strategy) -> None:
        self.kernel.add_strategy(strategy)

    def _order(self) -> tuple[np.ndarray, np.ndarray]:
        """(stream index, row index) of every row, in replay order (receive time, never going back)."""
        times = [np.maximum.accumulate(s.ts_recv) for s in self.streams]
        which = np.concatenate([np.full(len(t), i, dtype=np.int32) for i, t in enumerate(times)])
        rows = np.concatenate([np.arange(len(t), dtype=np.int64) for t in times])
        order = np.argsort(np.concatenate(times), kind="stable")
        return which[order], rows[order]

    def run(self, progress: Callable[[int, int], None] | None = None) -> MultiBacktestResult:
        """Replay every row; cancel what is still open at the end; return the result."""
        started = time.perf_counter()
        kernel, clock = self.kernel, self.clock
        which, rows = self._order()
        streams = self.streams
        venues = [self.venues[s.instrument.id.venue] for s in streams]
        iids = self.instrument_ids
        triggers: list[BookTrigger | None] = []
        trades: list[bool] = []
        for iid in iids:
            wants_book = any(s.wants("on_book") for s in kernel.strategies_for(iid))
            triggers.append(kernel.book_trigger(iid) if wants_book else None)
            trades.append(kernel.needs_trades or any(s.wants("on_trade") for s in kernel.strategies_for(iid)))
        times = [np.maximum.accumulate(s.ts_recv) for s in streams]
        total = len(which)
        kernel.schedule(clock.now_ns(), self._sample, None)
        kernel.start()
        for n in range(total):
            i = int(which[n])
            k = int(rows[n])
            stream = streams[i]
            t = int(times[i][k])
            if kernel.next_due_ns() < t:
                kernel.run_due(t - 1)
            clock.advance_to(t)
            venues[i].on_row(stream, k)
            kind = stream.kind[k]
            if kind == KIND_DELTA:
                if stream.flags[k] & F_LAST:
                    iid = iids[i]
                    if self._inventory:
                        self._buy_inventory(iid)
                    trigger = triggers[i]
                    if trigger is not None and self._top_changed(iid, trigger):
                        kernel.on_book(iid)
            elif kind == KIND_TRADE and trades[i]:
                kernel.on_trade(self._trade(stream, k))
            if progress is not None and n % 50_000 == 0:
                progress(n, total)
        self._finish(max(int(t[-1]) for t in times))
        if progress is not None:
            progress(total, total)
        return MultiBacktestResult(
            kernel=kernel,
            venues=self.venues,
            recorder=self.recorder,
            instrument_ids=list(iids),
            rows=total,
            wall_seconds=time.perf_counter() - started,
        )

    def _buy_inventory(self, iid: InstrumentId) -> None:
        qty = self._inventory.get(iid)
        book = self.kernel.books[iid]
        if qty is None or book.best_bid_tick is None or book.best_ask_tick is None:
            return
        del self._inventory[iid]
        inst = self.kernel.instruments[iid]
        mid = inst.tick_size * (book.best_bid_tick + book.best_ask_tick) / 2
        side = OrderSide.BUY if qty > 0 else OrderSide.SELL
        self.kernel.portfolio.apply_fill(inst, side, mid, abs(qty), Decimal(0), inst.settle)
        self.recorder.starting_positions[iid] = (qty, mid)
        self.recorder.dirty = True

    def _top_changed(self, iid: InstrumentId, trigger: BookTrigger) -> bool:
        book = self.kernel.books[iid]
        top = (book.best_bid_tick, book.best_ask_tick, book.best_bid_lots, book.best_ask_lots)
        before = self._tops.get(iid)
        self._tops[iid] = top
        if before is None or trigger is BookTrigger.EVERY:
            return True
        if trigger is BookTrigger.TOP_PRICE:
            return top[:2] != before[:2]
        return top != before

    def _trade(self, stream: MarketStream, k: int) -> TradeTick:
        inst = stream.instrument
        side = int(stream.side[k])
        return TradeTick(
            instrument_id=inst.id,
            price=inst.ticks_to_price(int(stream.tick[k])),
            size=inst.lots_to_size(int(stream.lots[k])),
            aggressor=None if side == 0 else (OrderSide.BUY if side > 0 else OrderSide.SELL),
            trade_id=str(int(stream.update_id[k])),
            ts_event=int(stream.ts_event[k]),
            ts_init=self.clock.now_ns(),
        )

    def _sample(self, _: Any) -> None:
        now = self.clock.now_ns()
        self.recorder.sample(now)
        self.kernel.schedule(now + self.equity_sample_ns, self._sample, None)

    def _finish(self, last_ns: int) -> None:
        """Stop the strategy, cancel every open order, let the venues answer, take a last sample."""
        kernel = self.kernel
        kernel.run_due(last_ns)
        self._sample = lambda _: None  # type: ignore[method-assign]
        # Answers already in flight reach the strategy before it stops (latency outlives the data).
        kernel.run_due(last_ns + self.end_flush_ns)
        kernel.stop()
        kernel.cancel_all_orders(actor="backtest:end")
        while kernel.next_due_ns() < INF:
            kernel.run_due(kernel.next_due_ns())
        self.recorder.sample(self.clock.now_ns())
