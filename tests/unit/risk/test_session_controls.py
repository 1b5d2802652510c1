"""Daily controls that follow the exchange session: a trading day in the exchange's time zone
(daylight saving included), trades counted as entries, and the flatten before each session close."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.risk.kit import Bench, D, denial
from tradewright.config.run import RiskConfig
from tradewright.model.contracts import futures_instrument
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import (
    BreakerReset,
    BreakerTripped,
    FlattenFinished,
    FlattenStarted,
    TradingStateChanged,
)
from tradewright.risk.day import TradingDay

MNQ = futures_instrument("MNQH4.XCME")
BUY, SELL = OrderSide.BUY, OrderSide.SELL
NS = 1_000_000_000
MS = 1_000_000


def utc_ms(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp() * 1000  # type: ignore[misc]


def bench(start_ms: float, **risk: object) -> Bench:
    b = Bench(MNQ, **risk)  # type: ignore[arg-type]
    b.clock.advance_to(int(start_ms * MS))
    b.book(MNQ, [(70_000, 50)], [(70_001, 50)])  # 17500.00 / 17500.25
    return b


def test_a_zoned_trading_day_starts_at_17_00_chicago_in_winter_and_in_summer() -> None:
    day = TradingDay.in_zone("17:00", "America/Chicago")
    winter = day.index(int(utc_ms(2024, 1, 9, 23, 0) * MS))
    assert day.index(int(utc_ms(2024, 1, 9, 22, 59) * MS)) == winter - 1
    assert day.label(winter) == "2024-01-09T23:00:00.000000Z"  # 17:00 CST
    summer = day.index(int(utc_ms(2024, 7, 9, 22, 0) * MS))
    assert day.index(int(utc_ms(2024, 7, 9, 21, 59) * MS)) == summer - 1
    assert day.label(summer) == "2024-07-09T22:00:00.000000Z"  # 17:00 CDT


def test_the_zone_and_a_fixed_offset_cannot_both_be_given() -> None:
    with pytest.raises(ValueError, match=r"either `risk\.trading_day_tz`"):
        RiskConfig(trading_day_tz="America/Chicago", trading_day_utc_offset_minutes=-300)
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        RiskConfig(trading_day_tz="Mars/Olympus")


def test_the_daily_loss_tripwire_lifts_at_the_chicago_session_start_in_summer() -> None:
    b = bench(
        utc_ms(2024, 7, 9, 14),
        daily_loss_limit_r=D(2), r_unit_quote=D(50), trading_day_start="17:00", trading_day_tz="America/Chicago",
    )
    b.position(MNQ, BUY, "4", "17500.00")
    b.book(MNQ, [(69_900, 50)], [(69_901, 50)])  # mid down 24.875 points x 4 x 2 USD = 199 USD: -3.98R
    b.at(utc_ms(2024, 7, 9, 14, 1))
    assert denial(b.submit(MNQ, BUY, "1", "17487.50")) == "trading_reducing"
    b.at(utc_ms(2024, 7, 9, 21, 59))
    assert denial(b.submit(MNQ, BUY, "1", "17487.50")) == "trading_reducing"
    b.at(utc_ms(2024, 7, 9, 22, 0, 1))  # 17:00:01 Chicago daylight time: a new trading day
    assert denial(b.submit(MNQ, BUY, "1", "17487.50")) == ""
    (reset,) = b.log.of(BreakerReset)
    assert reset.breaker == "daily_loss" and "new trading day from 2024-07-09T22:00:00" in reset.reason


def test_max_trades_counted_as_entries_lets_every_exit_fill_and_blocks_the_next_entry() -> None:
    b = bench(utc_ms(2024, 1, 9, 15), max_trades_per_day=2, max_trades_count="entries")
    for _ in range(2):
        b.position(MNQ, BUY, "1", "17500.25")
        b.position(MNQ, SELL, "1", "17500.00")  # the exit is not a new trade
        assert b.log.of(BreakerTripped) == [] or b.kernel.portfolio.position(MNQ).quantity == 0
    (trip,) = b.log.of(BreakerTripped)
    assert trip.breaker == "max_trades_per_day" and "2 entries today" in trip.reason
    assert denial(b.submit(MNQ, BUY, "1", "17500.25")) == "trading_reducing"


def test_everything_is_flattened_before_the_session_close_and_entries_wait_for_the_next_open() -> None:
    # MNQ's "rth" session: 08:30-15:15 Chicago = 14:30-21:15 UTC in January.
    b = bench(utc_ms(2024, 1, 9, 15), flatten_before_close_minutes=10, flatten_session="rth")
    b.position(MNQ, BUY, "3", "17500.25")
    stop = b.submit(MNQ, SELL, "3", "17400.00")
    b.ack(stop)
    b.at(utc_ms(2024, 1, 9, 21, 4, 59))
    assert b.log.of(FlattenStarted) == []
    b.at(utc_ms(2024, 1, 9, 21, 5))  # 15:05 Chicago: ten minutes before the close
    (started,) = b.log.of(FlattenStarted)
    assert started.actor == "risk:session_close" and started.positions == {"MNQH4.XCME": D(3)}
    assert "no entries until it opens again at 2024-01-10T14:30:00" in started.reason
    assert stop.client_order_id in b.venues["XCME"].canceled
    b.canceled(stop)
    closing = b.kernel.orders.get(b.venues["XCME"].submitted[-1])
    assert closing is not None and closing.reduce_only and closing.side is SELL and closing.quantity == 3
    b.ack(closing)
    b.fill(closing, "17500.00")
    (finished,) = b.log.of(FlattenFinished)
    assert finished.complete and finished.residual == {}
    assert denial(b.submit(MNQ, BUY, "1", "17500.25")) == "trading_reducing"
    b.at(utc_ms(2024, 1, 10, 14, 30))  # the next session opens: entries pass again
    assert b.submit(MNQ, BUY, "1", "17500.25").status is OrderStatus.SUBMITTED
    states = [(e.cause, e.state.value) for e in b.log.of(TradingStateChanged)]
    assert states == [("session_close", "REDUCING"), ("session_close", "ACTIVE")]


def test_a_holiday_early_close_moves_the_flatten_earlier() -> None:
    # Martin Luther King Jr. Day 2024: the Globex session of equity index futures ends at 12:00 Chicago.
    b = bench(
        utc_ms(2024, 1, 15, 14), flatten_before_close_minutes=5, flatten_calendar="cme_equity_index"
    )
    b.position(MNQ, BUY, "1", "17500.25")
    b.at(utc_ms(2024, 1, 15, 17, 55))  # 11:55 Chicago
    (started,) = b.log.of(FlattenStarted)
    assert "closes at 2024-01-15T18:00:00" in started.reason


def test_a_session_the_instrument_lacks_is_named_in_a_warning_and_nothing_is_flattened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    b = bench(utc_ms(2024, 1, 9, 15), flatten_before_close_minutes=5, flatten_session="pit")
    b.position(MNQ, BUY, "1", "17500.25")
    b.at(utc_ms(2024, 1, 10, 0))
    assert b.log.of(FlattenStarted) == []
    assert "MNQH4.XCME has no session 'pit' (it has globex, rth)" in caplog.text
