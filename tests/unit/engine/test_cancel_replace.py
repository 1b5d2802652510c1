"""A modify at a venue without native amend is carried out by the engine as cancel-then-replace: the
strategy never sees it refused, the replacement goes out only after the venue confirmed the cancel and
carries only what has not filled, and nothing is replaced when the order filled first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradewright.core.clock import SimClock
from tradewright.engine.kernel import Kernel
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import CommandDenied, Event, OrderModifyRejected
from tradewright.model.orders import Order
from tradewright.strategy.base import Strategy
from tradewright.testkit import btc_perp
from tradewright.testkit.venue import REST, FakeVenue, Fate
from tradewright.venues._common.capabilities import VenueCapabilities

INST = btc_perp()
D = Decimal


class NoAmendVenue(FakeVenue):
    """The in-memory venue, declaring (as Bitget spot, Polymarket or Turbine do) that it cannot amend."""

    capabilities = VenueCapabilities(
        modify=False,
        post_only=True,
        query_by_client_order_id=True,
        user_stream=True,
        max_client_order_id_len=36,
    )


class Quoter(Strategy):
    def __init__(self) -> None:
        super().__init__("Q", [INST.id])
        self.heard: list[Event] = []

    def on_order(self, event: Any, **kw: Any) -> None:
        self.heard.append(event)


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_command(self, command: Any) -> None:
        return None


def _node(fate: Fate) -> tuple[Kernel, SimClock, NoAmendVenue, Quoter, Sink]:
    clock = SimClock(0)
    sink = Sink()
    kernel = Kernel(clock, sinks=[sink])
    kernel.add_instrument(INST)
    venue = NoAmendVenue(INST.id.venue, clock, [INST], script=lambda order: fate, latency_ns=1_000)
    venue.connect(kernel.schedule, kernel.on_venue_event)
    kernel.add_execution_client(venue)
    strategy = Quoter()
    kernel.add_strategy(strategy)
    kernel.start()
    return kernel, clock, venue, strategy, sink


def _run(kernel: Kernel, until_ns: int) -> None:
    kernel.run_due(until_ns)


def _current(kernel: Kernel, order: Order) -> Order:
    found = kernel.orders.get(kernel.replacements.current_order_id(order.client_order_id))
    assert found is not None
    return found


def test_modify_without_native_amend_cancels_then_places_the_replacement_the_strategy_follows() -> None:
    kernel, _, venue, strategy, sink = _node(REST)
    cid = strategy.ctx.submit(INST.id, OrderSide.BUY, D("0.004"), D("60000.0"), post_only=True)
    _run(kernel, 10_000)
    order = kernel.orders.get(cid)
    assert order is not None and order.status is OrderStatus.ACCEPTED

    strategy.ctx.modify(cid, price=D("59990.0"), quantity=D("0.006"))
    assert order.status is OrderStatus.PENDING_CANCEL and venue.seen == [cid]  # nothing new before the cancel
    _run(kernel, 20_000)

    new = _current(kernel, order)
    assert strategy.ctx.current_order_id(cid) == new.client_order_id != cid
    assert order.status is OrderStatus.CANCELED
    assert (new.status, new.price, new.quantity, new.side, new.post_only) == (
        OrderStatus.ACCEPTED, D("59990.0"), D("0.006"), OrderSide.BUY, True,
    )  # fmt: skip
    assert venue.seen == [cid, new.client_order_id]
    assert [o.client_order_id for o in kernel.orders.open_orders()] == [new.client_order_id]
    assert not [e for e in sink.events if isinstance(e, OrderModifyRejected | CommandDenied)]
    assert kernel.replacements.replaced == 1


def test_replacement_carries_only_what_has_not_filled() -> None:
    kernel, _, venue, strategy, _ = _node(D("0.001"))  # the venue fills 0.001 of it at once, the rest rests
    cid = strategy.ctx.submit(INST.id, OrderSide.SELL, D("0.004"), D("60010.0"))
    _run(kernel, 10_000)
    order = kernel.orders.get(cid)
    assert order is not None and order.status is OrderStatus.PARTIALLY_FILLED

    strategy.ctx.modify(cid, price=D("60020.0"))  # same total size: 0.003 left to work
    venue.script = lambda o: REST
    _run(kernel, 20_000)
    new = _current(kernel, order)
    assert (new.price, new.quantity, new.status) == (D("60020.0"), D("0.003"), OrderStatus.ACCEPTED)
    assert kernel.portfolio.position(INST).quantity == D("-0.001")

    # a new total at or below what the order filled: the cancel alone carries it out (as Binance does)
    venue.script = lambda o: D("0.002")
    other = strategy.ctx.submit(INST.id, OrderSide.SELL, D("0.004"), D("60030.0"))
    _run(kernel, 30_000)
    strategy.ctx.modify(other, quantity=D("0.002"))
    _run(kernel, 40_000)
    done = kernel.orders.get(other)
    assert done is not None and done.status is OrderStatus.CANCELED and done.filled_qty == D("0.002")
    assert kernel.replacements.current_order_id(other) == other  # nothing replaced it
    assert [o.client_order_id for o in kernel.orders.open_orders()] == [new.client_order_id]
    assert len(venue.seen) == 3


def test_an_order_that_fills_before_its_cancel_arrives_is_not_replaced() -> None:
    kernel, _, venue, strategy, _ = _node(D("0.004"))  # it fills completely on arrival
    cid = strategy.ctx.submit(INST.id, OrderSide.BUY, D("0.004"), D("60000.0"))
    strategy.ctx.modify(cid, price=D("59990.0"))  # sent while the order is on its way
    _run(kernel, 50_000)
    order = kernel.orders.get(cid)
    assert order is not None and order.status is OrderStatus.FILLED
    assert kernel.replacements.current_order_id(cid) == cid
    assert venue.seen == [cid] and kernel.orders.open_orders() == []
    assert kernel.portfolio.position(INST).quantity == D("0.004")
    assert kernel.replacements.dropped == 1


def test_a_strategy_that_stops_mid_replace_leaves_no_replacement_behind() -> None:
    kernel, _, venue, strategy, _ = _node(REST)
    cid = strategy.ctx.submit(INST.id, OrderSide.BUY, D("0.004"), D("60000.0"))
    _run(kernel, 10_000)
    strategy.ctx.modify(cid, price=D("59990.0"))
    kernel.stop()  # shutdown: the node then cancels what is open; a replacement sent now would outlive it
    _run(kernel, 20_000)
    assert venue.seen == [cid] and kernel.orders.open_orders() == []
    assert kernel.replacements.current_order_id(cid) == cid
