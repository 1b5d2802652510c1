"""Fidelity of the simulated venue, shown through the whole engine (kernel + replay loop + venue)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewright.backtest.engine import BacktestEngine, BacktestResult
from tradewright.model import LiquiditySide, OrderSide, TimeInForce
from tradewright.model.columnar import MarketStream
from tradewright.sim import ConservativeQueue, ConstantLatency, PowerProbQueue, QueueModel
from tradewright.testkit import StreamRows, btc_perp
from tradewright.testkit.scripted import Action, ScriptedStrategy

INST = btc_perp(maker_fee="0.0002", taker_fee="0.0005")
MS = 1_000_000
D = Decimal
SIZE = D("0.002")  # 2 lots


def px(tick: int) -> Decimal:
    return INST.ticks_to_price(tick)


def book(rows: StreamRows | None = None) -> StreamRows:
    """Bid 1000 x 5 lots, 999 x 5; ask 1001 x 5, 1002 x 5 (tick 0.1, lot 0.001)."""
    rows = rows or StreamRows(INST)
    return rows.snapshot(0, bids=[(1000, 5), (999, 5)], asks=[(1001, 5), (1002, 5)])


def run(
    stream: MarketStream,
    actions: list[tuple[float, Action]],
    *,
    latency_ms: float = 1.0,
    queue: QueueModel | None = None,
) -> tuple[ScriptedStrategy, BacktestResult]:
    lat = int(latency_ms * MS)
    engine = BacktestEngine(
        stream,
        starting_balance=D(10_000),
        latency=ConstantLatency(lat, lat),
        queue_model=queue or ConservativeQueue(),
    )
    strategy = ScriptedStrategy(INST.id, actions)
    engine.add_strategy(strategy)
    return strategy, engine.run()


def bid(tick: int, size: Decimal = SIZE, **kw: object) -> Action:
    return lambda ctx: ctx.submit(INST.id, OrderSide.BUY, size, px(tick), **kw)  # type: ignore[arg-type]


def ask(tick: int, size: Decimal = SIZE, **kw: object) -> Action:
    return lambda ctx: ctx.submit(INST.id, OrderSide.SELL, size, px(tick), **kw)  # type: ignore[arg-type]


def test_passive_order_does_not_fill_before_the_queue_ahead_has_traded_away() -> None:
    # Our bid joins 5 lots at 1000. Trades of 2 + 2 lots leave 1 ahead; the 3-lot trade fills 2 (ours).
    stream = book().trade(10, -1, 1000, 2).trade(20, -1, 1000, 2).trade(30, -1, 1000, 3).build()
    s, _ = run(stream, [(1, bid(1000))])
    assert [f.ts_event for f in s.fills] == [30 * MS]
    assert s.fills[0].last_qty == SIZE and s.fills[0].liquidity is LiquiditySide.MAKER


def test_a_partial_fill_when_the_trade_only_covers_part_of_our_order() -> None:
    stream = book().trade(10, -1, 1000, 6).trade(20, -1, 1000, 4).build()
    s, _ = run(stream, [(1, bid(1000))])
    assert [(f.ts_event, f.last_qty) for f in s.fills] == [(10 * MS, D("0.001")), (20 * MS, D("0.001"))]
    assert s.kinds()[-2:] == ["OrderFilled", "OrderFilled"]


def test_cancellations_do_not_advance_a_conservative_queue_but_do_advance_a_probabilistic_one() -> None:
    # We join behind 5 lots; 5 more join behind us (10); 4 are cancelled (6); then 5 lots trade.
    stream = book().level(10, 1, 1000, 10).level(20, 1, 1000, 6).trade(30, -1, 1000, 5).build()
    conservative, _ = run(stream, [(1, bid(1000))], queue=ConservativeQueue())
    probabilistic, _ = run(stream, [(1, bid(1000))], queue=PowerProbQueue(2))
    # Conservative: still 5 ahead; the 5-lot trade only clears them.
    assert conservative.fills == []
    # Power-2 model, front = back = 5: half the 4 cancelled lots were ahead, so 3 are ahead and 2 of the
    # traded lots reach us.
    assert [f.last_qty for f in probabilistic.fills] == [D("0.002")]


def test_an_order_sent_at_t_is_live_only_at_t_plus_latency() -> None:
    # Sent at 1 ms with 5 ms latency: the trade at 3 ms happens before it is at the venue.
    stream = (
        book().level(2, 1, 1000, 0).trade(3, -1, 1000, 50).level(4, 1, 1000, 5).trade(20, -1, 1000, 7).build()
    )
    s, _ = run(stream, [(1, bid(1000))], latency_ms=5)
    accepted = [e for e in s.events if type(e).__name__ == "OrderAccepted"]
    assert accepted[0].ts_event == 6 * MS  # venue time of acceptance
    assert accepted and s.events.index(accepted[0]) == 0
    # joined behind 5 lots at 6 ms; the 7-lot trade at 20 ms fills our 2 lots
    assert [(f.ts_event, f.last_qty) for f in s.fills] == [(20 * MS, SIZE)]


def test_venue_answers_reach_the_strategy_after_the_response_latency() -> None:
    stream = book().trade(30, -1, 1000, 50).build()
    s, res = run(stream, [(1, bid(1000))], latency_ms=2)
    # ack created at 3 ms at the venue, seen by the strategy at 5 ms
    assert s.events[0].ts_event == 3 * MS
    assert res.kernel.orders.all_orders[0].events[0].ts_event == 1 * MS  # OrderSubmitted at send time


def test_cancel_racing_a_fill_is_rejected_when_the_fill_was_first_at_the_venue() -> None:
    # Cancel sent at 10 ms arrives at 15 ms; the fill happened at 12 ms: the cancel is rejected.
    stream = book().trade(12, -1, 1000, 50).build()
    s, res = run(
        stream,
        [(1, bid(1000)), (10, lambda ctx: ctx.cancel(ctx.open_orders()[0].client_order_id))],
        latency_ms=5,
    )
    assert s.kinds() == ["OrderAccepted", "OrderFilled"]
    order = res.kernel.orders.all_orders[0]
    assert order.status.value == "FILLED"
    # The venue's cancel rejection arrived after the fill had closed the order: counted, not applied.
    assert res.kernel.orders.ignored_events == 1


def test_cancel_that_arrives_before_the_fill_wins() -> None:
    stream = book().trade(20, -1, 1000, 50).build()
    s, _res = run(
        stream,
        [(1, bid(1000)), (10, lambda ctx: ctx.cancel(ctx.open_orders()[0].client_order_id))],
        latency_ms=5,
    )
    assert s.kinds() == ["OrderAccepted", "OrderCanceled"]
    assert s.fills == []


def test_post_only_that_would_cross_is_rejected() -> None:
    s, _ = run(book().build(), [(1, bid(1001, post_only=True))])
    assert s.kinds() == ["OrderRejected"]
    assert s.events[0].reason == "post_only_would_take"


def test_post_only_that_rests_is_accepted() -> None:
    s, res = run(book().build(), [(1, bid(1000, post_only=True))])
    assert s.kinds() == ["OrderAccepted"]
    assert (
        res.kernel.orders.all_orders[0].status.value == "CANCELED"
    )  # by the runner, after the strategy stopped


def test_marketable_limit_walks_the_book_as_taker_and_rests_the_rest() -> None:
    s, res = run(book().build(), [(1, bid(1002, size=D("0.012")))])
    assert [(f.last_px, f.last_qty, f.liquidity) for f in s.fills] == [
        (px(1001), D("0.005"), LiquiditySide.TAKER),
        (px(1002), D("0.005"), LiquiditySide.TAKER),
    ]
    assert s.kinds() == ["OrderAccepted", "OrderFilled", "OrderFilled"]
    order = res.kernel.orders.all_orders[0]
    assert order.filled_qty == D("0.010") and res.venue.queue_ahead(order.client_order_id) is None
    assert order.status.value == "CANCELED"  # the resting 2 lots, cancelled by the runner at the end


def test_ioc_fills_what_it_can_and_expires_the_rest() -> None:
    s, _ = run(book().build(), [(1, bid(1001, size=D("0.008"), time_in_force=TimeInForce.IOC))])
    assert [(f.last_px, f.last_qty) for f in s.fills] == [(px(1001), D("0.005"))]
    assert s.kinds() == ["OrderAccepted", "OrderFilled", "OrderExpired"]


def test_fok_fills_completely_or_not_at_all() -> None:
    s_no, _ = run(book().build(), [(1, bid(1001, size=D("0.008"), time_in_force=TimeInForce.FOK))])
    assert s_no.kinds() == ["OrderExpired"] and s_no.fills == []
    s_yes, _ = run(book().build(), [(1, bid(1002, size=D("0.008"), time_in_force=TimeInForce.FOK))])
    assert sum(f.last_qty for f in s_yes.fills) == D("0.008")
    assert s_yes.kinds()[-1] == "OrderFilled"


def test_market_order_takes_liquidity_and_pays_taker_fee() -> None:
    s, _ = run(book().build(), [(1, lambda ctx: ctx.submit(INST.id, OrderSide.SELL, D("0.003")))])
    [fill] = s.fills
    assert (fill.last_px, fill.liquidity) == (px(1000), LiquiditySide.TAKER)
    assert fill.fee == D("100.0") * D("0.003") * D("0.0005")


def test_maker_fill_pays_maker_fee_exactly() -> None:
    s, _ = run(book().trade(10, -1, 1000, 50).build(), [(1, bid(1000))])
    assert s.fills[0].fee == D("100.0") * D("0.002") * D("0.0002") == D("0.00004")


def test_the_market_trading_through_our_price_fills_us_completely() -> None:
    s, _ = run(book().trade(10, -1, 999, 1).build(), [(1, bid(1000))])
    assert [(f.last_px, f.last_qty) for f in s.fills] == [(px(1000), SIZE)]


def test_own_orders_never_trade_with_each_other() -> None:
    # A resting ask at 1001 (ours), then our bid at 1001 would cross it: rejected (self-trade prevention).
    s, _res = run(book().build(), [(1, ask(1001)), (5, bid(1001))])
    assert s.fills == []
    assert "self_trade_prevented" in [getattr(e, "reason", "") for e in s.events]


def test_modify_to_a_new_price_loses_queue_priority() -> None:
    stream = book().trade(10, -1, 1000, 4).trade(30, -1, 999, 0).build()

    def move(ctx):  # type: ignore[no-untyped-def]
        ctx.modify(ctx.open_orders()[0].client_order_id, price=px(999))

    s, res = run(stream, [(1, bid(1000)), (15, move)])
    assert "OrderUpdated" in s.kinds()
    assert res.venue.queue_ahead(res.kernel.orders.all_orders[0].client_order_id) in (None, 5.0)


@pytest.mark.parametrize("latency_ms", [0.0, 1.0, 3.0])
def test_cash_plus_position_times_mark_equals_equity_at_every_step(latency_ms: float) -> None:
    stream = (
        book()
        .trade(10, -1, 1000, 9)
        .level(11, 1, 1000, 0)
        .level(12, -1, 1000, 3)
        .trade(20, 1, 1000, 9)
        .trade(25, 1, 1001, 8)
        .level(30, 1, 1000, 4)
        .build()
    )
    _s, res = run(
        stream, [(1, bid(1000)), (1, ask(1001)), (13, ask(1000)), (21, bid(999))], latency_ms=latency_ms
    )
    assert res.recorder.fills, "the scenario must produce fills"
    start = D(10_000)
    for row in res.recorder.equity:
        _, _, mid, _, _, _, _, pos, cash, equity, realized, unrealized, fees = row
        if mid == "":
            continue
        assert D(cash) + D(pos) * D(mid) == D(equity)
        assert D(equity) - start == D(realized) + D(unrealized) - D(fees)


def test_a_venue_reject_that_crosses_our_cancel_ends_the_order_rejected() -> None:
    # The post-only bid would cross at arrival (rejected at 6 ms); our cancel was sent at 2 ms.
    _s, res = run(
        book().build(),
        [(1, bid(1001, post_only=True)), (2, lambda ctx: ctx.cancel(ctx.open_orders()[0].client_order_id))],
        latency_ms=5,
    )
    order = res.kernel.orders.all_orders[0]
    assert order.status.value == "REJECTED"
    assert res.kernel.orders.open_orders() == []
