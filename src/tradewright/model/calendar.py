"""Futures calendars: contract months, last trading days, roll dates, and the exchange's trading days.

**Contract months.** A dated contract is a root, a month code and a year: ``MNQH4`` is the Micro
E-mini Nasdaq-100 of March 2024 (codes F G H J K M N Q U V X Z for January..December; the equity index
and FX futures here list the quarterly H M U Z). IB's `localSymbol` writes the year with one digit.

**Last trading day** (CME rules, by contract family):

- equity index (ES, MES, NQ, MNQ): the third Friday of the contract month; the expiring contract stops
  at 08:30 Chicago and settles to the Special Opening Quotation;
- FX (6E): the second business day before the third Wednesday of the month, at 09:16 Chicago.

**Roll.** The front contract is the nearest one whose roll date has not passed; the roll date is
`roll_days` (default 8) calendar days before the last trading day — for the equity index contracts
the Thursday a week before expiry, when CME's volume moves (``../shared/reference/brokers.md`` §8).

**Trading days.** `TradingCalendar` puts a daily session (`TradingSession`, e.g. Globex 17:00-16:00
Chicago, which opens the evening before the trading day it belongs to) on the weekdays, leaves out the
exchange's holidays and shortens its early closes. Between one session's close and the next open the
market is halted (the daily 16:00-17:00 Chicago maintenance halt, and the weekend). Holidays follow
the rules CME has applied in recent years (`cme_holidays`); the exchange publishes each year's
schedule, and a calendar takes explicit `closed`/`early_closes` dates for anything the rules miss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from tradewright.core.errors import ConfigError
from tradewright.model.instrument import TradingSession

__all__ = [
    "MONTH_CODES",
    "ContractMonth",
    "Holiday",
    "TradingCalendar",
    "cme_holidays",
    "contract_months",
    "expiry_rule",
    "front_contract",
    "last_trading_day",
    "last_trading_ns",
    "roll_date",
]

MONTH_CODES = "FGHJKMNQUVXZ"
_NS = 1_000_000_000
_CHICAGO = ZoneInfo("America/Chicago")
_SYMBOL = re.compile(r"^(?P<root>[A-Z0-9]+?)(?P<code>[FGHJKMNQUVXZ])(?P<year>\d{1,2})$")

ExpiryRule = Literal["equity_index", "fx"]
# root -> (rule, listed months, time the expiring contract stops trading, Chicago)
_RULES: dict[str, tuple[ExpiryRule, str, time]] = {
    "ES": ("equity_index", "HMUZ", time(8, 30)),
    "MES": ("equity_index", "HMUZ", time(8, 30)),
    "NQ": ("equity_index", "HMUZ", time(8, 30)),
    "MNQ": ("equity_index", "HMUZ", time(8, 30)),
    "6E": ("fx", "HMUZ", time(9, 16)),
}


def expiry_rule(root: str) -> ExpiryRule:
    """The expiry rule of a root; `ConfigError` naming the roots with rules when there is none."""
    rule = _RULES.get(root.upper())
    if rule is None:
        raise ConfigError(
            f"no expiry or roll rule for futures root {root!r}; rules exist for {', '.join(sorted(_RULES))} "
            "(give the contract month explicitly, e.g. 'CLZ4')"
        )
    return rule[0]


@dataclass(frozen=True, slots=True, order=True)
class ContractMonth:
    """One dated contract: `root` (``MNQ``), `year` (four digits) and `month` (1-12)."""

    year: int
    month: int
    root: str = field(compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"contract month must be 1-12, got {self.month}")

    @classmethod
    def parse(cls, symbol: str, *, near: int) -> ContractMonth:
        """Read ``MNQH4`` / ``MNQH24``; a one-digit year is the one within [near - 1, near + 8]."""
        match = _SYMBOL.match(symbol.upper())
        if match is None:
            raise ValueError(f"{symbol!r} is not a dated futures symbol like 'MNQH4'")
        digits = match.group("year")
        if len(digits) == 2:
            year = 2000 + int(digits)
        else:
            year = (near - 1) - (near - 1) % 10 + int(digits)
            if year < near - 1:
                year += 10
        return cls(year, MONTH_CODES.index(match.group("code")) + 1, match.group("root"))

    @property
    def code(self) -> str:
        return MONTH_CODES[self.month - 1]

    @property
    def local_symbol(self) -> str:
        """CME's and IB's short form, one-digit year: ``MNQH4``."""
        return f"{self.root}{self.code}{self.year % 10}"

    @property
    def yyyymm(self) -> str:
        """IB's `lastTradeDateOrContractMonth` for a contract month: ``202403``."""
        return f"{self.year:04d}{self.month:02d}"

    def __str__(self) -> str:
        return self.local_symbol


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday = 0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _business_days_before(day: date, n: int, holidays: Iterable[date]) -> date:
    closed = set(holidays)
    while n:
        day -= timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            n -= 1
    return day


