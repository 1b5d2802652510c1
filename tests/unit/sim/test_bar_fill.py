"""The bar fill model (`tradewright.sim.bar_fill`), shown through the whole bar engine and kernel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.strategies.kit import MINUTE, MNQ, T0, BarScript, make_bars, run_bars
from tradewright.model.bar_view import BarView
from tradewright.model.data import Bar
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.events import OrderCanceled, OrderFilled
from tradewright.sim.bar_fill import BarFillConfig
from tradewright.sim.fees import FeeModel
from tradewright.strategy.context import StrategyContext

D = Decimal
ONE = D(1)


def px(tick: int) -> Decimal:
    return MNQ.ticks_to_price(tick)


def buy(ctx: StrategyContext, *_: object) -> None:
    ctx.submit(MNQ.id, OrderSide.BUY, ONE)


def test_a_market_order_fills_at_the_next_bars_open_plus_slippage_as_taker() -> None:
    bars = make_bars(MNQ, [(1000, 1004, 998, 1001), (1002, 1010, 1000, 1005)])
    s = BarScript(MNQ.id, {0: buy})
    run_bars(bars, s, fill=BarFillConfig(slippage_ticks=2))
    [fill] = s.fills
    assert fill.last_px == px(1004) and fill.liquidity is LiquiditySide.TAKER
    assert fill.ts_event == T0 + MINUTE  # the open of bar 1


def test_slippage_never_takes_a_fill_outside_the_bars_range() -> None:
    bars = make_bars(MNQ, [(1000, 1004, 998, 1001), (1002, 1003, 1000, 1001)])
    s = BarScript(MNQ.id, {0: buy})
    run_bars(bars, s, fill=BarFillConfig(slippage_ticks=5))
    assert [f.last_px for f in s.fills] == [px(1003)]  # the high, not 1007


def test_a_limit_fills_at_its_price_only_when_the_bar_trades_through_it() -> None:
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1000, 1001, 995, 1000), (1000, 1001, 994, 1000)])

    def bid(ctx: StrategyContext, *_: object) -> None:
        ctx.submit(MNQ.id, OrderSide.BUY, ONE, px(995))

    through = BarScript(MNQ.id, {0: bid})
    run_bars(bars, through)
    # bar 1 only touches 995 (low == limit): no fill; bar 2 trades through it
    assert [(f.last_px, f.ts_event, f.liquidity) for f in through.fills] == [
        (px(995), T0 + 3 * MINUTE, LiquiditySide.MAKER)
    ]
    touch = BarScript(MNQ.id, {0: bid})
    run_bars(bars, touch, fill=BarFillConfig(limit_fill="touch"))
    assert [f.ts_event for f in touch.fills] == [T0 + 2 * MINUTE]  # the close of bar 1


def test_a_limit_marketable_on_arrival_takes_at_the_open_and_a_post_only_one_is_cancelled() -> None:
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1000, 1002, 998, 1001)])

    def bid(**kw: object) -> object:
        return lambda ctx, _: ctx.submit(MNQ.id, OrderSide.BUY, ONE, px(1003), **kw)

    taker = BarScript(MNQ.id, {0: bid()})
    run_bars(bars, taker)
    assert [(f.last_px, f.liquidity) for f in taker.fills] == [(px(1000), LiquiditySide.TAKER)]
    maker = BarScript(MNQ.id, {0: bid(post_only=True)})
    run_bars(bars, maker)
    assert maker.fills == [] and maker.kinds() == ["OrderAccepted", "OrderCanceled"]
    assert getattr(maker.events[-1], "reason", "") == "post_only_would_take"


def test_a_stop_triggers_on_touch_and_fills_at_the_trigger_plus_slippage_or_at_a_gapped_open() -> None:
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1000, 1005, 999, 1004), (1010, 1012, 1009, 1011)])

    def stop_buy(trigger: int) -> object:
        return lambda ctx, _: ctx.submit(
            MNQ.id, OrderSide.BUY, ONE, order_type=OrderType.STOP_MARKET, trigger_price=px(trigger)
        )

    touched = BarScript(MNQ.id, {0: stop_buy(1005)})
    run_bars(bars, touched, fill=BarFillConfig(slippage_ticks=1))
    assert [(f.last_px, f.ts_event) for f in touched.fills] == [(px(1005), T0 + 2 * MINUTE)]  # capped at high
    gapped = BarScript(MNQ.id, {1: stop_buy(1006)})
    run_bars(bars, gapped, fill=BarFillConfig(slippage_ticks=1))
    assert [(f.last_px, f.ts_event) for f in gapped.fills] == [(px(1011), T0 + 2 * MINUTE)]  # open 1010 + 1


@pytest.mark.parametrize(("rule", "exit_reason"), [("worst", "stop"), ("best", "target")])
def test_a_bar_touching_both_the_stop_and_the_target_fills_the_one_the_intrabar_rule_says(
    rule: str, exit_reason: str
) -> None:
    # Long 1 from bar 1's open (1000); stop 990, target 1010; bar 2 touches both.
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1000, 1001, 999, 1000), (1000, 1015, 985, 1000)])
    s = BarScript(MNQ.id, {0: buy})
    legs: dict[str, str] = {}

    def bracket(ctx: StrategyContext, fill: OrderFilled) -> None:
        if fill.side is OrderSide.BUY:
            legs[
                ctx.submit(
                    MNQ.id,
                    OrderSide.SELL,
                    ONE,
                    order_type=OrderType.STOP_MARKET,
                    trigger_price=px(990),
                    reduce_only=True,
                )
            ] = "stop"
            legs[ctx.submit(MNQ.id, OrderSide.SELL, ONE, px(1010))] = "target"
        else:  # one leg filled: cancel the other
            for order in ctx.open_orders(MNQ.id):
                ctx.cancel(order.client_order_id)

    s.on_fill_actions.append(bracket)
    engine = run_bars(bars, s, fill=BarFillConfig(intrabar=rule))  # type: ignore[arg-type]
    exits = [f for f in s.fills if f.side is OrderSide.SELL]
    assert [legs[f.client_order_id] for f in exits] == [exit_reason]
    assert engine.kernel.portfolio.position(MNQ).quantity == 0
    assert any(isinstance(e, OrderCanceled) for e in s.events)  # the other leg


def test_a_reduce_only_order_is_cancelled_when_it_would_open_a_position() -> None:
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1000, 1001, 999, 1000)])
    s = BarScript(MNQ.id, {0: lambda ctx, _: ctx.submit(MNQ.id, OrderSide.SELL, ONE, reduce_only=True)})
    run_bars(bars, s)
    assert s.fills == []
    assert [(type(e).__name__, getattr(e, "reason", "")) for e in s.events][-1] == (
        "OrderCanceled",
        "reduce_only",
    )


def test_an_order_that_reaches_the_venue_after_the_open_waits_for_the_next_bar() -> None:
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1002, 1003, 1001, 1002), (1005, 1006, 1004, 1005)])
    s = BarScript(MNQ.id, {0: buy})
    run_bars(bars, s, latency_ns=1_000_000)  # 1 ms: misses bar 1's open
    assert [(f.last_px, f.ts_event) for f in s.fills] == [(px(1005), T0 + 2 * MINUTE)]


def test_an_ioc_limit_that_cannot_fill_at_the_open_expires() -> None:
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1002, 1003, 990, 1002)])
    s = BarScript(
        MNQ.id,
        {0: lambda ctx, _: ctx.submit(MNQ.id, OrderSide.BUY, ONE, px(995), time_in_force=TimeInForce.IOC)},
    )
    run_bars(bars, s)
    assert s.fills == [] and s.kinds() == ["OrderAccepted", "OrderExpired"]


def test_cash_fees_and_equity_add_up_exactly() -> None:
    bars = make_bars(MNQ, [(1000, 1001, 999, 1000), (1001, 1002, 1000, 1001), (1003, 1004, 1002, 1003)] * 3)
    actions = {0: buy, 1: buy, 3: lambda ctx, _: ctx.submit(MNQ.id, OrderSide.SELL, D(2)), 5: buy}
    s = BarScript(MNQ.id, actions)  # type: ignore[arg-type]
    engine = run_bars(bars, s, fees=FeeModel(maker=D("0.0001"), taker=D("0.0002")))
    portfolio = engine.kernel.portfolio
    flows = sum(
        (-f.last_px * f.last_qty * MNQ.multiplier * (1 if f.side is OrderSide.BUY else -1) for f in s.fills),
        D(0),
    )
    fees = sum((f.fee for f in s.fills), D(0))
    assert portfolio.balance("USD") == D(100_000) + flows - fees
    assert fees == sum((f.last_px * f.last_qty * MNQ.multiplier * D("0.0002") for f in s.fills), D(0))
    pos = portfolio.position(MNQ)
    final = engine.final_equity()
    assert final - D(100_000) == pos.realized_pnl + pos.unrealized_pnl(px(1003)) - pos.fees


def test_strategies_see_each_bar_once_at_its_close_through_a_view_moved_in_place() -> None:
    bars = make_bars(MNQ, [(1000 + i, 1002 + i, 999 + i, 1001 + i) for i in range(5)])
    s = BarScript(MNQ.id)
    engine = run_bars(bars, s)
    assert s.seen == [(i, float(px(1001 + i))) for i in range(5)]
    view = engine.view
    assert view.index == 4 and view.close_px == px(1005) and view.ts_event == T0 + 5 * MINUTE
    kept = view.copy()
    assert (kept.open, kept.high, kept.low, kept.close) == (px(1004), px(1006), px(1003), px(1005))


@settings(max_examples=60, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.integers(-6, 6), st.integers(0, 6), st.integers(0, 6), st.integers(-6, 6)),
        min_size=3,
        max_size=25,
    ),
    offsets=st.lists(st.tuples(st.integers(-8, 8), st.sampled_from(["limit", "stop", "market"])), max_size=8),
    slip=st.integers(0, 3),
    rule=st.sampled_from(["worst", "best", "nearest"]),
)
def test_fills_lie_inside_the_bar_they_happen_in_unless_a_resting_limit_was_gapped(
    moves: list[tuple[int, int, int, int]], offsets: list[tuple[int, str]], slip: int, rule: str
) -> None:
    ohlc = []
    last = 1000
    for gap, up, down, drift in moves:
        o = last + gap
        c = o + drift
        ohlc.append((o, max(o, c) + up, min(o, c) - down, c))
        last = c
    bars = make_bars(MNQ, ohlc)

    def orders(ctx: StrategyContext, bar: object) -> None:
        for k, (offset, kind) in enumerate(offsets):
            side = OrderSide.BUY if k % 2 == 0 else OrderSide.SELL
            ref = 1000 + offset
            if kind == "market":
                ctx.submit(MNQ.id, side, ONE)
            elif kind == "limit":
                ctx.submit(MNQ.id, side, ONE, px(ref))
            else:
                ctx.submit(MNQ.id, side, ONE, order_type=OrderType.STOP_MARKET, trigger_price=px(ref))

    s = BarScript(MNQ.id, {0: orders})
    run_bars(bars, s, fill=BarFillConfig(slippage_ticks=slip, intrabar=rule))  # type: ignore[arg-type]
    for fill in s.fills:
        k = (fill.ts_event - T0) // MINUTE - (1 if fill.ts_event % MINUTE == 0 and fill.ts_event > T0 else 0)
        candidates = [
            i for i in range(len(ohlc)) if T0 + i * MINUTE <= fill.ts_event <= T0 + (i + 1) * MINUTE
        ]
        tick = MNQ.price_to_ticks(fill.last_px)
        inside = any(ohlc[i][2] <= tick <= ohlc[i][1] for i in candidates)
        order = next(o for o in s.events if o.client_order_id == fill.client_order_id)
        assert inside or fill.liquidity is LiquiditySide.MAKER, (fill, ohlc, k, order)


def test_a_view_of_one_bar_struct_reads_back_the_same_bar() -> None:
    bar = Bar(
        instrument_id=MNQ.id,
        interval_ns=MINUTE,
        open=px(1000),
        high=px(1004),
        low=px(998),
        close=px(1001),
        volume=D("12.5"),
        ts_event=T0 + MINUTE,
        ts_init=T0 + MINUTE,
    )
    view = BarView.of(bar, MNQ)
    assert (view.open, view.close_ticks, view.low_px, view.ts_open_ns) == (250.0, 1001, px(998), T0)
    assert view.copy() == bar


def test_a_strategy_with_a_repeating_timer_stops_hearing_it_when_the_run_ends() -> None:
    # The end-of-run drain runs until nothing is scheduled: a stopped strategy's timer must not re-arm.
    fired: list[int] = []

    class Ticking(BarScript):
        def on_start(self, **kw: object) -> None:
            self.ctx.set_timer("tick", MINUTE // 2)

        def on_timer(self, event: object, **kw: object) -> None:
            fired.append(self.ctx.now_ns())

    engine = run_bars(make_bars(MNQ, [(1000, 1001, 999, 1000)] * 3), Ticking(MNQ.id))
    assert fired and max(fired) <= T0 + 3 * MINUTE + 1_000_000_000
    assert engine.kernel.next_due_ns() >= 1 << 62
