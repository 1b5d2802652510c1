"""Operator control of one strategy: pause stops it reacting and adding (reducing still passes), stop ends
it alone, signals reach only strategies that take them, parameter changes go through the strategy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from tests.unit.engine.test_kernel import INST, kernel_with
from tradewright.core.errors import TradewrightError
from tradewright.core.ids import StrategyId
from tradewright.engine.control import StrategyControl
from tradewright.model import OrderSide, SendSignal
from tradewright.model.book import OrderBook
from tradewright.strategy.base import Strategy


class Cfg(msgspec.Struct, frozen=True):
    size: Decimal


class Quoter(Strategy):
    Config = Cfg

    def __init__(self, sid: str = "Q") -> None:
        super().__init__(sid, [INST.id], Cfg(Decimal("0.001")))
        self.books = 0
        self.signals: list[SendSignal] = []

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        self.books += 1
        self.ctx.submit(INST.id, OrderSide.BUY, self.config.size, Decimal("100.0"))

    def on_signal(self, signal: SendSignal, **kw: Any) -> None:
        self.signals.append(signal)

    def on_config(self, config: Cfg, **kw: Any) -> None:
        if config.size > Decimal("1"):
            raise ValueError("too big for this strategy")


class Plain(Strategy):
    def __init__(self) -> None:
        super().__init__("P", [INST.id])


def test_a_paused_strategy_hears_no_market_data_its_orders_are_cancelled_and_only_reducing_orders_pass() -> None:
    strategy = Quoter()
    kernel, _, client = kernel_with(strategy)
    kernel.start()
    kernel.on_book(INST.id)
    assert [k for k, _ in client.sent] == ["submit"]
    control = StrategyControl(kernel)

    assert control.pause("Q", actor="api:key:test") == 1
    assert [k for k, _ in client.sent] == ["submit", "cancel"]
    kernel.on_book(INST.id)
    assert strategy.books == 1  # it did not hear the book
    adding = kernel.submit(_cmd(kernel, strategy, reduce_only=False), strategy)
    assert adding.status.value == "DENIED" and adding.events[-1].reason == "strategy_paused"  # type: ignore[attr-defined]
    reducing = kernel.submit(_cmd(kernel, strategy, reduce_only=True), strategy)
    assert reducing.status.value == "SUBMITTED"

    control.resume("Q")
    kernel.on_book(INST.id)
    assert strategy.books == 2


def _cmd(kernel: Any, strategy: Strategy, *, reduce_only: bool) -> Any:
    from tradewright.model import OrderType, SubmitOrder

    return SubmitOrder(
        client_order_id=kernel.orders.next_id(strategy.id), strategy_id=StrategyId(strategy.id),
        instrument_id=INST.id, side=OrderSide.SELL, order_type=OrderType.LIMIT, quantity=Decimal("0.001"),
        price=Decimal("101.0"), reduce_only=reduce_only, ts_init=0,
    )


def test_stopping_one_strategy_leaves_the_others_running() -> None:
    first, second = Quoter("A"), Quoter("B")
    kernel, _, _ = kernel_with(first)
    kernel.add_strategy(second)
    kernel.start()
    StrategyControl(kernel).stop("A", actor="ops")
    kernel.on_book(INST.id)
    assert (first.books, second.books) == (0, 1)
    assert kernel.is_stopped(first) and not kernel.is_stopped(second)
    StrategyControl(kernel).start("A")
    kernel.on_book(INST.id)
    assert first.books == 1


def test_signals_reach_only_strategies_with_an_on_signal_hook_and_are_recorded_as_commands() -> None:
    strategy = Quoter()
    kernel, _, _ = kernel_with(strategy)
    plain = Plain()
    kernel.add_strategy(plain)
    seen: list[object] = []

    class Sink:
        def on_event(self, event: object) -> None: ...

        def on_command(self, command: object) -> None:
            seen.append(command)

    kernel.sinks.append(Sink())
    control = StrategyControl(kernel)
    signal = SendSignal(ts_init=0, actor="api:user:alice", strategy_id=StrategyId("Q"), name="bias", value=Decimal("0.5"))
    control.signal(signal)
    assert strategy.signals == [signal] and seen == [signal]
    with pytest.raises(TradewrightError, match="does not accept signals"):
        control.signal(SendSignal(ts_init=0, strategy_id=StrategyId("P"), name="bias"))


def test_a_parameter_change_is_adopted_only_when_the_strategy_accepts_it() -> None:
    strategy = Quoter()
    kernel, _, _ = kernel_with(strategy)
    control = StrategyControl(kernel)
    control.reconfigure("Q", Cfg(Decimal("0.002")))
    assert strategy.config == Cfg(Decimal("0.002"))
    with pytest.raises(TradewrightError, match="refused the change: too big"):
        control.reconfigure("Q", Cfg(Decimal("5")))
    assert strategy.config == Cfg(Decimal("0.002"))
    kernel.add_strategy(Plain())
    with pytest.raises(TradewrightError, match="does not accept parameter changes"):
        control.reconfigure("P", None)
