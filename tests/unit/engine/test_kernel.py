"""The kernel on its own: timers, ordering, strategy error fencing, idempotent venue updates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tradewright.core.clock import SimClock
from tradewright.core.errors import GridError, InvalidOrderError, StrategyError
from tradewright.core.ids import TradeId, Venue, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.model import LiquiditySide, OrderAccepted, OrderFilled, OrderSide, TimerFired
from tradewright.model.orders import Order
from tradewright.strategy.base import Strategy
from tradewright.testkit import btc_perp

INST = btc_perp()


class RecordingClient:
    """An execution client that only records what the kernel sends (the venue side is not under test)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Order]] = []

    @property
    def venue(self) -> Venue:
        return INST.id.venue

    def submit(self, order: Order) -> None:
        self.sent.append(("submit", order))

    def cancel(self, order: Order) -> None:
        self.sent.append(("cancel", order))

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self.sent.append(("modify", order))


class Timers(Strategy):
    def __init__(self) -> None:
        super().__init__("T", [INST.id])
        self.fired: list[tuple[str, int]] = []

    def on_start(self, **kw: Any) -> None:
        self.ctx.set_timer("tick", 10, stop_ns=45)
        self.ctx.set_alarm("once", 25)
        self.ctx.set_alarm("never", 30)
        self.ctx.cancel_timer("never")

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        self.fired.append((event.name, event.ts_event))


def kernel_with(strategy: Strategy, **kw: Any) -> tuple[Kernel, SimClock, RecordingClient]:
    clock = SimClock(0)
    kernel = Kernel(clock, **kw)
    kernel.add_instrument(INST)
    client = RecordingClient()
    kernel.add_execution_client(client)
    kernel.add_strategy(strategy)
    return kernel, clock, client


def test_timers_fire_in_time_order_until_their_stop_and_cancelled_alarms_do_not_fire() -> None:
    strategy = Timers()
    kernel, _, _ = kernel_with(strategy)
    kernel.start()
    kernel.run_due(1_000)
    assert strategy.fired == [("tick", 10), ("tick", 20), ("once", 25), ("tick", 30), ("tick", 40)]


class Boom(Strategy):
    def on_book(self, book: Any, **kw: Any) -> None:
        raise ZeroDivisionError("bad maths")


def test_a_strategy_error_stops_a_backtest_with_the_strategy_and_hook_named() -> None:
    kernel, _, _ = kernel_with(Boom("B", [INST.id]))
    with pytest.raises(StrategyError, match=r"strategy B raised in on_book: ZeroDivisionError"):
        kernel.on_book(INST.id)


def test_a_fenced_strategy_error_is_logged_and_stops_only_that_strategy() -> None:
    kernel, _, _ = kernel_with(Boom("B", [INST.id]), fence_strategy_errors=True)
    kernel.on_book(INST.id)
    kernel.on_book(INST.id)
    assert kernel.strategy_errors == 1  # stopped after the first error: the second call is not delivered


class Submitter(Strategy):
    def __init__(self) -> None:
        super().__init__("S", [INST.id])
        self.fills: list[OrderFilled] = []

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        self.fills.append(fill)


def _fill(cid: str, trade: str, qty: str) -> OrderFilled:
    return OrderFilled(
        client_order_id=cid,
        instrument_id=INST.id,
        venue_order_id=VenueOrderId("1"),
        trade_id=TradeId(trade),  # type: ignore[arg-type]
        side=OrderSide.BUY,
        last_px=Decimal("100.0"),
        last_qty=Decimal(qty),
        liquidity=LiquiditySide.MAKER,
        fee=Decimal("0.01"),
        fee_currency="USDT",
        ts_event=5,
        ts_init=5,
    )


def test_duplicate_and_out_of_order_venue_updates_are_applied_once() -> None:
    strategy = Submitter()
    kernel, _, client = kernel_with(strategy)
    cid = strategy.ctx.submit(INST.id, OrderSide.BUY, Decimal("0.002"), Decimal("100.0"))
    assert [kind for kind, _ in client.sent] == ["submit"]
    kernel.on_venue_event(_fill(cid, "T1", "0.001"))  # a fill before its ack
    kernel.on_venue_event(_fill(cid, "T1", "0.001"))  # the same fill again
    kernel.on_venue_event(
        OrderAccepted(
            client_order_id=cid,
            instrument_id=INST.id,
            venue_order_id=VenueOrderId("1"),
            ts_event=6,
            ts_init=6,
        )
    )
    kernel.on_venue_event(_fill(cid, "T2", "0.001"))
    kernel.on_venue_event(
        OrderAccepted(
            client_order_id=cid,
            instrument_id=INST.id,
            venue_order_id=VenueOrderId("1"),
            ts_event=7,
            ts_init=7,
        )
    )  # a late ack after the order completed
    order = strategy.ctx.order(cid)
    assert order is not None and order.status.value == "FILLED"
    assert [f.trade_id for f in strategy.fills] == ["T1", "T2"]
    assert kernel.portfolio.position(INST).quantity == Decimal("0.002")
    assert kernel.portfolio.balance("USDT") == Decimal("-0.2") - Decimal("0.02")
    assert kernel.orders.ignored_events == 2


def test_malformed_orders_raise_at_once_naming_the_problem() -> None:
    strategy = Submitter()
    kernel_with(strategy)
    with pytest.raises(GridError, match="size must not be negative"):
        strategy.ctx.submit(INST.id, OrderSide.BUY, Decimal("-0.001"), Decimal("100.0"))
    with pytest.raises(GridError, match=r"price 100.05 is not on the tick grid of 0.1"):
        strategy.ctx.submit(INST.id, OrderSide.BUY, Decimal("0.001"), Decimal("100.05"))
    with pytest.raises(GridError, match="order size must be > 0"):
        strategy.ctx.submit(INST.id, OrderSide.BUY, Decimal("0"), Decimal("100.0"))
    with pytest.raises(InvalidOrderError, match="post-only applies to LIMIT orders only"):
        strategy.ctx.submit(INST.id, OrderSide.BUY, Decimal("0.001"), post_only=True)


def test_cancel_all_sends_one_cancel_per_open_order_and_none_twice() -> None:
    strategy = Submitter()
    kernel, _, client = kernel_with(strategy)
    for px in ("99.0", "99.1", "99.2"):
        strategy.ctx.submit(INST.id, OrderSide.BUY, Decimal("0.001"), Decimal(px))
    assert kernel.cancel_all_orders(actor="test") == 3
    assert kernel.cancel_all_orders(actor="test") == 0  # already pending cancel
    assert [kind for kind, _ in client.sent].count("cancel") == 3


class OffGrid(Strategy):
    def on_book(self, book: Any, **kw: Any) -> None:
        self.ctx.submit(INST.id, OrderSide.BUY, Decimal("0.001"), Decimal("100.05"))


def test_an_off_grid_order_stops_a_backtest_but_only_its_strategy_in_a_fenced_node() -> None:
    kernel, _, _ = kernel_with(OffGrid("G", [INST.id]))
    with pytest.raises(GridError, match="not on the tick grid"):
        kernel.on_book(INST.id)
    fenced, _, client = kernel_with(OffGrid("G", [INST.id]), fence_strategy_errors=True)
    fenced.on_book(INST.id)
    fenced.on_book(INST.id)
    assert fenced.strategy_errors == 1 and client.sent == []
