"""Two harnesses for risk tests.

`Bench`: a kernel with the risk engine and hand-driven fake venues (ack, fill, reject by hand), several
instruments and venues, books set level by level — for checks that look across instruments.

`sim_run`: the whole engine (replay loop, queue-aware simulated venue, latency) with a scripted strategy
and a spy on what reaches the venue — for behaviour through the real execution path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewright.backtest.engine import BacktestEngine, BacktestResult
from tradewright.config.run import RiskConfig
from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, StrategyId, TradeId, Venue, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.engine.ports import ExecutionClient
from tradewright.model.columnar import MarketStream
from tradewright.model.commands import CancelOrder, Command, ModifyOrder, SubmitOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from tradewright.model.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderRejected,
    RiskEvent,
)
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.sim.latency import ConstantLatency
from tradewright.testkit.scripted import Action, ScriptedStrategy

D = Decimal
MS = 1_000_000
BALANCE = D(10_000)
S1 = StrategyId("S1")


class Log:
    """An event sink that keeps everything."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.commands: list[Command] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_command(self, command: Command) -> None:
        self.commands.append(command)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def risk(self) -> list[RiskEvent]:
        return [e for e in self.events if isinstance(e, RiskEvent)]


class FakeVenue:
    """An execution client that only records requests; the test answers for the venue."""

    def __init__(self, venue: str) -> None:
        self._venue = Venue(venue)
        self.submitted: list[ClientOrderId] = []
        self.canceled: list[ClientOrderId] = []
        self.modified: list[ClientOrderId] = []

    @property
    def venue(self) -> Venue:
        return self._venue

    def submit(self, order: Order) -> None:
        self.submitted.append(order.client_order_id)

    def cancel(self, order: Order) -> None:
        self.canceled.append(order.client_order_id)

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self.modified.append(order.client_order_id)


