"""The strategy's view of the world: the only thing a strategy talks to.

The kernel implements this Protocol the same way in backtest, paper and live, so a strategy cannot
tell (and must not care) which mode it runs in.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Protocol

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide, OrderType, TimeInForce
from tradewright.model.instrument import Instrument
from tradewright.model.multileg import Plan
from tradewright.model.orders import Order
from tradewright.model.position import Position
from tradewright.model.workflow import WorkflowState

__all__ = ["StrategyContext"]


class StrategyContext(Protocol):
    """Orders, positions, books, timers and logging for one strategy."""

    @property
    def log(self) -> logging.Logger: ...

    def now_ns(self) -> int:
        """Current time (simulated in backtests): never read the wall clock in a strategy."""
        ...

    def instrument(self, instrument_id: InstrumentId) -> Instrument: ...

    def book(self, instrument_id: InstrumentId) -> OrderBook: ...

    def submit(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        order_type: OrderType | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        expire_ns: int | None = None,
        trigger_price: Decimal | None = None,
        tag: str = "",
        oca_group: str = "",
    ) -> ClientOrderId:
        """Submit an order (LIMIT when a price is given, else MARKET); return its client order id.

        Malformed input (size <= 0, price off the tick grid) raises at once; a business refusal
        (risk limit, trading halted) arrives as an `OrderDenied` event in `on_order`. Orders given the
        same `oca_group` are one-cancels-all: a fill of one shrinks the others by as much, and once one
        is done the others are cancelled (by the venue where it can, else by the engine).
        """
        ...

    def submit_bracket(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        *,
        stop_price: Decimal,
        target_price: Decimal | None = None,
        price: Decimal | None = None,
        stop_limit_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
        stop_tag: str = "",
        target_tag: str = "",
    ) -> tuple[ClientOrderId, ClientOrderId, ClientOrderId | None]:
        """Submit an entry (LIMIT at `price`, else MARKET) with its protective stop and its target, as
        one bracket; return the ids (entry, stop, target).

        The stop and the target work for what the entry has filled so far and are one-cancels-all; the
        venue holds them where it can (IB, Alpaca), the engine everywhere else — the same in backtest,
        paper and live (`tradewright.engine.contingent`). Inconsistent prices raise `InvalidOrderError`.
        """
        ...

    def execute(self, plan: Plan) -> str:
        """Carry out a multi-leg plan as one durable workflow; return its id.

        Malformed input (an unknown instrument, a price or size off the grid) raises at once; a plan that
        may not trade now is refused whole (`WorkflowRefused` in `on_workflow`), nothing sent. See
        docs/arbitrage.md for the policies and what happens when a leg fails.
        """
        ...

    def workflow(self, workflow_id: str) -> WorkflowState | None:
        """A workflow started with `execute`: its legs, fills and compensations (None once forgotten)."""
        ...

    def cancel(self, client_order_id: ClientOrderId) -> None: ...

    def modify(
        self, client_order_id: ClientOrderId, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None: ...

    def cancel_all(
        self, instrument_id: InstrumentId | None = None, side: OrderSide | None = None
    ) -> None: ...

    def order(self, client_order_id: ClientOrderId) -> Order | None: ...

    def current_order_id(self, client_order_id: ClientOrderId) -> ClientOrderId:
        """The order that now carries this order's intent: itself, or — where the venue cannot amend and
        a `modify` was carried out as cancel-then-replace — its replacement (followed to the last one)."""
        ...

    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]: ...

    def position(self, instrument_id: InstrumentId) -> Position: ...

    def balance(self, currency: str) -> Decimal: ...

    def set_timer(
        self, name: str, interval_ns: int, *, start_ns: int | None = None, stop_ns: int | None = None
    ) -> None:
        """Fire `on_timer` every `interval_ns` from `start_ns` (default: now + interval)."""
        ...

    def set_alarm(self, name: str, at_ns: int) -> None:
        """Fire `on_timer` once at `at_ns`."""
        ...

    def cancel_timer(self, name: str) -> None: ...
