"""Futures calendars: contract months, expiries and rolls by CME's rules; trading days, the daily halt,
weekends and holidays — checked against the recorded 6EH4 bars where the data can say."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, time

import pytest

from tests.conftest import shared_data
from tradewright.core.errors import ConfigError
from tradewright.model.calendar import (
    ContractMonth,
    TradingCalendar,
    cme_holidays,
    front_contract,
    last_trading_day,
    last_trading_ns,
    roll_date,
)
from tradewright.model.contracts import CONTRACTS

NS = 1_000_000_000


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * NS  # type: ignore[misc]


def test_equity_index_contracts_expire_on_the_third_friday_and_roll_the_thursday_a_week_before() -> None:
    h4 = ContractMonth.parse("MNQH4", near=2024)
    assert (h4.year, h4.month, h4.local_symbol, h4.yyyymm) == (2024, 3, "MNQH4", "202403")
    assert last_trading_day(h4) == date(2024, 3, 15)
    assert roll_date(h4) == date(2024, 3, 7) and roll_date(h4).weekday() == 3
    assert last_trading_ns(h4) == utc(2024, 3, 15, 13, 30)  # 08:30 Chicago (CDT)
    # A month that starts on a Friday rolls on the first Thursday.
    assert roll_date(ContractMonth(2024, 11, "ES")) == date(2024, 11, 7)


def test_the_front_contract_moves_to_the_next_quarter_on_the_roll_date() -> None:
    assert str(front_contract("MNQ", date(2024, 3, 6))) == "MNQH4"
    assert str(front_contract("MNQ", date(2024, 3, 7))) == "MNQM4"
    assert str(front_contract("ES", date(2024, 12, 31))) == "ESH5"
    assert str(front_contract("6E", date(2024, 1, 10))) == "6EH4"


def test_fx_futures_expire_two_business_days_before_the_third_wednesday() -> None:
    assert last_trading_day(ContractMonth(2024, 3, "6E")) == date(2024, 3, 18)
    assert last_trading_day(ContractMonth(2024, 6, "6E")) == date(2024, 6, 17)


def test_a_root_without_rules_is_refused_naming_the_roots_that_have_them() -> None:
    with pytest.raises(ConfigError, match=r"no expiry or roll rule for futures root .CL.*6E, ES, MES, MNQ, NQ"):
        front_contract("CL", date(2024, 1, 2))


def test_one_digit_years_resolve_near_the_reference_year() -> None:
    assert ContractMonth.parse("ESZ9", near=2024).year == 2029
    assert ContractMonth.parse("ESH3", near=2024).year == 2023
    assert ContractMonth.parse("ESH24", near=2031).year == 2024


def test_cme_holidays_follow_the_federal_calendar_with_good_friday_and_observed_dates() -> None:
    h = cme_holidays(2026)
    assert h[date(2026, 4, 3)].kind == "closed"  # Good Friday 2026
    assert h[date(2026, 7, 3)].name == "Independence Day"  # July 4th on a Saturday: observed Friday
    assert h[date(2026, 11, 27)].close == time(12, 15)
    assert date(2026, 1, 19) not in cme_holidays(2026, "fx")  # FX trades through the Monday holidays


def test_globex_trading_days_open_the_evening_before_and_halt_daily_and_at_weekends() -> None:
    cal = TradingCalendar.cme(CONTRACTS["ES"].sessions[0], "equity_index", [2024])
    assert cal.bounds(date(2024, 1, 2)) == (utc(2024, 1, 1, 23), utc(2024, 1, 2, 22))
    assert cal.bounds(date(2024, 1, 1)) is None and cal.bounds(date(2024, 1, 6)) is None
    assert cal.is_open(utc(2024, 1, 2, 15)) and not cal.is_open(utc(2024, 1, 2, 22, 30))  # daily halt
    assert cal.trading_day(utc(2024, 1, 2, 23, 30)) == date(2024, 1, 3)
    saturday = utc(2024, 1, 6, 12)
    assert not cal.is_open(saturday) and cal.next_open_ns(saturday) == utc(2024, 1, 7, 23)
    # Martin Luther King Jr. Day: equity index futures halt at 12:00 Chicago.
    assert cal.bounds(date(2024, 1, 15)) == (utc(2024, 1, 14, 23), utc(2024, 1, 15, 18))
    # Summer time: the same 17:00 Chicago open is 22:00 UTC.
    assert cal.bounds(date(2024, 7, 9)) == (utc(2024, 7, 8, 22), utc(2024, 7, 9, 21))


def test_ib_trading_hours_text_lists_each_session_and_the_closed_days() -> None:
    cal = TradingCalendar.cme(CONTRACTS["ES"].sessions[0], "equity_index", [2024])
    assert cal.ib_hours(date(2024, 1, 5), 3) == "20240104:1700-20240105:1600;20240106:CLOSED"


def test_the_6e_recording_trades_exactly_inside_the_fx_calendar_sessions() -> None:
    path = shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    cal = TradingCalendar.cme(CONTRACTS["6E"].sessions[0], "fx", [2024])
    days: set[date] = set()
    with gzip.open(path, "rt") as f:
        next(f)
        for line in f:
            stamp = datetime.fromisoformat(line.split(",", 1)[0]).replace(tzinfo=UTC)
            opened = int(stamp.timestamp()) * NS - 60 * NS  # the file stamps bars at their close
            assert cal.is_open(opened), f"a bar opened at {stamp} outside the calendar's sessions"
            days.add(cal.trading_day(opened))
    assert days == set(cal.days(date(2024, 1, 2), date(2024, 2, 1)))  # MLK day included; the 31st evening is the 1st