class Bench:
    """A kernel guarded by a `RiskEngine(RiskConfig(**risk))`, with one fake venue per venue."""

    def __init__(
        self,
        *instruments: Instrument,
        balance: Decimal = BALANCE,
        mark_price: MarkPrice = MarkPrice.MID,
        **risk: Any,
    ) -> None:
        self.clock = SimClock(0)
        self.log = Log()
        self.risk = RiskEngine(RiskConfig(**risk))
        quotes = {i.settle for i in instruments}
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio(dict.fromkeys(quotes, balance), mark_price=mark_price),
            risk=self.risk,
            sinks=[self.log],
        )
        self.venues: dict[str, FakeVenue] = {}
        for inst in instruments:
            self.kernel.add_instrument(inst)
            if inst.id.venue not in self.venues:
                fake = self.venues[inst.id.venue] = FakeVenue(inst.id.venue)
                self.kernel.add_execution_client(fake)
        self._trade = 0

    # --- market -----------------------------------------------------------------------------
    def book(
        self, inst: Instrument, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]
    ) -> None:
        """Replace the book: (tick, lots) levels."""
        book = self.kernel.books[inst.id]
        book.clear()
        for tick, lots in bids:
            book.set_level(1, tick, lots)
        for tick, lots in asks:
            book.set_level(-1, tick, lots)

    def at(self, ms: float) -> None:
        """Move time to `ms` and run whatever was scheduled until then (monitors, cool-downs)."""
        ns = int(ms * MS)
        self.kernel.run_due(ns)
        self.clock.advance_to(ns)

    # --- commands ---------------------------------------------------------------------------
    def submit(
        self,
        inst: Instrument,
        side: OrderSide,
        qty: str | Decimal,
        price: str | Decimal | None = None,
        *,
        reduce_only: bool = False,
        post_only: bool = False,
    ) -> Order:
        cmd = SubmitOrder(
            client_order_id=self.kernel.orders.next_id(S1),
            strategy_id=S1,
            instrument_id=inst.id,
            side=side,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            quantity=D(qty),
            price=None if price is None else D(price),
            time_in_force=TimeInForce.GTC,
            reduce_only=reduce_only,
            post_only=post_only,
            ts_init=self.clock.now_ns(),
            actor=str(S1),
        )
        return self.kernel.submit(cmd, None)

    def cancel(self, order: Order, actor: str = str(S1)) -> bool:
        return self.kernel.cancel(
            CancelOrder(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_init=self.clock.now_ns(),
                actor=actor,
            )
        )

    def modify(self, order: Order, *, qty: str | None = None, price: str | None = None) -> bool:
        return self.kernel.modify(
            ModifyOrder(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                quantity=None if qty is None else D(qty),
                price=None if price is None else D(price),
                ts_init=self.clock.now_ns(),
                actor=str(S1),
            )
        )

    # --- venue answers ----------------------------------------------------------------------
    def ack(self, order: Order) -> None:
        now = self.clock.now_ns()
        self.kernel.on_venue_event(
            OrderAccepted(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                venue_order_id=VenueOrderId(order.client_order_id),
                ts_event=now,
                ts_init=now,
            )
        )

    def fill(
        self, order: Order, price: str | Decimal, qty: str | Decimal | None = None, fee: str = "0"
    ) -> None:
        now = self.clock.now_ns()
        self._trade += 1
        inst = self.kernel.instruments[order.instrument_id]
        self.kernel.on_venue_event(
            OrderFilled(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                venue_order_id=VenueOrderId(order.client_order_id),
                trade_id=TradeId(f"T{self._trade}"),
                side=order.side,
                last_px=D(price),
                last_qty=order.leaves_qty if qty is None else D(qty),
                liquidity=LiquiditySide.TAKER,
                fee=D(fee),
                fee_currency=inst.settle,
                ts_event=now,
                ts_init=now,
            )
        )

    def reject(self, order: Order, reason: str = "venue_error") -> None:
        now = self.clock.now_ns()
        self.kernel.on_venue_event(
            OrderRejected(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        )

    def canceled(self, order: Order) -> None:
        now = self.clock.now_ns()
        self.kernel.on_venue_event(
            OrderCanceled(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_event=now,
                ts_init=now,
            )
        )

    def position(self, inst: Instrument, side: OrderSide, qty: str, price: str) -> None:
        """Open a position through a filled order (the shortest way to have one)."""
        order = self.submit(inst, side, qty, price)
        assert order.status is OrderStatus.SUBMITTED, denial(order)
        self.ack(order)
        self.fill(order, price)


def denial(order: Order) -> str:
    """The reason an order was denied ("" if it was not)."""
    last = order.events[-1] if order.events else None
    return last.reason if isinstance(last, OrderDenied) else ""


# --- the whole engine -------------------------------------------------------------------------
class Spy:
    """Wraps the simulated venue and records what reached it."""

    def __init__(self, inner: ExecutionClient) -> None:
        self.inner = inner
        self.submitted: list[ClientOrderId] = []
        self.canceled: list[ClientOrderId] = []

    @property
    def venue(self) -> Venue:
        return self.inner.venue

    def submit(self, order: Order) -> None:
        self.submitted.append(order.client_order_id)
        self.inner.submit(order)

    def cancel(self, order: Order) -> None:
        self.canceled.append(order.client_order_id)
        self.inner.cancel(order)

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self.inner.modify(order, price, quantity)


@dataclass
class SimRun:
    strategy: ScriptedStrategy
    result: BacktestResult
    spy: Spy
    log: Log
    risk: RiskEngine = field(init=False)

    def __post_init__(self) -> None:
        assert isinstance(self.result.kernel.risk, RiskEngine)
        self.risk = self.result.kernel.risk

    def order(self, i: int) -> Order:
        """The i-th order the strategy submitted (result of its i-th action)."""
        cid = self.strategy.results[i]
        order = self.result.kernel.orders.get(cid)
        assert order is not None
        return order


def sim_run(
    stream: MarketStream,
    actions: list[tuple[float, Action]],
    *,
    latency_ms: float = 1.0,
    balance: Decimal = BALANCE,
    flatten_at_ms: float | None = None,
    **risk: Any,
) -> SimRun:
    lat = int(latency_ms * MS)
    engine = BacktestEngine(
        stream,
        starting_balance=balance,
        latency=ConstantLatency(lat, lat),
        risk=RiskEngine(RiskConfig(**risk)),
    )
    spy = Spy(engine.venue)
    engine.kernel.add_execution_client(spy)
    log = Log()
    engine.kernel.sinks.append(log)
    strategy = ScriptedStrategy(stream.instrument.id, actions)
    engine.add_strategy(strategy)
    if flatten_at_ms is not None:
        engine.flatten_at(int(flatten_at_ms * MS), "test: flatten")
    return SimRun(strategy, engine.run(), spy, log)
