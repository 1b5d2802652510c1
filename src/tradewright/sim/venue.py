"""The simulated venue: queue-aware matching against recorded L2 data, with latency and fees.

How an order lives here (all times are the kernel's simulated clock):

1. The node sends it at t; it reaches the venue at t + entry latency. Only then is it checked against
   the venue's book as it is at that moment.
2. Post-only orders that would cross are rejected. A marketable order takes liquidity level by level
   (taker fee); IOC drops the rest, FOK fills completely or not at all, MARKET drops what the book
   cannot fill. A resting remainder joins the queue behind the size displayed at its price.
3. A resting order fills when trades at its price have consumed the queue ahead of it, or at once
   when the market trades or quotes through its price (maker fee, at its own price).
4. A cancel reaches the venue at t + cancel latency; if the order has filled by then, the cancel is
   rejected and the fill stands, as on a real venue.
5. Every answer reaches the node after the response latency.

The recorded book is not depleted by our own fills (our orders are virtual and small next to the
market; depleting would be undone by the next absolute level update anyway). Our own orders never
trade with each other: an incoming order that would cross one of our resting orders is rejected
(self-trade prevention, "expire taker").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tradewright.core.clock import Clock
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue, VenueOrderId
from tradewright.model.book import OrderBook
from tradewright.model.columnar import MarketStream
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderModifyRejected,
    OrderUpdated,
)
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.sim._base import Scheduler, SimVenueBase
from tradewright.sim._kernels import (
    ROW_CLEAR,
    ROW_CUSTOM_QUEUE,
    ROW_FILL,
    ROW_OUT_OF_RANGE,
)
from tradewright.sim._kernels import venue_row as _venue_row
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import LatencyModel
from tradewright.sim.own_orders import OwnOrders
from tradewright.sim.queue import ConservativeQueue, QueueModel

__all__ = ["SimVenue"]

venue_row: Callable[..., int] = _venue_row  # compiled; typed loosely for mypy


@dataclass(slots=True)
class _Working:
    """The venue's record of one of our orders."""

    cid: ClientOrderId
    iid: InstrumentId
    venue_order_id: VenueOrderId
    side: int
    tick: int | None
    qty: int
    filled: int
    order_type: OrderType
    tif: TimeInForce
    post_only: bool
    reduce_only: bool
    expire_ns: int | None
    slot: int = -1
    done: bool = False