def last_trading_day(contract: ContractMonth) -> date:
    """The contract's last trading day (module docstring)."""
    rule = expiry_rule(contract.root)
    if rule == "equity_index":
        return _nth_weekday(contract.year, contract.month, 4, 3)
    third_wednesday = _nth_weekday(contract.year, contract.month, 2, 3)
    closed = [d for d, h in cme_holidays(contract.year, "fx").items() if h.kind == "closed"]
    return _business_days_before(third_wednesday, 2, closed)


def last_trading_ns(contract: ContractMonth) -> int:
    """When the expiring contract stops trading (UTC ns)."""
    stop = _RULES[contract.root.upper()][2]
    moment = datetime.combine(last_trading_day(contract), stop, tzinfo=_CHICAGO)
    return int(moment.timestamp()) * _NS


def roll_date(contract: ContractMonth, roll_days: int = 8) -> date:
    """The day the front month moves to the next contract: `roll_days` before the last trading day."""
    if roll_days < 0:
        raise ValueError(f"roll_days must be >= 0, got {roll_days}")
    return last_trading_day(contract) - timedelta(days=roll_days)


def contract_months(root: str, start: date, count: int) -> list[ContractMonth]:
    """The next `count` listed contract months of `root` from `start`'s month on (expired or not)."""
    expiry_rule(root)  # raises, naming the roots with rules
    months = _RULES[root.upper()][1]
    out: list[ContractMonth] = []
    year, month = start.year, start.month
    while len(out) < count:
        if MONTH_CODES[month - 1] in months:
            out.append(ContractMonth(year, month, root.upper()))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def front_contract(root: str, on: date, *, roll_days: int = 8) -> ContractMonth:
    """The contract a trader holds on `on`: the nearest whose roll date is after `on`."""
    for contract in contract_months(root, on, 6):
        if roll_date(contract, roll_days) > on:
            return contract
    raise AssertionError("unreachable: six quarterly months always include one not yet rolled")


