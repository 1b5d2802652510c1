"""C6 kill switch: flatten_all cancels every order, closes every position inside the price band, halts,
and records it with its reason — through the whole engine and the simulated venue."""

from __future__ import annotations

from tests.unit.risk.kit import MS, Bench, D, sim_run
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import FlattenFinished, FlattenStarted, OrderDenied, TradingState
from tradewright.risk import KILL_SWITCH, RISK_STRATEGY_ID
from tradewright.testkit import StreamRows, btc_perp
from tradewright.testkit.scripted import Action

BTC = btc_perp(taker_fee="0.0005")
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def book() -> StreamRows:
    """Bid 100.0 x 50 lots, 99.9 x 50; ask 100.1 x 50, 100.2 x 50 (mid 100.05)."""
    return StreamRows(BTC).snapshot(0, bids=[(1000, 50), (999, 50)], asks=[(1001, 50), (1002, 50)])


def buy(qty: str, price: str) -> Action:
    return lambda ctx: ctx.submit(BTC.id, BUY, D(qty), D(price))


def test_flatten_all_leaves_no_order_and_no_position_and_records_why() -> None:
    stream = book().trade(500, 1, 1001, 1).build()
    actions: list[tuple[float, Action]] = [
        (1, buy("0.004", "100.1")),  # takes: long 0.004
        (5, buy("0.002", "99.5")),  # rests
        (100, buy("0.001", "100.0")),  # after the kill switch: denied
    ]
    run = sim_run(stream, actions, flatten_at_ms=50)
    kernel = run.result.kernel
    assert kernel.orders.open_orders() == []
    assert kernel.portfolio.position(BTC).quantity == 0
    (started,) = run.log.of(FlattenStarted)
    assert (started.reason, started.orders_canceled, started.positions) == (
        "test: flatten",
        1,
        {str(BTC.id): D("0.004")},
    )
    (finished,) = run.log.of(FlattenFinished)
    assert finished.complete and finished.residual == {} and finished.open_orders == 0
    assert run.order(1).status is OrderStatus.CANCELED
    assert run.order(2).status is OrderStatus.DENIED and run.order(2).client_order_id not in run.spy.submitted
    assert run.risk.state_for(BTC.id) is TradingState.HALTED
    summary = run.risk.summary()
    assert summary["trading_state"] == "HALTED"
    assert any("flatten all" in line and "test: flatten" in line for line in summary["risk_events"])


def test_closing_orders_are_reduce_only_limits_inside_the_price_band() -> None:
    stream = book().trade(500, 1, 1001, 1).build()
    run = sim_run(stream, [(1, buy("0.004", "100.1"))], flatten_at_ms=50, price_band_bps=D(10))
    closes = [o for o in run.result.kernel.orders.all_orders if o.strategy_id == RISK_STRATEGY_ID]
    assert len(closes) == 1
    close = closes[0]
    assert close.reduce_only and close.side is SELL and close.quantity == D("0.004")
    mid = D("100.05")
    assert close.price is not None and abs(close.price - mid) * 10_000 <= 10 * mid
    assert close.status is OrderStatus.FILLED


def test_closing_orders_are_split_to_respect_the_max_order_size() -> None:
    stream = book().trade(500, 1, 1001, 1).build()
    entries: list[tuple[float, Action]] = [
        (1, buy("0.002", "100.1")),
        (2, buy("0.002", "100.1")),
        (3, buy("0.001", "100.1")),
    ]
    run = sim_run(stream, entries, flatten_at_ms=50, max_order_size_base=D("0.002"))
    assert run.log.of(FlattenStarted)[0].positions == {str(BTC.id): D("0.005")}
    closes = [o.quantity for o in run.result.kernel.orders.all_orders if o.strategy_id == RISK_STRATEGY_ID]
    assert closes == [D("0.002"), D("0.002"), D("0.001")]
    assert run.result.kernel.portfolio.position(BTC).quantity == 0


def test_when_the_band_cannot_reach_the_market_the_switch_retries_then_reports_incomplete() -> None:
    # After we are long, the bids fall away far below the band: nothing can close at a sane price.
    stream = (
        book().level(20, 1, 1000, 0).level(20, 1, 999, 0).level(21, 1, 900, 50).trade(900, 1, 1001, 1).build()
    )
    run = sim_run(
        stream,
        [(1, buy("0.004", "100.1"))],
        flatten_at_ms=50,
        flatten_retry_ms=100,
        flatten_max_attempts=3,
    )
    (finished,) = run.log.of(FlattenFinished)
    assert not finished.complete and finished.attempts == 3
    assert finished.residual == {str(BTC.id): D("0.004")}
    prices = {o.price for o in run.result.kernel.orders.all_orders if o.strategy_id == RISK_STRATEGY_ID}
    assert all(p is not None and p > D("90") for p in prices)  # never a fat-finger into the hole
    assert run.risk.state_for(BTC.id) is TradingState.HALTED


def test_flatten_with_nothing_open_halts_and_finishes_at_once() -> None:
    b = Bench(BTC)
    b.book(BTC, [(1000, 5)], [(1001, 5)])
    b.kernel.flatten_all("drill", actor="cli")
    assert [type(e).__name__ for e in b.log.risk()] == [
        "FlattenStarted",
        "TradingStateChanged",
        "FlattenFinished",
    ]
    assert b.log.of(FlattenFinished)[0].complete


def test_a_halt_by_the_kill_switch_is_lifted_only_by_an_operator() -> None:
    b = Bench(BTC)
    b.book(BTC, [(1000, 5)], [(1001, 5)])
    b.kernel.flatten_all("drill")
    b.at(10_000)
    order = b.submit(BTC, BUY, "0.001", "99.0")
    assert order.status is OrderStatus.DENIED
    assert "kill switch" in b.log.of(OrderDenied)[0].message
    b.risk.reset(reason="operator: resume after drill")
    assert b.submit(BTC, BUY, "0.001", "99.0").status is OrderStatus.SUBMITTED
    assert KILL_SWITCH in {r.breaker for r in b.log.risk() if hasattr(r, "breaker")}


def test_flatten_at_the_same_data_gives_the_same_fills() -> None:
    stream = book().trade(500, 1, 1001, 1).build()
    actions: list[tuple[float, Action]] = [(1, buy("0.004", "100.1")), (5, buy("0.002", "99.5"))]
    a = sim_run(stream, actions, flatten_at_ms=50)
    b = sim_run(stream, actions, flatten_at_ms=50)
    assert [(e.ts_event, type(e).__name__) for e in a.log.events] == [
        (e.ts_event, type(e).__name__) for e in b.log.events
    ]
    assert a.log.of(FlattenStarted)[0].ts_event == 50 * MS
