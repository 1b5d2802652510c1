"""An in-memory venue for tests: the kernel's `ExecutionClient` and the engine's `VenueStatePort` in one.

`FakeVenue` decides each order's fate the moment it arrives (by default: fill it completely at its
price), keeps it, and answers through whatever kernel is connected, after `latency_ns`. It survives the
node: a test can drop a kernel mid-work ("crash"), `connect` a new one, and ask the venue what became of
each order by client order id, as reconciliation does. `seen` lists every client order id it received,
in order, so a test can show that none was sent twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewright.core.clock import Clock
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus, VenuePosition
from tradewright.model.enums import LiquiditySide, OrderSide, TimeInForce
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
)
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order

__all__ = ["REJECT", "REST", "FakeVenue", "Fate"]

REJECT = "reject"  # the venue refuses the order
REST = "rest"  # accepted, nothing fills now (IOC/FOK: expired at once; GTC: works until cancelled)
Fate = Decimal | str  # a size to fill at the order's price (0 .. quantity), or REJECT, or REST
Scheduler = Callable[[int, Callable[[Any], None], Any], None]


@dataclass
class _Held:
    view: VenueOrder
    fills: list[OrderFilled] = field(default_factory=list)


class FakeVenue:
    """A venue in memory (module docstring). `script(order)` gives each order's fate."""

    def __init__(
        self,
        venue: Venue,
        clock: Clock,
        instruments: Iterable[Instrument],
        *,
        script: Callable[[Order], Fate] | None = None,
        latency_ns: int = 1_000_000,
        taker_fee: Decimal = Decimal(0),
    ) -> None:
        self._venue = venue
        self._clock = clock
        self.instruments = {i.id: i for i in instruments}
        self.script = script or (lambda order: order.quantity)
        self.latency_ns = latency_ns
        self.taker_fee = taker_fee
        self.seen: list[ClientOrderId] = []
        self.positions: dict[InstrumentId, Decimal] = {}
        self._orders: dict[ClientOrderId, _Held] = {}
        self._schedule: Scheduler | None = None
        self._deliver: Callable[[OrderEvent], None] | None = None
        self._trades = 0

    def connect(self, schedule: Scheduler, deliver: Callable[[OrderEvent], None]) -> None:
        """Send answers to this (new) node from now on; answers still on their way to the old one are lost."""
        self._schedule, self._deliver = schedule, deliver

    @property
    def venue(self) -> Venue:
        return self._venue

    # --- ExecutionClient ----------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        cid = order.client_order_id
        self.seen.append(cid)
        now = self._clock.now_ns()
        if cid in self._orders:  # what a real venue does with a repeated client order id
            self._reply(OrderRejected, cid, order.instrument_id, reason="duplicate_client_order_id")
            return
        fate = self.script(order)
        # A refused order gets no venue order id, as on real venues.
        vid = VenueOrderId("" if fate == REJECT else f"{self._venue}-{len(self._orders) + 1}")
        view = VenueOrder(
            client_order_id=cid,
            venue_order_id=vid,
            instrument_id=order.instrument_id,
            side=order.side,
            status=VenueOrderStatus.REJECTED if fate == REJECT else VenueOrderStatus.OPEN,
            quantity=order.quantity,
            filled_qty=Decimal(0),
            price=order.price,
            ts_ns=now,
        )
        held = self._orders[cid] = _Held(view)
        if fate == REJECT:
            self._reply(
                OrderRejected, cid, order.instrument_id, reason="rejected_by_venue", message="scripted"
            )
            return
        self._reply(OrderAccepted, cid, order.instrument_id, venue_order_id=vid)
        size = Decimal(0) if fate == REST else Decimal(fate)
        if size > 0:
            self._fill(held, size)
        if held.view.filled_qty >= order.quantity:
            self._set(held, VenueOrderStatus.FILLED)
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._set(held, VenueOrderStatus.EXPIRED)
            self._reply(OrderExpired, cid, order.instrument_id)

    def cancel(self, order: Order) -> None:
        held = self._orders.get(order.client_order_id)
        if held is None or not held.view.status.is_open:
            self._reply(OrderCancelRejected, order.client_order_id, order.instrument_id, reason="not_open")
            return
        self._set(held, VenueOrderStatus.CANCELED)
        self._reply(OrderCanceled, order.client_order_id, order.instrument_id)

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self._reply(OrderModifyRejected, order.client_order_id, order.instrument_id, reason="unsupported")

    # --- VenueStatePort -----------------------------------------------------------------------
    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        return [
            h.view
            for h in self._orders.values()
            if h.view.instrument_id == instrument_id and h.view.status.is_open
        ]

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        held = self._orders.get(client_order_id)
        return None if held is None or held.view.instrument_id != instrument_id else held.view

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        held = self._orders.get(order.client_order_id)
        return [] if held is None else list(held.fills)

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        positions = {
            iid: VenuePosition(iid, self.positions.get(iid, Decimal(0)), Decimal(0)) for iid in instrument_ids
        }
        return AccountSnapshot(as_of_ns=self._clock.now_ns(), positions=positions)

    # --- internals ----------------------------------------------------------------------------
    def _fill(self, held: _Held, size: Decimal) -> None:
        view = held.view
        inst = self.instruments[view.instrument_id]
        size = min(inst.round_size_down(size), view.quantity - view.filled_qty)
        if size <= 0:
            return
        price = view.price if view.price is not None else Decimal(0)
        self._trades += 1
        fill = OrderFilled(
            client_order_id=view.client_order_id,
            instrument_id=view.instrument_id,
            venue_order_id=view.venue_order_id,
            trade_id=TradeId(f"{self._venue}-T{self._trades}"),
            side=view.side,
            last_px=price,
            last_qty=size,
            liquidity=LiquiditySide.TAKER,
            fee=inst.notional(price, size) * self.taker_fee,
            fee_currency=inst.settle,
            ts_event=self._clock.now_ns(),
            ts_init=self._clock.now_ns(),
        )
        held.fills.append(fill)
        sign = 1 if view.side is OrderSide.BUY else -1
        self.positions[view.instrument_id] = self.positions.get(view.instrument_id, Decimal(0)) + sign * size
        held.view = _replace(view, filled_qty=view.filled_qty + size)
        self._later(fill)

    def _set(self, held: _Held, status: VenueOrderStatus) -> None:
        held.view = _replace(held.view, status=status, ts_ns=self._clock.now_ns())

    def _reply(self, kind: type[OrderEvent], cid: ClientOrderId, iid: InstrumentId, **fields: Any) -> None:
        now = self._clock.now_ns()
        self._later(kind(client_order_id=cid, instrument_id=iid, ts_event=now, ts_init=now, **fields))

    def _later(self, event: OrderEvent) -> None:
        if self._schedule is None or self._deliver is None:
            raise RuntimeError("FakeVenue.connect(schedule, deliver) first")
        self._schedule(self._clock.now_ns() + self.latency_ns, self._deliver, event)


def _replace(view: VenueOrder, **changes: Any) -> VenueOrder:
    fields = {name: getattr(view, name) for name in VenueOrder.__dataclass_fields__}
    fields.update(changes)
    return VenueOrder(**fields)
