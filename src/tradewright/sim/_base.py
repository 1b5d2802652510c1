"""What every simulated venue shares: order traffic delayed by the latency model, venue answers delivered
after the response latency, and fills booked with exact prices and fees."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from tradewright.core.clock import Clock
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.events import OrderEvent, OrderFilled, OrderRejected
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, LatencyModel

__all__ = ["Scheduler", "SimVenueBase", "WorkingOrder"]

Scheduler = Callable[[int, Callable[[Any], None], Any], None]


class WorkingOrder(Protocol):
    """The venue-side record of one of our orders (each venue keeps its own richer record)."""

    cid: ClientOrderId
    iid: InstrumentId
    venue_order_id: VenueOrderId
    side: int
    qty: int
    filled: int


class SimVenueBase:
    """Base of the simulated venues: implements `cancel`/`modify` of the `ExecutionClient` port by
    scheduling their arrival; subclasses define `submit` and the `_on_*_arrival` handlers."""

    def __init__(
        self,
        venue: Venue,
        clock: Clock,
        schedule: Scheduler,
        deliver: Callable[[OrderEvent], None],
        *,
        latency: LatencyModel | None = None,
        fees: FeeModel | None = None,
    ) -> None:
        self._venue = venue
        self._clock = clock
        self._schedule = schedule
        self._deliver = deliver
        self.latency = latency or ConstantLatency(0, 0)
        self.fees = fees or FeeModel()
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._position_lots: dict[InstrumentId, int] = {}
        self._trade_seq = 0
        self.stats: dict[str, int] = {}

    @property
    def venue(self) -> Venue:
        return self._venue

    # --- ExecutionClient (cancel, modify) --------------------------------------------------
    def cancel(self, order: Order) -> None:
        self._schedule(
            self._clock.now_ns() + self.latency.cancel_ns(), self._on_cancel_arrival, order.client_order_id
        )

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        inst = self._instruments[order.instrument_id]
        tick = None if price is None else inst.price_to_ticks(price)
        lots = None if quantity is None else inst.size_to_lots(quantity)
        self._schedule(
            self._clock.now_ns() + self.latency.entry_ns(),
            self._on_modify_arrival,
            (order.client_order_id, tick, lots),
        )

    def _on_cancel_arrival(self, cid: ClientOrderId) -> None:
        raise NotImplementedError

    def _on_modify_arrival(self, arg: tuple[ClientOrderId, int | None, int | None]) -> None:
        raise NotImplementedError

    # --- fills and replies -----------------------------------------------------------------
    def _book_fill(self, work: WorkingOrder, tick: int, lots: int, liquidity: LiquiditySide) -> None:
        """Fill `lots` of `work` at `tick`: exact price and fee, the venue's position, the answer sent."""
        inst = self._instruments[work.iid]
        price = inst.ticks_to_price(tick)
        size = inst.lots_to_size(lots)
        fee = self.fees.fee(inst, price, size, liquidity)
        work.filled += lots
        self._position_lots[work.iid] = self._position_lots.get(work.iid, 0) + work.side * lots
        self._trade_seq += 1
        key = "maker_fills" if liquidity is LiquiditySide.MAKER else "taker_fills"
        self.stats[key] = self.stats.get(key, 0) + 1
        self._reply(
            OrderFilled,
            work,
            (
                ("venue_order_id", work.venue_order_id),
                ("trade_id", TradeId(f"{self._venue}-{self._trade_seq}")),
                ("side", OrderSide.BUY if work.side > 0 else OrderSide.SELL),
                ("last_px", price),
                ("last_qty", size),
                ("liquidity", liquidity),
                ("fee", fee),
                ("fee_currency", inst.settle),
            ),
        )

    def _event(
        self,
        cls: type[OrderEvent],
        cid: ClientOrderId,
        work: WorkingOrder | None,
        fields: tuple[tuple[str, Any], ...],
    ) -> OrderEvent:
        now = self._clock.now_ns()
        iid = work.iid if work is not None else next(iter(self._instruments))
        return cls(client_order_id=cid, instrument_id=iid, ts_event=now, ts_init=now, **dict(fields))

    def _reply(self, cls: type[OrderEvent], work: WorkingOrder, fields: tuple[tuple[str, Any], ...]) -> None:
        self._deliver_later(self._event(cls, work.cid, work, fields))

    def _reply_reject(self, work: WorkingOrder, reason: str, message: str) -> None:
        self.stats["rejects"] = self.stats.get("rejects", 0) + 1
        self._reply(OrderRejected, work, (("reason", reason), ("message", message)))

    def _deliver_later(self, event: OrderEvent) -> None:
        self._schedule(self._clock.now_ns() + self.latency.response_ns(), self._deliver, event)
