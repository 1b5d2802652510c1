"""What the venue end-to-end tests share: an event log that applies a venue's events the way the kernel
does (the real order manager and portfolio), order commands, and waiting on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine.order_manager import OrderManager
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderType
from tradewright.model.events import Event, OrderEvent, OrderFilled, OrderSubmitted
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import Portfolio
from tradewright.venues._common.ports import VenueStatus

D = Decimal


@dataclass
class Book:
    """What the kernel would do with venue events: orders through the real order manager, fills into
    the real portfolio; everything kept in arrival order."""

    orders: OrderManager = field(default_factory=lambda: OrderManager("T"))
    portfolio: Portfolio = field(default_factory=lambda: Portfolio({"USD": D(100_000)}))
    events: list[Event] = field(default_factory=list)
    statuses: list[VenueStatus] = field(default_factory=list)
    instruments: Mapping[InstrumentId, Instrument] = field(default_factory=dict)

    def emit(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, OrderEvent):
            order = self.orders.apply(event)
            if order is not None and isinstance(event, OrderFilled):
                inst = self.instruments[event.instrument_id]
                self.portfolio.apply_fill(inst, event.side, event.last_px, event.last_qty, event.fee, event.fee_currency)

    def of(self, kind: type[Any], cid: str | None = None) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind) and (cid is None or e.client_order_id == cid)]

    def new_order(self, cmd: SubmitOrder) -> Order:
        """Add an order and mark it submitted, as the kernel does before it hands it to the venue."""
        order = Order(cmd)
        self.orders.add(order)
        self.orders.apply(
            OrderSubmitted(
                client_order_id=cmd.client_order_id, instrument_id=cmd.instrument_id, strategy_id=cmd.strategy_id,
                side=cmd.side, order_type=cmd.order_type, quantity=cmd.quantity, price=cmd.price,
                trigger_price=cmd.trigger_price, ts_event=0, ts_init=0,
            )
        )
        return order


def command(cid: str, iid: InstrumentId, side: OrderSide, qty: str, price: str | None = None, **kw: Any) -> SubmitOrder:
    order_type = kw.pop("order_type", OrderType.LIMIT if price is not None else OrderType.MARKET)
    return SubmitOrder(
        client_order_id=ClientOrderId(cid), strategy_id=StrategyId("S"), instrument_id=iid, side=side,
        order_type=order_type, quantity=D(qty), price=None if price is None else D(price), ts_init=0, **kw,
    )


async def until(condition: Any, timeout_s: float = 5.0, what: str = "condition") -> None:
    """Wait (polling the event loop) until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
