"""Trading states ACTIVE / REDUCING / HALTED per node, venue and instrument, and C3 rate limits."""

from __future__ import annotations

from tests.unit.risk.kit import Bench, D, denial
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import BreakerReset, CommandDenied, TradingState, TradingStateChanged
from tradewright.risk import NODE, instrument_scope, venue_scope
from tradewright.testkit import btc_perp, make_instrument

BTC = btc_perp()
ETH = make_instrument("ETHUSDT-PERP", "BYBIT", tick="0.01", lot="0.01")
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def bench(**risk: object) -> Bench:
    b = Bench(BTC, ETH, **risk)  # type: ignore[arg-type]
    b.book(BTC, [(1000, 5_000)], [(1001, 5_000)])
    b.book(ETH, [(5000, 500)], [(5002, 500)])
    return b


def test_reducing_lets_a_reducing_order_through_and_denies_an_increasing_one() -> None:
    b = bench()
    b.position(BTC, BUY, "0.004", "100.0")
    b.risk.set_state(TradingState.REDUCING, reason="test: reduce only")
    assert denial(b.submit(BTC, BUY, "0.001", "100.0")) == "trading_reducing"
    assert b.submit(BTC, SELL, "0.004", "100.1").status is OrderStatus.SUBMITTED
    # The sell above already covers the position: one more sell would flip it short.
    assert denial(b.submit(BTC, SELL, "0.001", "100.1")) == "trading_reducing"
    # Flat instrument: every order increases exposure.
    assert denial(b.submit(ETH, SELL, "0.01", "50.02")) == "trading_reducing"


def test_halted_denies_everything_new_but_cancels_pass() -> None:
    b = bench(cancel_orders_on_halt=False)
    b.position(BTC, BUY, "0.004", "100.0")
    resting = b.submit(BTC, BUY, "0.001", "99.0")
    b.ack(resting)
    b.risk.set_state(TradingState.HALTED, reason="test: halt")
    assert denial(b.submit(BTC, SELL, "0.004", "100.1")) == "trading_halted"  # even a reducing order
    assert b.modify(resting, price="98.0") is False
    assert [e.reason for e in b.log.of(CommandDenied)] == ["trading_halted"]
    assert b.cancel(resting) is True
    assert b.venues["BINANCE"].canceled == [resting.client_order_id]


def test_a_denial_names_what_holds_the_state() -> None:
    b = bench()
    b.risk.set_state(TradingState.HALTED, reason="maintenance window")
    b.submit(BTC, BUY, "0.001", "100.0")
    message = b.log.events[-1].message  # type: ignore[attr-defined]
    assert "HALTED" in message and "operator" in message and "maintenance window" in message


def test_every_state_change_is_an_event_with_its_reason() -> None:
    b = bench()
    b.risk.set_state(TradingState.REDUCING, scope=venue_scope(BTC.id.venue), reason="venue degraded")
    b.risk.set_state(TradingState.ACTIVE, scope=venue_scope(BTC.id.venue), reason="venue recovered")
    changes = b.log.of(TradingStateChanged)
    assert [(c.scope, c.target, c.previous, c.state, c.reason) for c in changes] == [
        ("venue", "BINANCE", TradingState.ACTIVE, TradingState.REDUCING, "venue degraded"),
        ("venue", "BINANCE", TradingState.REDUCING, TradingState.ACTIVE, "venue recovered"),
    ]
    assert [r.reason for r in b.log.of(BreakerReset)] == ["venue recovered"]


def test_a_venue_or_instrument_state_leaves_the_others_trading() -> None:
    b = bench()
    b.risk.set_state(TradingState.HALTED, scope=venue_scope(BTC.id.venue), reason="exchange incident")
    assert denial(b.submit(BTC, BUY, "0.001", "100.0")) == "trading_halted"
    assert b.submit(ETH, BUY, "0.01", "50.0").status is OrderStatus.SUBMITTED
    b.risk.set_state(TradingState.HALTED, scope=instrument_scope(ETH.id), reason="delisting")
    assert denial(b.submit(ETH, BUY, "0.01", "50.0")) == "trading_halted"


def test_the_strictest_hold_wins_and_releasing_one_keeps_the_other() -> None:
    b = bench()
    b.risk.hold(NODE, "breaker_a", TradingState.REDUCING, "a")
    b.risk.hold(NODE, "breaker_b", TradingState.HALTED, "b")
    b.risk.release(NODE, "breaker_b", "b over")
    assert b.risk.states.state(NODE) is TradingState.REDUCING
    b.risk.reset(reason="operator reset")
    assert b.risk.states.state(NODE) is TradingState.ACTIVE


def test_halt_cancels_working_orders_and_reducing_cancels_only_the_increasing_ones() -> None:
    b = bench()
    b.position(BTC, BUY, "0.004", "100.0")
    bid = b.submit(BTC, BUY, "0.001", "99.0")
    ask = b.submit(BTC, SELL, "0.002", "101.0")
    b.ack(bid)
    b.ack(ask)
    b.risk.set_state(TradingState.REDUCING, reason="test")
    b.at(0)  # the cancels run right after the state change, at the same time
    assert b.venues["BINANCE"].canceled == [bid.client_order_id]
    b.risk.set_state(TradingState.HALTED, reason="test")
    b.at(0)
    assert b.venues["BINANCE"].canceled == [bid.client_order_id, ask.client_order_id]


# --- C3 rate limits -----------------------------------------------------------------------------
def test_orders_per_second_per_instrument_refill_on_the_kernel_clock() -> None:
    b = bench(max_orders_per_second_instrument=2)
    sent = [b.submit(BTC, BUY, "0.001", "99.0") for _ in range(3)]
    assert [denial(o) for o in sent] == ["", "", "order_rate_instrument"]
    assert b.submit(ETH, BUY, "0.01", "49.0").status is OrderStatus.SUBMITTED  # another instrument
    b.at(499)
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "order_rate_instrument"
    b.at(500)  # 2 per second: one token every 500 ms
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""


def test_orders_per_second_per_venue() -> None:
    other = make_instrument("SOLUSDT-PERP", "BINANCE", tick="0.01", lot="0.1")
    b = Bench(BTC, other, max_orders_per_second_venue=2)
    b.book(BTC, [(1000, 5_000)], [(1001, 5_000)])
    b.book(other, [(1000, 500)], [(1001, 500)])
    b.submit(BTC, BUY, "0.001", "99.0")
    b.submit(other, BUY, "0.1", "9.0")
    assert denial(b.submit(other, BUY, "0.1", "9.0")) == "order_rate_venue"


def test_a_denied_order_does_not_use_a_token() -> None:
    b = bench(max_orders_per_second_instrument=1, max_order_size_base=D("0.005"))
    assert denial(b.submit(BTC, BUY, "0.006", "99.0")) == "order_size_above_max"
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""


def test_strategy_cancels_beyond_the_rate_are_denied_but_protective_cancels_always_pass() -> None:
    b = bench(max_cancels_per_minute_instrument=1)
    orders = [b.submit(BTC, BUY, "0.001", "99.0") for _ in range(3)]
    for o in orders:
        b.ack(o)
    assert b.cancel(orders[0]) is True
    assert b.cancel(orders[1]) is False
    denied = b.log.of(CommandDenied)
    assert [(d.command, d.reason) for d in denied] == [("CancelOrder", "cancel_rate_instrument")]
    assert orders[1].is_open  # the order keeps working
    assert b.cancel(orders[1], actor="backtest:end") is True  # shutdown / kill switch cancels pass
    b.at(60_000)  # a minute later the bucket is full again
    assert b.cancel(orders[2]) is True
