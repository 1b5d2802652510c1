"""Commands: immutable requests, named in the imperative. A command may be denied; an event says what happened."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from tradewright.core.errors import InvalidOrderError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model.enums import OrderSide, OrderType, TimeInForce

__all__ = [
    "COMMAND_TYPES",
    "CancelAllOrders",
    "CancelOrder",
    "Command",
    "ModifyOrder",
    "SendSignal",
    "SubmitOrder",
]


# gc=False: values only, never part of a cycle (see `tradewright.model.events.Event`).
class Command(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """Base of all commands. `actor` says who asked (a strategy id, 'cli', 'api:<key id>', 'risk')."""

    ts_init: int
    actor: str = ""


class SubmitOrder(Command, frozen=True, kw_only=True):
    """Place a new order. The client order id is the idempotency key: a venue sees it at most once.

    Contingent orders (brackets): an order with a `parent_order_id` works only once its parent has
    filled, and for the quantity the parent has filled so far (a bracket's stop and target grow with a
    partly filled entry). Orders sharing a non-empty `oca_group` are one-cancels-all: a fill of one
    reduces the others by the same quantity, and when one is done the others are cancelled.
    `tradewright.model.bracket` builds the three linked commands of a bracket.
    """

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_ns: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    parent_order_id: ClientOrderId | None = None
    oca_group: str = ""

    def __post_init__(self) -> None:
        if self.parent_order_id is not None and self.parent_order_id == self.client_order_id:
            raise InvalidOrderError(f"order {self.client_order_id}: an order cannot be its own parent")
        if self.quantity <= 0:
            raise InvalidOrderError(
                f"order {self.client_order_id}: quantity must be > 0, got {self.quantity}"
            )
        needs_price = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if needs_price and self.price is None:
            raise InvalidOrderError(f"order {self.client_order_id}: a {self.order_type} order needs a price")
        if self.order_type is OrderType.MARKET and self.price is not None:
            raise InvalidOrderError(f"order {self.client_order_id}: a MARKET order takes no price")
        if self.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and self.trigger_price is None:
            raise InvalidOrderError(
                f"order {self.client_order_id}: a {self.order_type} order needs a trigger_price"
            )
        if self.post_only and self.order_type is not OrderType.LIMIT:
            raise InvalidOrderError(f"order {self.client_order_id}: post-only applies to LIMIT orders only")
        if self.post_only and self.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            raise InvalidOrderError(f"order {self.client_order_id}: post-only cannot be {self.time_in_force}")
        if (self.time_in_force is TimeInForce.GTD) != (self.expire_ns is not None):
            raise InvalidOrderError(
                f"order {self.client_order_id}: expire_ns is required for GTD and only for GTD"
            )


class CancelOrder(Command, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    instrument_id: InstrumentId


class ModifyOrder(Command, frozen=True, kw_only=True):
    """Change price and/or total size of a working order (cancel/replace where the venue lacks amend)."""

    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    quantity: Decimal | None = None
    price: Decimal | None = None

    def __post_init__(self) -> None:
        if self.quantity is None and self.price is None:
            raise InvalidOrderError(f"modify {self.client_order_id}: give a new quantity or price")
        if self.quantity is not None and self.quantity <= 0:
            raise InvalidOrderError(
                f"modify {self.client_order_id}: quantity must be > 0, got {self.quantity}"
            )


class CancelAllOrders(Command, frozen=True, kw_only=True):
    """Cancel every open order, on one instrument or (instrument_id None) everywhere."""

    instrument_id: InstrumentId | None = None
    side: OrderSide | None = None


class SendSignal(Command, frozen=True, kw_only=True):
    """A manual signal for one strategy (an operator's view, an external model's output).

    Delivered to the strategy's `on_signal` hook; whatever the strategy does with it (orders) passes the
    risk engine like any other order. `value` is exact; `text` is free-form (at most 1000 characters).
    """

    strategy_id: StrategyId
    name: str
    value: Decimal | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 64:
            raise InvalidOrderError(f"signal name must be 1-64 characters, got {self.name!r}")
        if self.value is not None and not self.value.is_finite():
            raise InvalidOrderError(f"signal {self.name}: value must be a finite number, got {self.value}")
        if len(self.text) > 1000:
            raise InvalidOrderError(f"signal {self.name}: text longer than 1000 characters")


COMMAND_TYPES: tuple[type[Command], ...] = (SubmitOrder, CancelOrder, ModifyOrder, CancelAllOrders, SendSignal)
