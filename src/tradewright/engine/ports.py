"""Ports: what the kernel needs from the outside, as Protocols. Venues, the simulated venue, the
risk engine and the store implement them; testkit has in-memory fakes."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from tradewright.core.ids import Venue
from tradewright.model.commands import Command
from tradewright.model.events import Event, OrderEvent
from tradewright.model.orders import Order
from tradewright.risk.host import TradingHost

__all__ = ["Denial", "EventSink", "ExecutionClient", "OrderEventHook", "RiskGate"]


class ExecutionClient(Protocol):
    """Sends order commands to one venue. Answers come back as events through `Kernel.on_venue_event`."""

    @property
    def venue(self) -> Venue: ...

    def submit(self, order: Order) -> None: ...

    def cancel(self, order: Order) -> None: ...

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None: ...


class Denial(Protocol):
    @property
    def reason(self) -> str:
        """Machine-readable, e.g. "price_band"."""
        ...

    @property
    def message(self) -> str:
        """A sentence for people, naming the order, the figure and the limit."""
        ...


class RiskGate(Protocol):
    """Pre-trade checks, trading state and the kill switch (`tradewright.risk.RiskEngine`).

    `check` returns None to let a command through, or a denial (reason + message).
    """

    def bind(self, host: TradingHost) -> None:
        """Called once by the kernel that this gate guards."""
        ...

    def check(self, command: Command, order: Order | None) -> Denial | None: ...

    def on_event(self, event: Event) -> None:
        """See every event (fills, rejects, latencies) to keep limits and breakers current."""
        ...

    def flatten_all(self, reason: str, actor: str) -> None:
        """Cancel every open order, close every position, then halt trading."""
        ...

    def stop(self) -> None:
        """The node is stopping: end periodic work."""
        ...


class EventSink(Protocol):
    """Observes every event in order. A sink that persists must commit before returning (commit first)."""

    def on_event(self, event: Event) -> None: ...

    def on_command(self, command: Command) -> None: ...


class OrderEventHook(Protocol):
    """Hears every order event the kernel applied, after its owner strategy did (the multi-leg executor,
    `tradewright.engine.executor`, follows its legs this way)."""

    def on_order_event(self, event: OrderEvent) -> None: ...
