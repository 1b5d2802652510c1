"""The order and its state machine.

An `Order` changes only by applying an `OrderEvent`. The table `TRANSITIONS` lists every legal
(status, event) pair; anything else raises `InvalidStateTransition` naming the order, the status and the
event, and leaves the order unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from tradewright.core.errors import InvalidStateTransition
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, VenueOrderId
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderUpdated,
)

__all__ = ["TRANSITIONS", "Order"]

S = OrderStatus
_FILL = "fill"  # placeholder target: FILLED or PARTIALLY_FILLED, decided by the remaining size
_PREV = "prev"  # placeholder target: the status before the pending request

TRANSITIONS: dict[tuple[OrderStatus, type[OrderEvent]], OrderStatus | str] = {
    (S.INITIALIZED, OrderDenied): S.DENIED,
    (S.INITIALIZED, OrderSubmitted): S.SUBMITTED,
    (S.SUBMITTED, OrderAccepted): S.ACCEPTED,
    (S.SUBMITTED, OrderRejected): S.REJECTED,
    (S.SUBMITTED, OrderCanceled): S.CANCELED,  # e.g. IOC with nothing to fill, before any ack
    (S.SUBMITTED, OrderExpired): S.EXPIRED,
    (S.SUBMITTED, OrderFilled): _FILL,  # a fill may arrive before its ack
    (S.SUBMITTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.SUBMITTED, OrderPendingUpdate): S.PENDING_UPDATE,
    (S.ACCEPTED, OrderFilled): _FILL,
    (S.ACCEPTED, OrderCanceled): S.CANCELED,
    (S.ACCEPTED, OrderExpired): S.EXPIRED,
    (S.ACCEPTED, OrderUpdated): S.ACCEPTED,
    (S.ACCEPTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.ACCEPTED, OrderPendingUpdate): S.PENDING_UPDATE,
    (S.PARTIALLY_FILLED, OrderFilled): _FILL,
    (S.PARTIALLY_FILLED, OrderAccepted): S.PARTIALLY_FILLED,  # the ack of an order that filled before it
    (S.PARTIALLY_FILLED, OrderCanceled): S.CANCELED,
    (S.PARTIALLY_FILLED, OrderExpired): S.EXPIRED,
    (S.PARTIALLY_FILLED, OrderUpdated): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, OrderPendingUpdate): S.PENDING_UPDATE,
    (S.PENDING_CANCEL, OrderCanceled): S.CANCELED,
    (S.PENDING_CANCEL, OrderCancelRejected): _PREV,
    (S.PENDING_CANCEL, OrderFilled): _FILL,  # a fill racing the cancel wins if it was first at the venue
    (S.PENDING_CANCEL, OrderExpired): S.EXPIRED,
    (S.PENDING_CANCEL, OrderAccepted): S.PENDING_CANCEL,  # a late ack does not undo the cancel request
    (S.PENDING_CANCEL, OrderRejected): S.REJECTED,  # the venue refused the order before our cancel arrived
    (S.PENDING_UPDATE, OrderUpdated): _PREV,
    (S.PENDING_UPDATE, OrderModifyRejected): _PREV,
    (S.PENDING_UPDATE, OrderFilled): _FILL,
    (S.PENDING_UPDATE, OrderCanceled): S.CANCELED,
    (S.PENDING_UPDATE, OrderExpired): S.EXPIRED,
    (S.PENDING_UPDATE, OrderAccepted): S.PENDING_UPDATE,
    (S.PENDING_UPDATE, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PENDING_UPDATE, OrderRejected): S.REJECTED,
}


class Order:
    """A client-side order. Create it from a `SubmitOrder`; change it only with `apply`."""

    __slots__ = (
        "_prev_status",
        "avg_px",
        "client_order_id",
        "events",
        "expire_ns",
        "fees",
        "filled_qty",
        "instrument_id",
        "oca_group",
        "order_type",
        "parent_order_id",
        "post_only",
        "price",
        "quantity",
        "reduce_only",
        "side",
        "status",
        "strategy_id",
        "time_in_force",
        "trigger_price",
        "ts_init",
        "ts_last",
        "venue_order_id",
    )

    def __init__(self, cmd: SubmitOrder) -> None:
        self.client_order_id: ClientOrderId = cmd.client_order_id
        self.strategy_id: StrategyId = cmd.strategy_id
        self.instrument_id: InstrumentId = cmd.instrument_id
        self.side: OrderSide = cmd.side
        self.order_type: OrderType = cmd.order_type
        self.quantity: Decimal = cmd.quantity
        self.price: Decimal | None = cmd.price
        self.trigger_price: Decimal | None = cmd.trigger_price
        self.time_in_force: TimeInForce = cmd.time_in_force
        self.expire_ns: int | None = cmd.expire_ns
        self.post_only: bool = cmd.post_only
        self.reduce_only: bool = cmd.reduce_only
        self.parent_order_id: ClientOrderId | None = cmd.parent_order_id
        self.oca_group: str = cmd.oca_group
        self.status: OrderStatus = OrderStatus.INITIALIZED
        self._prev_status: OrderStatus = OrderStatus.INITIALIZED
        self.venue_order_id: VenueOrderId | None = None
        self.filled_qty: Decimal = Decimal(0)
        self.avg_px: Decimal | None = None
        self.fees: Decimal = Decimal(0)
        self.ts_init: int = cmd.ts_init
        self.ts_last: int = cmd.ts_init
        self.events: list[OrderEvent] = []

    @property
    def leaves_qty(self) -> Decimal:
        """Size still working: total minus filled."""
        return self.quantity - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_closed(self) -> bool:
        return self.status.is_terminal

    def can_apply(self, event: OrderEvent) -> bool:
        return (self.status, type(event)) in TRANSITIONS

    def apply(self, event: OrderEvent) -> None:
        """Apply an event or raise `InvalidStateTransition` (the order is then unchanged)."""
        if event.client_order_id != self.client_order_id:
            raise InvalidStateTransition(
                f"event for {event.client_order_id} applied to order {self.client_order_id}"
            )
        etype = type(event)
        target = TRANSITIONS.get((self.status, etype))
        if target is None:
            raise InvalidStateTransition(
                f"order {self.client_order_id}: {etype.__name__} is not allowed in status {self.status}"
            )
        # Dispatch on the exact event type (events are final classes): cheaper than isinstance chains.
        if etype is OrderFilled:
            fill: OrderFilled = event  # type: ignore[assignment]
            self._apply_fill(fill)
            new_status = S.FILLED if self.filled_qty >= self.quantity else S.PARTIALLY_FILLED
            if new_status is S.PARTIALLY_FILLED:
                self._prev_status = S.PARTIALLY_FILLED
                if self.status is S.PENDING_CANCEL or self.status is S.PENDING_UPDATE:
                    new_status = self.status  # still waiting for the venue's answer to our request
        elif target == _PREV:
            new_status = self._prev_status
        else:
            new_status = target  # type: ignore[assignment]
        if etype is OrderAccepted:
            self.venue_order_id = event.venue_order_id  # type: ignore[attr-defined]
        elif etype is OrderSubmitted:
            # The size sent: the command's, or (a bracket child the engine held until its entry filled)
            # the part of it released so far (`tradewright.engine.contingent`).
            self.quantity = event.quantity  # type: ignore[attr-defined]
        elif etype is OrderUpdated:
            update: OrderUpdated = event  # type: ignore[assignment]
            if update.quantity < self.filled_qty:
                raise InvalidStateTransition(
                    f"order {self.client_order_id}: new quantity {update.quantity} is below filled {self.filled_qty}"
                )
            self.quantity = update.quantity
            if update.price is not None:
                self.price = update.price
            if update.venue_order_id is not None:
                self.venue_order_id = update.venue_order_id
            if self.filled_qty >= self.quantity:
                new_status = S.FILLED
        elif (etype is OrderPendingCancel or etype is OrderPendingUpdate) and self.status not in (
            S.PENDING_CANCEL,
            S.PENDING_UPDATE,
        ):
            self._prev_status = self.status
        self.status = new_status
        self.ts_last = event.ts_event
        self.events.append(event)

    def _apply_fill(self, fill: OrderFilled) -> None:
        if fill.last_qty <= 0:
            raise InvalidStateTransition(
                f"order {self.client_order_id}: fill size must be > 0, got {fill.last_qty}"
            )
        if self.filled_qty + fill.last_qty > self.quantity:
            raise InvalidStateTransition(
                f"order {self.client_order_id}: fill of {fill.last_qty} overfills "
                f"({self.filled_qty} of {self.quantity} already filled)"
            )
        if fill.venue_order_id and self.venue_order_id is None:
            self.venue_order_id = fill.venue_order_id
        notional = (self.avg_px or Decimal(0)) * self.filled_qty + fill.last_px * fill.last_qty
        self.filled_qty += fill.last_qty
        self.avg_px = notional / self.filled_qty
        self.fees += fill.fee

    def __repr__(self) -> str:
        return (
            f"Order({self.client_order_id} {self.side} {self.quantity} {self.instrument_id} "
            f"@ {self.price} {self.status} filled={self.filled_qty})"
        )
