"""Client-side order book-keeping: ids, orders, idempotent application of venue events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal

from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, TradeId
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderAccepted, OrderEvent, OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import TRANSITIONS, Order

__all__ = ["VENUE_INTEGRITY", "OrderManager", "fill_violation"]

VENUE_INTEGRITY = "venue integrity"  # the prefix of a refusal that says the venue reported the impossible


def fill_violation(order: Order, fill: OrderFilled, instrument: Instrument | None) -> str | None:
    """Why a venue's fill cannot be true of this order, or None when it can be booked.

    A fill must be finite and on the instrument's grid (when the instrument is known), priced > 0, at or
    inside the order's limit (a BUY at or below it, a SELL at or above it) and no larger than what is
    left of the order. Cheap on purpose: a few Decimal comparisons per fill, none per other event.
    """
    px, qty = fill.last_px, fill.last_qty
    if not (px.is_finite() and qty.is_finite()):
        return f"fill {fill.trade_id} is not a number: {qty} @ {px}"
    if px <= 0 or qty <= 0:
        return f"fill {fill.trade_id} of {qty} @ {px}: price and size must be > 0"
    if qty > order.quantity - order.filled_qty:
        return f"fill {fill.trade_id} of {qty} is more than the {order.quantity - order.filled_qty} left of the order"
    limit = order.price
    if limit is not None and (px > limit if order.side is OrderSide.BUY else px < limit):
        return f"fill {fill.trade_id} @ {px} is beyond the {order.side.value} order's limit {limit}"
    if instrument is not None:
        try:
            off = bool(px % instrument.tick_size or qty % instrument.lot_size)
        except ArithmeticError:  # more digits than a Decimal context holds: nowhere near any grid
            off = True
        if off:
            return f"fill {fill.trade_id} of {qty} @ {px} is off the grid ({instrument.tick_size} x {instrument.lot_size})"
    return None


class OrderManager:
    """Owns every `Order`. Venue events are applied at most once and in a legal order.

    Duplicates (a fill with a trade id already seen, a second ack) and stale
    events (an ack after the order already ended) are ignored and counted, never raised: venues repeat
    and reorder messages. A fill that cannot be true (`fill_violation`) is refused as well, and handed to
    `on_violation` (the live node halts the instrument and reconciles); `instruments`, when set, lets
    that check include the grid.
    """

    def __init__(self, id_prefix: str, log: logging.Logger | None = None) -> None:
        self._prefix = id_prefix
        self._seq = 0
        self._orders: dict[ClientOrderId, Order] = {}
        self._open: dict[ClientOrderId, Order] = {}
        self._fill_ids: set[tuple[ClientOrderId, TradeId]] = set()
        self._log = log or logging.getLogger("tradewright.orders")
        self.ignored_events = 0
        self.instruments: Mapping[InstrumentId, Instrument] = {}
        self.on_violation: Callable[[Order, OrderFilled, str], None] | None = None

    def next_id(self, strategy_id: StrategyId) -> ClientOrderId:
        self._seq += 1
        return ClientOrderId(f"{self._prefix}-{strategy_id}-{self._seq}")

    def add(self, order: Order) -> None:
        if order.client_order_id in self._orders:
            raise ValueError(f"duplicate client order id {order.client_order_id}")
        self._orders[order.client_order_id] = order

    def get(self, client_order_id: ClientOrderId) -> Order | None:
        return self._orders.get(client_order_id)

    @property
    def all_orders(self) -> list[Order]:
        return list(self._orders.values())

    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        if instrument_id is None:
            return list(self._open.values())
        return [o for o in self._open.values() if o.instrument_id == instrument_id]

    def restore(self, order: Order) -> None:
        """Adopt an order rebuilt from storage after a restart: its stored fills count as seen, so a
        venue that repeats one of them is ignored."""
        self.add(order)
        cid = order.client_order_id
        for event in order.events:
            if type(event) is OrderFilled:
                self._fill_ids.add((cid, event.trade_id))
        if order.status.is_open:
            self._open[cid] = order

    def refusal(self, event: OrderEvent) -> str | None:
        """Why `apply` would ignore the event (unknown order, duplicate, stale), or None if it applies.

        Pure: nothing changes. A kernel with a journal asks this before it records the event, so that
        only events that will change an order are made durable.
        """
        order = self._orders.get(event.client_order_id)
        if order is None:
            return "unknown client order id"
        etype = type(event)  # events are final classes: identity checks are cheaper than isinstance
        if etype is OrderFilled:
            if (event.client_order_id, event.trade_id) in self._fill_ids:  # type: ignore[attr-defined]
                return "duplicate fill"
            bad = fill_violation(order, event, self.instruments.get(event.instrument_id))  # type: ignore[arg-type]
            if bad is not None:
                return f"{VENUE_INTEGRITY}: {bad}"
        elif etype is OrderAccepted and order.venue_order_id is not None:
            if order.status.is_terminal:
                return "ack after the order ended"
            if any(type(e) is OrderAccepted for e in order.events):
                return "duplicate ack"
        if (order.status, etype) not in TRANSITIONS:
            return f"not applicable in status {order.status}"
        return None

    def best_prices(self, instrument_id: InstrumentId) -> tuple[Decimal | None, Decimal | None]:
        """Highest open buy price and lowest open sell price on an instrument (None when there is none)."""
        bid: Decimal | None = None
        ask: Decimal | None = None
        for order in self._open.values():
            px = order.price
            if px is None or order.instrument_id != instrument_id:
                continue
            if order.side is OrderSide.BUY:
                if bid is None or px > bid:
                    bid = px
            elif ask is None or px < ask:
                ask = px
        return bid, ask

    def apply(self, event: OrderEvent) -> Order | None:
        """Apply an event; return the order if it changed, None if the event was a duplicate or stale."""
        why = self.refusal(event)
        if why is not None:
            self._ignore(event, why)
            if why.startswith(VENUE_INTEGRITY) and self.on_violation is not None:
                bare = why[len(VENUE_INTEGRITY) + 2 :]
                self.on_violation(self._orders[event.client_order_id], event, bare)  # type: ignore[arg-type]
            return None
        order = self._orders[event.client_order_id]
        order.apply(event)
        if type(event) is OrderFilled:
            self._fill_ids.add((event.client_order_id, event.trade_id))
        if order.status.is_open:
            self._open[order.client_order_id] = order
        else:
            self._open.pop(order.client_order_id, None)
        return order

    def _ignore(self, event: OrderEvent, why: str) -> None:
        self.ignored_events += 1
        self._log.debug("ignored %s for %s: %s", type(event).__name__, event.client_order_id, why)
