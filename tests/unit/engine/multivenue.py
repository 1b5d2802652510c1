"""A kernel with several simulated venues (one `SimVenue` each, books set by hand): the multi-leg
executor and the arbitrage strategy are tested through it."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tradewright.config.run import RiskConfig
from tradewright.core.clock import SimClock
from tradewright.engine.kernel import Kernel
from tradewright.model.book import OrderBook
from tradewright.model.events import Event, WorkflowEvent
from tradewright.model.instrument import Instrument
from tradewright.portfolio.portfolio import Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency
from tradewright.sim.venue import SimVenue
from tradewright.strategy.base import Strategy
from tradewright.testkit import make_instrument

MS = 1_000_000
D = Decimal

# The same asset on three venues; tick 0.1, lot 0.1 (so sizes read as plain numbers).
A = make_instrument("BTCUSDT", "VENUEA", tick="0.1", lot="0.1", taker_fee="0.001")
B = make_instrument("BTCUSDT", "VENUEB", tick="0.1", lot="0.1", taker_fee="0.001")
C = make_instrument("BTCUSDT", "VENUEC", tick="0.1", lot="0.1", taker_fee="0.001")


class Recorder:
    """An event sink that keeps every event (what a backtest writes to events.jsonl)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_command(self, command: Any) -> None:
        pass

    def kinds(self, base: type[Event] = WorkflowEvent) -> list[str]:
        return [type(e).__name__ for e in self.events if isinstance(e, base)]

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class MultiVenue:
    """A kernel wired to one `SimVenue` per instrument (each instrument on its own venue)."""

    def __init__(
        self,
        instruments: Iterable[Instrument] = (A, B, C),
        *,
        risk: RiskConfig | None = None,
        latency_ms: float = 1.0,
        balance: str = "1000000",
    ) -> None:
        self.clock = SimClock(1_000 * MS)
        self.recorder = Recorder()
        self.risk = RiskEngine(risk) if risk is not None else None
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio({"USDT": D(balance)}),
            risk=self.risk,
            sinks=[self.recorder],
            id_prefix="T",
        )
        lat = int(latency_ms * MS)
        self.venues: dict[str, SimVenue] = {}
        self.books: dict[str, OrderBook] = {}
        for inst in instruments:
            book = OrderBook(inst)
            venue = SimVenue(
                inst.id.venue,
                self.clock,
                self.kernel.schedule,
                self.kernel.on_venue_event,
                latency=ConstantLatency(lat, lat),
                fees=FeeModel(D(0), inst.taker_fee),
            )
            venue.add_instrument(inst, book)
            self.kernel.add_instrument(inst, book)
            self.kernel.add_execution_client(venue)
            self.venues[inst.id.venue] = venue
            self.books[inst.id.venue] = book

    def quote(self, inst: Instrument, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        """Set a venue's book: (price, size) levels, best first."""
        book = self.books[inst.id.venue]
        book.clear()
        for side, levels in ((1, bids), (-1, asks)):
            for price, size in levels:
                book.set_level(side, inst.price_to_ticks(D(price)), inst.size_to_lots(D(size)))

    def add(self, strategy: Strategy) -> Strategy:
        self.kernel.add_strategy(strategy)
        return strategy

    def run_for(self, ms: float) -> None:
        """Run every scheduled callback due within the next `ms` milliseconds."""
        until = self.clock.now_ns() + int(ms * MS)
        self.kernel.run_due(until)
        self.clock.advance_to(until)

    def settle(self) -> None:
        """Run until nothing is scheduled any more (every answer delivered, every retry done)."""
        kernel = self.kernel
        while kernel.next_due_ns() < (1 << 62):
            kernel.run_due(kernel.next_due_ns())

    def position(self, inst: Instrument) -> Decimal:
        pos = self.kernel.portfolio.find_position(inst.id)
        return D(0) if pos is None else pos.quantity


class Planner(Strategy):
    """A strategy that only starts plans when told, and keeps the workflow events it hears."""

    def __init__(self, instruments: Iterable[Instrument] = (A, B, C)) -> None:
        super().__init__("ARB", [i.id for i in instruments])
        self.heard: list[WorkflowEvent] = []

    def on_workflow(self, event: WorkflowEvent, **kw: Any) -> None:
        self.heard.append(event)
