"""The simulated venue for bar data: orders fill against OHLC bars by documented, configurable rules.

A bar says where the market traded, not in what order, so the venue fixes an order and says so. Times
are the kernel's simulated clock; bar k opens at ``o_k`` and closes at ``c_k = o_k + interval``; the
strategy sees bar k at ``c_k``.

1. **Eligibility.** An order takes part in bar k only if it reached the venue by the bar's open
   (sent at or before ``o_k - entry latency``). An order placed in reaction to a fill at bar k's open
   (with zero latency) takes part in the rest of bar k (its path), not in its open.
2. **The open.** At ``o_k``: MARKET orders fill at the open plus `slippage_ticks` against us, but never
   outside the bar's range. A limit order that is marketable on arrival takes at the open price (or its
   limit, if better for the market), also with slippage (a post-only one is cancelled,
   reason `post_only_would_take`); IOC/FOK orders that cannot fill at the open expire. A resting limit the
   market has gapped through fills at its own price (maker). A stop the open has gapped through fills
   at the open plus slippage (worse than its trigger).
3. **The path.** Then the bar's path is walked open -> first extreme -> second extreme -> close, and
   working orders fill where the path crosses them, nearest first. Which extreme comes first is the
   `intrabar` rule: "worst" (default) goes against the position first (long: low first; short: high
   first), so a bar that touches both a stop and a target fills the stop; "best" is the opposite;
   "nearest" goes to the extreme nearer the open first (also what "worst"/"best" do when flat).
   A limit fills at its price when the bar trades *through* it (`limit_fill = "through"`, default;
   "touch" also fills when the extreme only equals it); it is a maker fill. A stop triggers when the
   bar touches it and fills at the trigger plus slippage, capped at the bar's extreme (taker); a stop
   limit then behaves as a limit at its price. Path fills are stamped at the bar's close ``c_k``.
4. **Reactions.** After each fill the kernel delivers the events due (with zero response latency the
   strategy hears of the fill at once) before the venue looks at the next order on the path, so a
   strategy that cancels its target when the stop fills is honoured within the bar.
5. **Reduce-only** orders never increase the position: one that would is cancelled when it triggers
   (reason `reduce_only`), and one larger than the position fills only the position's size, the rest
   cancelled. A stop and a target both reduce-only act as a one-cancels-other pair.
6. Fills are whole (no volume cap); fees are the fee model's maker/taker rates on exact notionals.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from tradewright.core.clock import Clock
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue, VenueOrderId
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
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import LatencyModel

__all__ = ["BarFillConfig", "BarVenue"]

_STOPS = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)


class BarFillConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The bar fill rules (module docstring): slippage in ticks, intrabar path, limit fill rule."""

    slippage_ticks: Annotated[int, msgspec.Meta(ge=0)] = 0
    intrabar: Literal["worst", "best", "nearest"] = "worst"
    limit_fill: Literal["through", "touch"] = "through"


@dataclass(slots=True)
class _Working:
    """The venue's record of one of our orders. Prices in ticks, sizes in lots."""

    cid: ClientOrderId
    iid: InstrumentId
    venue_order_id: VenueOrderId
    side: int
    order_type: OrderType
    tick: int | None  # limit price
    trigger: int | None  # stop trigger
    qty: int
    tif: TimeInForce
    post_only: bool
    reduce_only: bool
    arrived_ns: int
    arrived_seq: int
    filled: int = 0
    rested: bool = False  # has survived a phase without filling: a later fill is a maker fill
    done: bool = False