# --- holidays ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Holiday:
    """A day the exchange is `closed`, or closes `early` at `close` (local exchange time)."""

    name: str
    kind: Literal["closed", "early"]
    close: time | None = None


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _observed(day: date) -> date:
    """A fixed-date holiday on a weekend is observed on the Friday before or the Monday after."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def cme_holidays(year: int, family: Literal["equity_index", "fx"] = "equity_index") -> dict[date, Holiday]:
    """CME Globex holidays of one year by the rules of recent years.

    Both families close on New Year's Day, Good Friday and Christmas. Equity index futures halt at
    12:00 Chicago on the other US federal holidays (Martin Luther King Jr., Presidents, Memorial,
    Juneteenth, Independence, Labor, Thanksgiving) and at 12:15 on the day after Thanksgiving and on
    Christmas Eve. FX futures keep trading through the Monday holidays (the January 2024 6E recording
    trades through Martin Luther King Jr. Day) and close early only around Thanksgiving, Independence
    Day and Christmas Eve.
    """
    noon, quarter_past = time(12, 0), time(12, 15)
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    out: dict[date, Holiday] = {
        _observed(date(year, 1, 1)): Holiday("New Year's Day", "closed"),
        _easter(year) - timedelta(days=2): Holiday("Good Friday", "closed"),
        _observed(date(year, 12, 25)): Holiday("Christmas Day", "closed"),
        thanksgiving: Holiday("Thanksgiving Day", "early", noon),
        thanksgiving + timedelta(days=1): Holiday("day after Thanksgiving", "early", quarter_past),
        _observed(date(year, 7, 4)): Holiday("Independence Day", "early", noon),
    }
    eve = date(year, 12, 24)
    if eve.weekday() < 5 and eve not in out:
        out[eve] = Holiday("Christmas Eve", "early", quarter_past)
    if family == "equity_index":
        for name, day in (
            ("Martin Luther King Jr. Day", _nth_weekday(year, 1, 0, 3)),
            ("Presidents Day", _nth_weekday(year, 2, 0, 3)),
            ("Memorial Day", date(year, 5, 31) - timedelta(days=date(year, 5, 31).weekday())),
            ("Juneteenth", _observed(date(year, 6, 19))),
            ("Labor Day", _nth_weekday(year, 9, 0, 1)),
        ):
            out.setdefault(day, Holiday(name, "early", noon))
    return out


class TradingCalendar:
    """The trading days of one daily session on the weekdays, without holidays (module docstring).

    A trading day is named by the date its session closes on (Globex's Sunday-evening open belongs to
    Monday). `closed` and `early_closes` add to (or override) the holidays of `holidays`.
    """

    def __init__(
        self,
        session: TradingSession,
        *,
        holidays: Mapping[date, Holiday] | None = None,
        closed: Iterable[date] = (),
        early_closes: Mapping[date, time] | None = None,
    ) -> None:
        self.session = session
        self.zone = ZoneInfo(session.tz)
        self._open = _parse_hhmm(session.open)
        self._close = _parse_hhmm(session.close)
        self._overnight = self._close <= self._open
        self.holidays: dict[date, Holiday] = dict(holidays or {})
        for day in closed:
            self.holidays[day] = Holiday("closed", "closed")
        for day, at in (early_closes or {}).items():
            self.holidays[day] = Holiday("early close", "early", at)

    @classmethod
    def cme(cls, session: TradingSession, family: Literal["equity_index", "fx"], years: Iterable[int]) -> TradingCalendar:
        """A CME calendar for `session` with the holidays of `years` (`cme_holidays`)."""
        holidays: dict[date, Holiday] = {}
        for year in years:
            holidays.update(cme_holidays(year, family))
        return cls(session, holidays=holidays)

    def bounds(self, day: date) -> tuple[int, int] | None:
        """(open, close) of trading day `day` in UTC ns, or None when the market does not trade it."""
        if day.weekday() >= 5:
            return None
        holiday = self.holidays.get(day)
        if holiday is not None and holiday.kind == "closed":
            return None
        opened = day - timedelta(days=1) if self._overnight else day
        close = self._close if holiday is None or holiday.close is None else min(self._close, holiday.close)
        return (
            int(datetime.combine(opened, self._open, tzinfo=self.zone).timestamp()) * _NS,
            int(datetime.combine(day, close, tzinfo=self.zone).timestamp()) * _NS,
        )

    def trading_day(self, ts_ns: int) -> date:
        """The trading day `ts_ns` belongs to: the session it falls in, or else the next one to open."""
        local = datetime.fromtimestamp(ts_ns // _NS, self.zone)
        day = local.date() + timedelta(days=1) if self._overnight and local.time() >= self._open else local.date()
        for _ in range(14):
            window = self.bounds(day)
            if window is not None and ts_ns < window[1]:
                return day
            day += timedelta(days=1)
        raise ValueError(f"no trading day within two weeks of {local.isoformat()}")

    def session_at(self, ts_ns: int) -> tuple[int, int] | None:
        """(open, close) of the session trading at `ts_ns`, or None when the market is halted/closed."""
        window = self.bounds(self.trading_day(ts_ns))
        if window is not None and window[0] <= ts_ns < window[1]:
            return window
        return None

    def is_open(self, ts_ns: int) -> bool:
        return self.session_at(ts_ns) is not None

    def next_open_ns(self, ts_ns: int) -> int:
        """The first session open at or after `ts_ns` (`ts_ns` itself when the market is open)."""
        window = self.bounds(self.trading_day(ts_ns))
        assert window is not None
        return max(ts_ns, window[0])

    def next_close_ns(self, ts_ns: int) -> int:
        """The close of the session `ts_ns` is in, or of the next one to open."""
        window = self.bounds(self.trading_day(ts_ns))
        assert window is not None
        return window[1]

    def days(self, start: date, end: date) -> list[date]:
        """The trading days in [start, end]."""
        out, day = [], start
        while day <= end:
            if self.bounds(day) is not None:
                out.append(day)
            day += timedelta(days=1)
        return out

    def ib_hours(self, start: date, days: int) -> str:
        """IB's `tradingHours`/`liquidHours` text for `days` calendar days from `start`, in the session's
        time zone: ``20240102:1700-20240103:1600;20240106:CLOSED``."""
        parts = []
        for i in range(days):
            day = start + timedelta(days=i)
            window = self.bounds(day)
            if window is None:
                if day.weekday() != 6:  # Sunday evening opens Monday's session: listed under its open
                    parts.append(f"{day:%Y%m%d}:CLOSED")
                continue
            opened = datetime.fromtimestamp(window[0] // _NS, self.zone)
            closes = datetime.fromtimestamp(window[1] // _NS, self.zone)
            parts.append(f"{opened:%Y%m%d:%H%M}-{closes:%Y%m%d:%H%M}")
        return ";".join(parts)


def _parse_hhmm(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))
