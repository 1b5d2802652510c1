"""C5 daily controls: loss tripwire in currency and in R, max trades per day, spread and slippage
guards, and the trading day boundary."""

from __future__ import annotations

from tests.unit.risk.kit import Bench, D, denial
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import BreakerReset, BreakerTripped, TradingState
from tradewright.testkit import btc_perp

BTC = btc_perp()
BUY, SELL = OrderSide.BUY, OrderSide.SELL
HOUR_MS = 3_600_000


def bench(**risk: object) -> Bench:
    b = Bench(BTC, **risk)  # type: ignore[arg-type]
    b.book(BTC, [(1000, 5_000)], [(1001, 5_000)])
    return b


def test_daily_loss_in_currency_stops_new_entries_but_lets_exits_through() -> None:
    b = bench(daily_loss_limit_quote=D("0.05"))
    b.position(BTC, BUY, "0.01", "100.0")
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""
    b.book(BTC, [(900, 5_000)], [(901, 5_000)])  # mark 90.05: unrealised -0.0995
    assert denial(b.submit(BTC, BUY, "0.001", "89.0")) == "trading_reducing"
    assert b.submit(BTC, SELL, "0.01", "90.1").status is OrderStatus.SUBMITTED
    (trip,) = b.log.of(BreakerTripped)
    assert (trip.breaker, trip.scope, trip.action) == ("daily_loss", "node", TradingState.REDUCING)
    assert "0.0995" in trip.reason and "daily_loss_limit_quote 0.05" in trip.reason


def test_daily_loss_in_r() -> None:
    b = bench(daily_loss_limit_r=D(2), r_unit_quote=D("0.02"), daily_loss_action="halted")
    b.position(BTC, BUY, "0.01", "100.0")
    b.book(BTC, [(950, 5_000)], [(951, 5_000)])  # mark 95.05: -0.0495 = -2.475R
    assert denial(b.submit(BTC, SELL, "0.01", "95.1")) == "trading_halted"
    reason = b.log.of(BreakerTripped)[0].reason
    assert "today's loss 0.0495" in reason and "(1R = 0.02)" in reason and "daily_loss_limit_r is 2" in reason


def test_fees_count_towards_the_daily_loss() -> None:
    b = bench(daily_loss_limit_quote=D("0.05"))
    order = b.submit(BTC, BUY, "0.01", "100.1")
    b.ack(order)
    b.fill(order, "100.1", fee="0.06")
    assert [t.breaker for t in b.log.of(BreakerTripped)] == ["daily_loss"]


def test_the_monitor_trips_the_loss_tripwire_without_any_order() -> None:
    b = bench(daily_loss_limit_quote=D("0.05"), monitor_interval_ms=100)
    b.position(BTC, BUY, "0.01", "100.0")
    b.book(BTC, [(900, 5_000)], [(901, 5_000)])
    b.at(100)
    assert [t.breaker for t in b.log.of(BreakerTripped)] == ["daily_loss"]


def test_max_trades_per_day_counts_orders_that_filled_once_each() -> None:
    b = bench(max_trades_per_day=2)
    first = b.submit(BTC, BUY, "0.002", "100.1")
    b.ack(first)
    b.fill(first, "100.1", "0.001")
    b.fill(first, "100.1", "0.001")  # the same trade, partly filled twice
    assert b.log.of(BreakerTripped) == []
    b.position(BTC, BUY, "0.001", "100.1")
    (trip,) = b.log.of(BreakerTripped)
    assert (trip.breaker, trip.action) == ("max_trades_per_day", TradingState.REDUCING)
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_reducing"
    assert denial(b.submit(BTC, SELL, "0.003", "100.1")) == ""


def test_a_new_trading_day_lifts_the_daily_tripwires_at_the_session_start() -> None:
    # Session starts 12:00 at UTC+2, i.e. 10:00 UTC.
    b = bench(max_trades_per_day=1, trading_day_start="12:00", trading_day_utc_offset_minutes=120)
    b.at(9 * HOUR_MS)
    b.position(BTC, BUY, "0.001", "100.1")
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_reducing"
    b.at(10 * HOUR_MS - 1)
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_reducing"
    b.at(10 * HOUR_MS)
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""
    (reset,) = b.log.of(BreakerReset)
    assert reset.breaker == "max_trades_per_day"
    assert reset.reason == "new trading day from 1970-01-01T10:00:00.000000Z"


def test_spread_guard_blocks_entries_into_a_wide_market_not_exits() -> None:
    b = bench(max_spread_ticks=2)
    b.position(BTC, BUY, "0.002", "100.0")
    b.book(BTC, [(1000, 5_000)], [(1005, 5_000)])
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "spread_guard"
    assert denial(b.submit(BTC, SELL, "0.002", "100.4")) == ""
    b.book(BTC, [(1000, 5_000)], [(1002, 5_000)])
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""


def test_slippage_guard_denies_a_market_order_that_would_walk_the_book() -> None:
    b = bench(max_slippage_bps=D(20))
    b.book(BTC, [(1000, 5)], [(1001, 5), (1002, 5), (1010, 5)])  # mid 100.05
    assert denial(b.submit(BTC, BUY, "0.005")) == ""  # avg 100.1: 5 bps
    denied = b.submit(BTC, BUY, "0.015")  # avg 100.433: 38 bps
    assert denial(denied) == "slippage_guard"
    assert "100.4333 is 38.3 bps from the mid 100.05; max_slippage_bps is 20" in denied.events[-1].message  # type: ignore[attr-defined]
    assert denial(b.submit(BTC, BUY, "0.020")) == "slippage_guard"  # more than the book holds
    assert denial(b.submit(BTC, BUY, "0.015", "100.5")) == ""  # a limit order bounds its own price