class BarVenue(SimVenueBase):
    """Implements the kernel's `ExecutionClient` port for one venue trading on bars."""

    def __init__(
        self,
        venue: Venue,
        clock: Clock,
        schedule: Scheduler,
        deliver: Callable[[OrderEvent], None],
        *,
        latency: LatencyModel | None = None,
        fees: FeeModel | None = None,
        config: BarFillConfig | None = None,
        drain: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(venue, clock, schedule, deliver, latency=latency, fees=fees)
        self._drain = drain
        self.config = config or BarFillConfig()
        #: Our working orders in arrival order; the engine looks at this only to skip empty bars.
        self.working: dict[ClientOrderId, _Working] = {}
        self._known: set[ClientOrderId] = set()
        self._seq = 0
        self._open_seq = 0
        self._order_seq = 0

    def add_instrument(self, instrument: Instrument) -> None:
        self._instruments[instrument.id] = instrument
        self._position_lots.setdefault(instrument.id, 0)

    def position_lots(self, instrument_id: InstrumentId) -> int:
        """The venue's record of our position, in lots (long > 0)."""
        return self._position_lots.get(instrument_id, 0)

    # --- ExecutionClient --------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        inst = self._instruments[order.instrument_id]
        self._order_seq += 1
        work = _Working(
            cid=order.client_order_id,
            iid=order.instrument_id,
            venue_order_id=VenueOrderId(str(self._order_seq)),
            side=1 if order.side is OrderSide.BUY else -1,
            order_type=order.order_type,
            tick=None if order.price is None else inst.price_to_ticks(order.price),
            trigger=None if order.trigger_price is None else inst.price_to_ticks(order.trigger_price),
            qty=inst.size_to_lots(order.quantity),
            tif=order.time_in_force,
            post_only=order.post_only,
            reduce_only=order.reduce_only,
            arrived_ns=0,
            arrived_seq=0,
        )
        self._schedule(self._clock.now_ns() + self.latency.entry_ns(), self._on_submit_arrival, (work, order))

    # --- arrivals ---------------------------------------------------------------------------
    def _on_submit_arrival(self, arg: tuple[_Working, Order]) -> None:
        work, order = arg
        if work.cid in self._known:
            self._reject(work, "duplicate_client_order_id", "client order id already used")
            return
        self._known.add(work.cid)
        if work.order_type in _STOPS and work.trigger is None:
            self._reject(work, "missing_trigger", f"a {work.order_type} order needs a trigger price")
            return
        if work.order_type is OrderType.STOP_LIMIT and work.tick is None:
            self._reject(work, "missing_price", "a STOP_LIMIT order needs a limit price")
            return
        self._seq += 1
        work.arrived_ns = self._clock.now_ns()
        work.arrived_seq = self._seq
        self.working[work.cid] = work
        now = work.arrived_ns
        self._deliver_later(
            OrderAccepted(
                client_order_id=work.cid,
                instrument_id=work.iid,
                venue_order_id=work.venue_order_id,
                ts_event=now,
                ts_init=now,
            )
        )
        if order.expire_ns is not None:
            self._schedule(order.expire_ns, self._on_expiry, work.cid)

    def _on_cancel_arrival(self, cid: ClientOrderId) -> None:
        work = self.working.get(cid)
        if work is None:
            reason = "order_not_open" if cid in self._known else "unknown_order"
            self._deliver_later(self._event(OrderCancelRejected, cid, None, (("reason", reason),)))
            return
        self._retire(work)
        self._reply(OrderCanceled, work, ())

    def _on_modify_arrival(self, arg: tuple[ClientOrderId, int | None, int | None]) -> None:
        cid, tick, lots = arg
        work = self.working.get(cid)
        if work is None:
            reason = "order_not_open" if cid in self._known else "unknown_order"
            self._deliver_later(self._event(OrderModifyRejected, cid, None, (("reason", reason),)))
            return
        new_qty = work.qty if lots is None else lots
        if new_qty <= work.filled:
            self._reply(OrderModifyRejected, work, (("reason", "quantity_below_filled"),))
            return
        if tick is not None and tick != work.tick:
            work.tick = tick
            work.rested = False  # a new price is a new order as far as the bar rules go
        work.qty = new_qty
        self._seq += 1
        work.arrived_ns = self._clock.now_ns()
        work.arrived_seq = self._seq
        inst = self._instruments[work.iid]
        price = None if work.tick is None else inst.ticks_to_price(work.tick)
        self._reply(OrderUpdated, work, (("quantity", inst.lots_to_size(new_qty)), ("price", price)))

    def _on_expiry(self, cid: ClientOrderId) -> None:
        work = self.working.get(cid)
        if work is not None:
            self._retire(work)
            self._reply(OrderExpired, work, ())

    # --- matching ---------------------------------------------------------------------------
    def match_open(self, iid: InstrumentId, ts_open: int, o: int, h: int, lo: int) -> None:
        """Bar phase 1 at ``o_k`` (the clock must read ``ts_open``): market orders, gaps, arrivals at the open."""
        self._seq += 1
        self._open_seq = phase = self._seq
        for work in [w for w in self.working.values() if w.iid == iid]:
            if not work.done and work.arrived_seq < phase and work.arrived_ns <= ts_open:
                self._at_open(work, o, h, lo)

    def _at_open(self, work: _Working, o: int, h: int, lo: int) -> None:
        """Apply the open's rules to one order: market, marketable on arrival, gapped through, or rest."""
        slip = self.config.slippage_ticks
        side = work.side
        kind = work.order_type
        if kind is OrderType.MARKET:
            self._take(work, _slipped(o, side, slip, h, lo))
            return
        if kind in _STOPS:
            assert work.trigger is not None
            if (side > 0 and o < work.trigger) or (side < 0 and o > work.trigger):
                return
            if kind is OrderType.STOP_MARKET:
                self._take(work, _slipped(o, side, slip, h, lo))
                return
            work.order_type = OrderType.LIMIT  # triggered by a gap: from now on a limit, new at this price
            work.rested = False
        assert work.tick is not None
        limit = work.tick
        if (side > 0 and o > limit) or (side < 0 and o < limit):
            if work.tif in (TimeInForce.IOC, TimeInForce.FOK):
                self._retire(work)
                self._reply(OrderExpired, work, ())
            else:
                work.rested = True
        elif work.rested:
            self._fill_rest(work, limit, LiquiditySide.MAKER)
        elif work.post_only:
            # Already acknowledged (it rested until this open): the venue cancels it rather than rejects.
            self._retire(work)
            self._reply(OrderCanceled, work, (("reason", "post_only_would_take"),))
        else:
            px = _slipped(o, side, slip, h, lo)
            self._take(work, min(px, limit) if side > 0 else max(px, limit))

    def match_path(self, iid: InstrumentId, ts_open: int, o: int, h: int, lo: int, c: int) -> None:
        """Bar phase 2 (the clock must read the bar's close): walk the path and fill what it crosses."""
        self._seq += 1
        phase = self._seq
        # Orders that arrived after the open was matched (reactions to fills at the open) meet the
        # market at the open price first: marketable ones take there, the rest join the path.
        for work in [w for w in self.working.values() if w.iid == iid]:
            late = self._open_seq <= work.arrived_seq < phase and work.arrived_ns <= ts_open
            if late and not work.done and work.order_type is not OrderType.MARKET:
                self._at_open(work, o, h, lo)
        low_first = self._low_first(iid, o, h, lo)
        points = (o, lo, h, c) if low_first else (o, h, lo, c)
        touch = self.config.limit_fill == "touch"
        for a, b in itertools.pairwise(points):
            if a == b:
                continue
            up = b > a
            hits: list[tuple[int, int, _Working]] = []
            for work in self.working.values():
                if work.iid != iid or work.done or work.arrived_seq >= phase or work.arrived_ns > ts_open:
                    continue
                level = _level_hit(work, a, b, up, touch)
                if level is not None:
                    hits.append((abs(level - a), work.arrived_seq, work))
            hits.sort(key=lambda hit: (hit[0], hit[1]))
            for _, _, work in hits:
                if not work.done:
                    self._cross(work, a, b, up)

    def _low_first(self, iid: InstrumentId, o: int, h: int, lo: int) -> bool:
        rule = self.config.intrabar
        pos = self._position_lots.get(iid, 0)
        if rule != "nearest" and pos != 0:
            against_long_first = rule == "worst"
            return (pos > 0) == against_long_first
        return o - lo <= h - o

    def _cross(self, work: _Working, a: int, b: int, up: bool) -> None:
        """The path a -> b reached `work`'s level: fill it (or turn a triggered stop limit into a limit)."""
        slip = self.config.slippage_ticks
        side = work.side
        hi_, lo_ = (b, a) if up else (a, b)
        if work.order_type is OrderType.LIMIT:
            assert work.tick is not None
            self._fill_rest(work, work.tick, LiquiditySide.MAKER)
            return
        assert work.trigger is not None
        trigger = work.trigger
        if work.order_type is OrderType.STOP_MARKET:
            self._take(work, _slipped(trigger, side, slip, hi_, lo_))
            return
        assert work.tick is not None
        work.order_type = OrderType.LIMIT
        if (side > 0 and trigger <= work.tick) or (side < 0 and trigger >= work.tick):
            px = _slipped(trigger, side, slip, hi_, lo_)
            self._take(work, min(px, work.tick) if side > 0 else max(px, work.tick))
        else:
            work.rested = True  # rests as a limit beyond the market; later segments may fill it

    # --- fills ------------------------------------------------------------------------------
    def _take(self, work: _Working, tick: int) -> None:
        self._fill_rest(work, tick, LiquiditySide.TAKER)

    def _fill_rest(self, work: _Working, tick: int, liquidity: LiquiditySide) -> None:
        """Fill what is left of `work` at `tick` (reduce-only: at most the position), then let the node react."""
        lots = work.qty - work.filled
        if work.reduce_only:
            pos = self._position_lots.get(work.iid, 0)
            lots = min(lots, abs(pos)) if pos * work.side < 0 else 0
        if lots > 0:
            self._fill(work, tick, lots, liquidity)
        if work.filled < work.qty:
            self._retire(work)
            self._reply(OrderCanceled, work, (("reason", "reduce_only"),))
        if self._drain is not None:
            self._drain()

    def _fill(self, work: _Working, tick: int, lots: int, liquidity: LiquiditySide) -> None:
        self._book_fill(work, tick, lots, liquidity)
        if work.filled >= work.qty:
            self._retire(work)

    def _retire(self, work: _Working) -> None:
        work.done = True
        self.working.pop(work.cid, None)

    # --- replies ----------------------------------------------------------------------------
    def _reject(self, work: _Working, reason: str, message: str) -> None:
        work.done = True
        self._reply_reject(work, reason, message)


def _slipped(tick: int, side: int, slip: int, high: int, low: int) -> int:
    """`tick` moved `slip` ticks against a taker on `side`, kept inside [low, high]."""
    if side > 0:
        return min(tick + slip, high)
    return max(tick - slip, low)


def _level_hit(work: _Working, a: int, b: int, up: bool, touch: bool) -> int | None:
    """The level at which the path a -> b reaches `work`, or None if it does not."""
    side = work.side
    if work.order_type is OrderType.LIMIT:
        limit = work.tick
        assert limit is not None
        # A buy limit waits below the market for a fall through it; a sell limit above, for a rise.
        if up and side < 0 and (limit < b or (touch and limit == b)):
            return limit
        if not up and side > 0 and (limit > b or (touch and limit == b)):
            return limit
        return None
    trigger = work.trigger
    assert trigger is not None
    if up and side > 0 and a < trigger <= b:
        return trigger
    if not up and side < 0 and b <= trigger < a:
        return trigger
    return None
