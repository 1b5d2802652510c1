"""What the risk engine needs from the node it guards, as Protocols (the kernel implements them).

The risk layer sits below the engine, so it names the kernel only through these views: clock, books,
marks, open orders, positions and balances to check against, and the few actions it takes itself
(emit an event, schedule a callback, cancel or submit an order for the kill switch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from tradewright.core.clock import Clock
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model.book import OrderBook
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.events import Event
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.model.position import Position

__all__ = ["OrdersView", "PortfolioView", "TradingHost"]


class OrdersView(Protocol):
    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]: ...

    def next_id(self, strategy_id: StrategyId) -> ClientOrderId: ...


class PortfolioView(Protocol):
    @property
    def positions(self) -> list[Position]: ...

    def find_position(self, instrument_id: InstrumentId) -> Position | None: ...

    def balance(self, currency: str) -> Decimal: ...

    def position_value(self, instrument: Instrument, mark: Decimal) -> Decimal: ...

    def exposure_value(self, instrument: Instrument, quantity: Decimal, price: Decimal) -> Decimal: ...


class TradingHost(Protocol):
    """The node as the risk engine sees it."""

    @property
    def clock(self) -> Clock: ...

    @property
    def instruments(self) -> Mapping[InstrumentId, Instrument]: ...

    @property
    def books(self) -> Mapping[InstrumentId, OrderBook]: ...

    @property
    def orders(self) -> OrdersView: ...

    @property
    def portfolio(self) -> PortfolioView: ...

    def mark(self, instrument_id: InstrumentId) -> Decimal | None: ...

    def schedule(self, ts_ns: int, callback: Callable[[Any], None], arg: Any = None) -> None: ...

    def emit(self, event: Event) -> None: ...

    def submit(self, command: SubmitOrder, strategy: None) -> Order: ...

    def cancel(self, command: CancelOrder) -> bool: ...
