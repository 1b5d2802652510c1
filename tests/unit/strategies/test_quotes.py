"""The quote manager, driven through the kernel and the simulated L2 venue on hand-written books."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from tradewright.backtest.engine import BacktestEngine
from tradewright.model.enums import OrderSide
from tradewright.model.events import TimerFired
from tradewright.sim.latency import ConstantLatency
from tradewright.strategy.base import Strategy
from tradewright.strategy.quotes import Quote, QuoteManager, QuoteManagerConfig
from tradewright.testkit import StreamRows, btc_perp

INST = btc_perp()
MS = 1_000_000
D = Decimal
SIZE = D("0.002")


def bid(tick: int, size: Decimal = SIZE, level: int = 0) -> Quote:
    return Quote(side=OrderSide.BUY, price=INST.ticks_to_price(tick), size=size, level=level)


def ask(tick: int, size: Decimal = SIZE, level: int = 0) -> Quote:
    return Quote(side=OrderSide.SELL, price=INST.ticks_to_price(tick), size=size, level=level)


class Intents(Strategy):
    """Apply a list of intents at given times (ms) and keep the manager's view after each."""

    def __init__(self, plan: list[tuple[float, list[Quote]]], config: QuoteManagerConfig) -> None:
        super().__init__("Q", [INST.id])
        self.plan = plan
        self.qm_config = config
        self.manager: QuoteManager | None = None
        self.after: list[dict[tuple[OrderSide, int], tuple[Decimal, Decimal]]] = []
        self.touches: list[int] = []  # times at which the manager sent a cancel or a modify

    def on_start(self, **kw: Any) -> None:
        self.manager = QuoteManager(self.ctx, INST.id, self.qm_config)
        for i, (ms, _) in enumerate(self.plan):
            self.ctx.set_alarm(f"p{i}", int(ms * MS))

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        assert self.manager is not None
        stats = self.manager.stats
        before = stats.modified + stats.cancelled
        self.manager.apply(self.plan[int(event.name[1:])][1])
        self.touches += [self.ctx.now_ns()] * (stats.modified + stats.cancelled - before)
        self.after.append(self.manager.working())


def run(
    plan: list[tuple[float, list[Quote]]], config: QuoteManagerConfig, end_ms: float = 200_000
) -> Intents:
    rows = StreamRows(INST).snapshot(0, bids=[(1000, 50)], asks=[(1010, 50)])
    rows.level(end_ms, 1, 990, 1)  # keeps the replay (and the clock) going until end_ms
    engine = BacktestEngine(rows.build(), starting_balance=D(10_000), latency=ConstantLatency(MS, MS))
    strategy = Intents(plan, config)
    engine.add_strategy(strategy)
    engine.run()
    return strategy


def _all(strategy: Intents) -> list[Any]:
    kernel = strategy.ctx._kernel  # type: ignore[attr-defined]
    return list(kernel.orders.all_orders)


def test_new_quotes_go_out_post_only_and_the_same_intents_send_nothing_more() -> None:
    s = run([(1, [bid(1000), ask(1010)]), (10, [bid(1000), ask(1010)]), (20, [bid(1000), ask(1010)])],
            QuoteManagerConfig())  # fmt: skip
    orders = _all(s)
    assert len(orders) == 2 and all(o.post_only for o in orders)
    assert s.manager is not None and s.manager.stats.modified == 0 and s.manager.stats.cancelled == 0
    assert s.after[-1] == {(OrderSide.BUY, 0): (INST.ticks_to_price(1000), SIZE),
                           (OrderSide.SELL, 0): (INST.ticks_to_price(1010), SIZE)}  # fmt: skip


def test_a_move_smaller_than_min_change_ticks_is_ignored_and_a_larger_one_moves_the_quote() -> None:
    cfg = QuoteManagerConfig(min_change_ticks=3)
    s = run([(1, [bid(1000)]), (10, [bid(998)]), (20, [bid(997)])], cfg)
    assert s.manager is not None
    assert s.manager.stats.held_by_min_change == 1 and s.manager.stats.modified == 1
    [order] = _all(s)
    assert order.price == INST.ticks_to_price(997)


def test_a_quote_younger_than_its_minimum_lifetime_is_never_replaced() -> None:
    cfg = QuoteManagerConfig(min_quote_lifetime_ms=50)
    plan = [(1, [bid(1000)]), (20, [bid(995)]), (40, [bid(994)]), (60, [bid(993)]), (70, [bid(992)])]
    s = run(plan, cfg)
    [order] = _all(s)
    updates = [e.ts_event for e in order.events if type(e).__name__ == "OrderPendingUpdate"]
    placed = [1 * MS, *updates]
    assert updates == [60 * MS]  # 20 and 40 are younger than 50 ms; 70 is 10 ms after the replace
    assert all(later - earlier >= 50 * MS for earlier, later in itertools.pairwise(placed))
    assert order.price == INST.ticks_to_price(993)


def test_cancels_and_replaces_never_exceed_the_per_minute_budget() -> None:
    cfg = QuoteManagerConfig(max_cancels_per_min=3)
    plan = [(1 + 5 * i, [bid(1000 - i % 2 * 5)]) for i in range(60)]  # wants a new price every 5 ms
    plan += [(61_000 + 5 * i, [bid(1000 - i % 2 * 5)]) for i in range(20)]
    s = run(plan, cfg)
    touches = s.touches
    assert len(touches) == 6  # three in each minute
    for i, t in enumerate(touches):
        assert sum(1 for u in touches[i:] if u - t < 60_000 * MS) <= 3
    assert s.manager is not None and s.manager.stats.held_by_budget > 0


def test_quotes_no_longer_wanted_are_cancelled_and_a_smaller_size_is_one_modify_of_the_same_order() -> None:
    s = run([(1, [bid(1000), ask(1010)]), (10, [bid(1000, D("0.001"))])], QuoteManagerConfig())
    orders = {o.side: o for o in _all(s)}
    assert len(orders) == 2 and s.touches == [10 * MS, 10 * MS]
    assert "OrderCanceled" in [type(e).__name__ for e in orders[OrderSide.SELL].events]
    updates = [e for e in orders[OrderSide.BUY].events if type(e).__name__ == "OrderUpdated"]
    assert [e.quantity for e in updates] == [D("0.001")]  # type: ignore[attr-defined]
    assert s.after[-1] == {(OrderSide.BUY, 0): (INST.ticks_to_price(1000), D("0.001"))}


def test_without_modify_a_replace_is_a_cancel_then_a_new_order_once_the_cancel_is_confirmed() -> None:
    s = run([(1, [bid(1000)]), (10, [bid(995)]), (10.5, [bid(995)]), (20, [bid(995)])],
            QuoteManagerConfig(use_modify=False))  # fmt: skip
    first, second = _all(s)
    assert first.price == INST.ticks_to_price(1000) and "OrderCanceled" in [
        type(e).__name__ for e in first.events
    ]
    assert second.price == INST.ticks_to_price(995)
    assert second.ts_init == 20 * MS  # not at 10.5 ms: the cancel (1 ms each way) was not yet confirmed


def test_two_intents_for_the_same_side_and_level_are_refused() -> None:
    with pytest.raises(Exception, match="two quotes for BUY level 0"):
        run([(1, [bid(1000), bid(999)])], QuoteManagerConfig())
