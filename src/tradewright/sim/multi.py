"""Several instruments' recordings replayed into one kernel through simulated venues: the market side of a
multi-instrument backtest (`tradewright.backtest.multi`) and of a multi-instrument paper node
(`tradewright.live.multi_paper`).

The rows of every stream are merged by receive time (ties: streams in the order given; a venue message's
rows stay together), and each row goes through the per-row path of the simulated venue that lists the
instrument (`SimVenue.on_row`), which matches our orders against the book as it stands at that row. The
strategy reads the venues' own books (no market-data latency between them); order, cancel and response
latencies, queue position and fees are modelled as in a single-instrument run. Instruments on the same
venue share one simulated venue; each venue name gets its own.

Fee overrides (`[venue] maker_fee`/`taker_fee`) become the instruments' own rates, so a strategy that
prices its edge from the instrument (the arbitrage) sees what the simulated venue charges. Starting
inventory (`[account] starting_positions`) is bought at each instrument's first two-sided mid, from cash,
without a fee — equity at the start is the starting balance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import msgspec
import numpy as np

from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.kernel import Kernel
from tradewright.model.book import MAX_CAPACITY, OrderBook
from tradewright.model.columnar import F_LAST, KIND_DELTA, KIND_TRADE, MarketStream
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, LatencyModel
from tradewright.sim.queue import ConservativeQueue, QueueModel
from tradewright.sim.venue import SimVenue
from tradewright.strategy.base import BookTrigger

__all__ = ["MultiMarket", "prepare_streams"]


def prepare_streams(streams: Sequence[MarketStream], fees: FeeModel | None) -> tuple[list[MarketStream], int]:
    """Drop absurdly far levels and apply fee overrides to each stream's instrument; return the streams
    and how many rows were dropped. Refuses fewer than two streams, an empty one, or an instrument twice."""
    if len(streams) < 2:
        raise TradewrightError("a multi-instrument run needs at least two streams")
    prepared: list[MarketStream] = []
    dropped_total = 0
    for stream in streams:
        if len(stream) == 0:
            raise TradewrightError(f"the recording of {stream.instrument.id} has no rows")
        stream, dropped = stream.without_far_levels(MAX_CAPACITY // 4)
        dropped_total += dropped
        changes = (
            {}
            if fees is None
            else {
                name: rate
                for name, rate in (("maker_fee", fees.maker), ("taker_fee", fees.taker))
                if rate is not None
            }
        )
        if changes:
            stream.instrument = msgspec.structs.replace(stream.instrument, **changes)
        prepared.append(stream)
    ids = [s.instrument.id for s in prepared]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"two recordings hold the same instrument: {', '.join(map(str, ids))}")
    settles = {s.instrument.settle for s in prepared}
    if len(settles) > 1:
        raise ConfigError(
            f"the instruments settle in different currencies ({', '.join(sorted(settles))}); a "
            "multi-instrument run keeps one account currency"
        )
    return prepared, dropped_total


class MultiMarket:
    """The streams, their simulated venues and the merged replay order, wired into `kernel`.

    `apply(n)` applies the n-th row of the merged order (the caller runs the kernel's due work and moves
    the clock first); `on_inventory(iid, size, mid)` is told when starting inventory is booked."""

    def __init__(
        self,
        kernel: Kernel,
        streams: Sequence[MarketStream],
        *,
        latency: LatencyModel | None = None,
        queue_model: QueueModel | None = None,
        starting_positions: Mapping[str, Decimal] | None = None,
        on_inventory: Callable[[InstrumentId, Decimal, Decimal], None] | None = None,
    ) -> None:
        self.kernel = kernel
        self.streams = list(streams)
        self.instrument_ids = [s.instrument.id for s in self.streams]
        self.venues: dict[Venue, SimVenue] = {}
        for stream in self.streams:
            inst = stream.instrument
            book = kernel.add_instrument(inst, OrderBook(inst))
            venue = self.venues.get(inst.id.venue)
            if venue is None:
                venue = self.venues[inst.id.venue] = SimVenue(
                    inst.id.venue,
                    kernel.clock,
                    kernel.schedule,
                    kernel.on_venue_event,
                    latency=latency or ConstantLatency(0, 0),
                    fees=FeeModel(),  # the instruments carry the rates (prepare_streams)
                    queue_model=queue_model or ConservativeQueue(),
                )
                kernel.add_execution_client(venue)
            venue.add_instrument(inst, book)
        self._inventory: dict[InstrumentId, Decimal] = {}
        for key, qty in (starting_positions or {}).items():
            try:
                iid = InstrumentId.parse(key)
            except ValueError as exc:
                raise ConfigError(f"`account.starting_positions.{key}`: {exc}") from None
            if iid not in kernel.instruments:
                raise ConfigError(
                    f"`account.starting_positions.{key}`: no recording holds it "
                    f"(the instruments are {', '.join(map(str, self.instrument_ids))})"
                )
            try:
                kernel.instruments[iid].validate_order(None, abs(qty))
            except TradewrightError as exc:
                raise ConfigError(f"`account.starting_positions.{key}`: {exc}") from None
            if qty != 0:
                self._inventory[iid] = qty
        self._on_inventory = on_inventory
        self._tops: dict[InstrumentId, tuple[int | None, int | None, int, int]] = {}
        times = [np.maximum.accumulate(s.ts_recv) for s in self.streams]
        which = np.concatenate([np.full(len(t), i, dtype=np.int32) for i, t in enumerate(times)])
        rows = np.concatenate([np.arange(len(t), dtype=np.int64) for t in times])
        merged = np.concatenate(times)
        order = np.argsort(merged, kind="stable")
        self.which, self.rows, self.times = which[order], rows[order], merged[order]
        self._triggers: list[BookTrigger | None] = []
        self._trades: list[bool] = []

    def __len__(self) -> int:
        return len(self.times)

    def start(self) -> None:
        """Read what the strategies want (after they were added): book triggers and trades per instrument."""
        kernel = self.kernel
        self._triggers, self._trades = [], []
        for iid in self.instrument_ids:
            wants_book = any(s.wants("on_book") for s in kernel.strategies_for(iid))
            self._triggers.append(kernel.book_trigger(iid) if wants_book else None)
            self._trades.append(
                kernel.needs_trades or any(s.wants("on_trade") for s in kernel.strategies_for(iid))
            )

    def apply(self, n: int) -> None:
        """Apply the n-th row of the merged order to its venue's book and tell the strategies."""
        i = int(self.which[n])
        k = int(self.rows[n])
        stream = self.streams[i]
        self.venues[stream.instrument.id.venue].on_row(stream, k)
        kind = stream.kind[k]
        if kind == KIND_DELTA:
            if stream.flags[k] & F_LAST:
                iid = self.instrument_ids[i]
                if self._inventory:
                    self._buy_inventory(iid)
                trigger = self._triggers[i]
                if trigger is not None and self._top_changed(iid, trigger):
                    self.kernel.on_book(iid)
        elif kind == KIND_TRADE and self._trades[i]:
            self.kernel.on_trade(self._trade(stream, k))

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
        if self._on_inventory is not None:
            self._on_inventory(iid, qty, mid)

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
            ts_init=self.kernel.clock.now_ns(),
        )