class SimVenue(SimVenueBase):
    """Implements the kernel's `ExecutionClient` port for one venue, plus market-data intake."""

    def __init__(
        self,
        venue: Venue,
        clock: Clock,
        schedule: Scheduler,
        deliver: Callable[[OrderEvent], None],
        *,
        latency: LatencyModel | None = None,
        fees: FeeModel | None = None,
        queue_model: QueueModel | None = None,
    ) -> None:
        super().__init__(venue, clock, schedule, deliver, latency=latency, fees=fees)
        self.queue_model = queue_model or ConservativeQueue()
        self._books: dict[InstrumentId, OrderBook] = {}
        self._own: dict[InstrumentId, OwnOrders] = {}
        self._orders: dict[ClientOrderId, _Working] = {}
        self._by_slot: dict[InstrumentId, dict[int, _Working]] = {}
        self._seq = 0
        self._pending_clamp: set[InstrumentId] = set()
        self._scratch = np.zeros(1, dtype=np.int64)

    # --- wiring -----------------------------------------------------------------------------
    def add_instrument(self, instrument: Instrument, book: OrderBook) -> OwnOrders:
        """Register an instrument and the book the venue matches against (its own view of the market)."""
        self._instruments[instrument.id] = instrument
        self._books[instrument.id] = book
        own = self._own[instrument.id] = OwnOrders()
        self._by_slot[instrument.id] = {}
        return own

    def own_orders(self, instrument_id: InstrumentId) -> OwnOrders:
        return self._own[instrument_id]

    # --- ExecutionClient --------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        inst = self._instruments[order.instrument_id]
        self._seq += 1
        work = _Working(
            cid=order.client_order_id,
            iid=order.instrument_id,
            venue_order_id=VenueOrderId(str(self._seq)),
            side=1 if order.side is OrderSide.BUY else -1,
            tick=None if order.price is None else inst.price_to_ticks(order.price),
            qty=inst.size_to_lots(order.quantity),
            filled=0,
            order_type=order.order_type,
            tif=order.time_in_force,
            post_only=order.post_only,
            reduce_only=order.reduce_only,
            expire_ns=order.expire_ns,
        )
        self._schedule(self._clock.now_ns() + self.latency.entry_ns(), self._on_submit_arrival, work)

    # --- market data ------------------------------------------------------------------------
    def on_row(self, stream: MarketStream, k: int) -> None:
        """Apply one recorded row (the per-row path used by paper mode and by tests)."""
        iid = stream.instrument.id
        book = self._books[iid]
        own = self._own[iid]
        while True:
            bids, asks, st = book.arrays
            code = venue_row(
                k,
                stream.kind,
                stream.side,
                stream.tick,
                stream.lots,
                bids,
                asks,
                st,
                *own.arrays(),
                self.queue_model.code,
                self.queue_model.param,
                self._scratch,
            )
            if code != ROW_OUT_OF_RANGE:
                break
            book.ensure_range(int(stream.tick[k]))
        self.after_row(iid, code, stream, k)

    def after_row(self, iid: InstrumentId, code: int, stream: MarketStream, k: int) -> None:
        """Finish what the compiled row handler asked for (fills, custom queue model, snapshot)."""
        if code == ROW_FILL:
            self._process_fills(iid)
        elif code == ROW_CUSTOM_QUEUE:
            self._custom_queue(
                iid, int(stream.side[k]), int(stream.tick[k]), int(self._scratch[0]), int(stream.lots[k])
            )
        elif code == ROW_CLEAR:
            self._pending_clamp.add(iid)
        if iid in self._pending_clamp and stream.flags[k] & 1:
            self._clamp_fronts(iid)

    def _custom_queue(self, iid: InstrumentId, side: int, tick: int, old: int, new: int) -> None:
        own = self._own[iid]
        book = self._books[iid]
        book.set_level(side, tick, new)
        for j, work in self._by_slot[iid].items():
            if work.side == side and work.tick == tick:
                own.front[j] = self.queue_model.on_level_decrease(
                    float(own.front[j]), float(old), float(new), float(own.cum_trade[j])
                )
                own.cum_trade[j] = 0.0

    def _clamp_fronts(self, iid: InstrumentId) -> None:
        """After a new snapshot, nobody can be ahead of us by more than the level's size."""
        self._pending_clamp.discard(iid)
        own = self._own[iid]
        book = self._books[iid]
        for j, work in self._by_slot[iid].items():
            assert work.tick is not None
            own.front[j] = min(float(own.front[j]), float(book.lots_at(work.side, work.tick)))
        self._process_crossed(iid)

    def _process_crossed(self, iid: InstrumentId) -> None:
        book = self._books[iid]
        own = self._own[iid]
        bb, ba = book.best_bid_tick, book.best_ask_tick
        for j, work in self._by_slot[iid].items():
            assert work.tick is not None
            if (work.side > 0 and ba is not None and ba <= work.tick) or (
                work.side < 0 and bb is not None and bb >= work.tick
            ):
                own.fill[j] = own.leaves[j]
        self._process_fills(iid)

    def _process_fills(self, iid: InstrumentId) -> None:
        own = self._own[iid]
        slots = self._by_slot[iid]
        for j in own.pending_fills():
            lots = int(own.fill[j])
            own.fill[j] = 0
            work = slots[j]
            assert work.tick is not None
            self._fill(work, work.tick, lots, LiquiditySide.MAKER)
            own.leaves[j] -= lots
            if own.leaves[j] <= 0:
                self._retire(work)
        own.refresh()

    # --- arrivals ---------------------------------------------------------------------------
    def _on_submit_arrival(self, work: _Working) -> None:
        iid = work.iid
        inst = self._instruments[iid]
        book = self._books[iid]
        if work.cid in self._orders:
            self._reply_reject(work, "duplicate_client_order_id", "client order id already used")
            return
        if work.order_type not in (OrderType.LIMIT, OrderType.MARKET):
            self._reply_reject(
                work, "unsupported_order_type", f"{work.order_type} is not supported on L2 data"
            )
            return
        if work.reduce_only and not self._reduces(iid, work.side, work.qty):
            self._reply_reject(work, "reduce_only", "reduce-only order would increase the position")
            return
        self._orders[work.cid] = work
        best_opp = book.best_ask_tick if work.side > 0 else book.best_bid_tick
        crosses = best_opp is not None and (
            work.tick is None
            or (work.side > 0 and best_opp <= work.tick)
            or (work.side < 0 and best_opp >= work.tick)
        )
        if work.post_only and crosses:
            work.done = True
            self._reply_reject(
                work, "post_only_would_take", "post-only order would immediately match and take"
            )
            return
        if crosses and self._would_self_trade(iid, work):
            work.done = True
            self._reply_reject(
                work, "self_trade_prevented", "order would trade against our own resting order"
            )
            return
        if work.tif is TimeInForce.FOK:
            available = self._takeable_lots(book, work)
            if available < work.qty:
                work.done = True
                self._reply(OrderExpired, work, ())
                return
        self._reply(OrderAccepted, work, (("venue_order_id", work.venue_order_id),))
        if crosses:
            self._take(inst, book, work)
        remaining = work.qty - work.filled
        if remaining <= 0:
            self._retire(work)
            return
        if work.order_type is OrderType.MARKET or work.tif in (TimeInForce.IOC, TimeInForce.FOK):
            work.done = True
            self._reply(OrderExpired, work, ())
            return
        assert work.tick is not None
        front = float(book.lots_at(work.side, work.tick))
        own = self._own[iid]
        work.slot = own.add(work.side, work.tick, remaining, front)
        self._by_slot[iid][work.slot] = work
        if work.expire_ns is not None:
            self._schedule(work.expire_ns, self._on_expiry, work.cid)

    def _on_cancel_arrival(self, cid: ClientOrderId) -> None:
        work = self._orders.get(cid)
        if work is None:
            self._deliver_later(self._event(OrderCancelRejected, cid, None, (("reason", "unknown_order"),)))
            return
        if work.done:
            self._reply(OrderCancelRejected, work, (("reason", "order_not_open"),))
            return
        self._retire(work)
        self._reply(OrderCanceled, work, ())

    def _on_modify_arrival(self, arg: tuple[ClientOrderId, int | None, int | None]) -> None:
        cid, tick, lots = arg
        work = self._orders.get(cid)
        if work is None or work.done or work.slot < 0:
            reason = "unknown_order" if work is None else "order_not_open"
            self._deliver_later(self._event(OrderModifyRejected, cid, work, (("reason", reason),)))
            return
        new_tick = work.tick if tick is None else tick
        new_qty = work.qty if lots is None else lots
        assert new_tick is not None
        if new_qty <= work.filled:
            self._reply(OrderModifyRejected, work, (("reason", "quantity_below_filled"),))
            return
        book = self._books[work.iid]
        opp = book.best_ask_tick if work.side > 0 else book.best_bid_tick
        if opp is not None and ((work.side > 0 and opp <= new_tick) or (work.side < 0 and opp >= new_tick)):
            self._reply(OrderModifyRejected, work, (("reason", "would_cross"),))
            return
        own = self._own[work.iid]
        j = work.slot
        keeps_priority = new_tick == work.tick and new_qty <= work.qty
        own.tick[j] = new_tick
        own.leaves[j] = new_qty - work.filled
        if not keeps_priority:
            own.front[j] = float(book.lots_at(work.side, new_tick))
            own.cum_trade[j] = 0.0
        work.tick, work.qty = new_tick, new_qty
        own.refresh()
        inst = self._instruments[work.iid]
        self._reply(
            OrderUpdated,
            work,
            (("quantity", inst.lots_to_size(new_qty)), ("price", inst.ticks_to_price(new_tick))),
        )

    def _on_expiry(self, cid: ClientOrderId) -> None:
        work = self._orders.get(cid)
        if work is None or work.done:
            return
        self._retire(work)
        self._reply(OrderExpired, work, ())

    # --- matching helpers -------------------------------------------------------------------
    def _take(self, inst: Instrument, book: OrderBook, work: _Working) -> None:
        """Fill as taker, level by level, up to the limit price (or without limit for MARKET)."""
        opp_side = -work.side
        need = work.qty - work.filled
        for tick, lots in book.depth_ticks(opp_side, 10_000):
            if need <= 0:
                break
            if work.tick is not None and (
                (work.side > 0 and tick > work.tick) or (work.side < 0 and tick < work.tick)
            ):
                break
            take = min(lots, need)
            self._fill(work, tick, take, LiquiditySide.TAKER)
            need -= take

    def _takeable_lots(self, book: OrderBook, work: _Working) -> int:
        total = 0
        for tick, lots in book.depth_ticks(-work.side, 10_000):
            if work.tick is not None and (
                (work.side > 0 and tick > work.tick) or (work.side < 0 and tick < work.tick)
            ):
                break
            total += lots
            if total >= work.qty:
                break
        return total

    def _would_self_trade(self, iid: InstrumentId, work: _Working) -> bool:
        for other in self._by_slot[iid].values():
            if other.side == work.side or other.tick is None:
                continue
            if (
                work.tick is None
                or (work.side > 0 and other.tick <= work.tick)
                or (work.side < 0 and other.tick >= work.tick)
            ):
                return True
        return False

    def _reduces(self, iid: InstrumentId, side: int, lots: int) -> bool:
        pos = self._position_lots.get(iid, 0)
        return pos != 0 and (pos > 0) != (side > 0) and lots <= abs(pos)

    def _fill(self, work: _Working, tick: int, lots: int, liquidity: LiquiditySide) -> None:
        self._book_fill(work, tick, lots, liquidity)
        if work.filled >= work.qty:
            work.done = True

    def _retire(self, work: _Working) -> None:
        work.done = True
        if work.slot >= 0:
            self._own[work.iid].remove(work.slot)
            self._by_slot[work.iid].pop(work.slot, None)
            work.slot = -1

    # --- inspection -------------------------------------------------------------------------
    def queue_ahead(self, client_order_id: ClientOrderId) -> float | None:
        """Size ahead of a resting order in its level's queue (None if it is not resting)."""
        work = self._orders.get(client_order_id)
        if work is None or work.slot < 0:
            return None
        return float(self._own[work.iid].front[work.slot])

    def set_queue_ahead(self, client_order_id: ClientOrderId, lots: float) -> None:
        """Set the size ahead of a resting order (restoring a saved venue state); no-op if it is not resting."""
        work = self._orders.get(client_order_id)
        if work is not None and work.slot >= 0:
            self._own[work.iid].front[work.slot] = max(0.0, lots)

    def is_resting(self, client_order_id: ClientOrderId) -> bool:
        work = self._orders.get(client_order_id)
        return work is not None and work.slot >= 0
