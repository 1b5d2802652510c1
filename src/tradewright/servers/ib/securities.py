"""The fake gateway's security master: the contracts it can describe and trade.

Futures come from tradewright's contract table and calendar (CME equity index and FX futures, the
quarterly months around the replayed data), stocks from a short list. Each has a stable conId, the
fields IB's contractDetails carries (written from IB's documentation of `ContractDetails`) and its
trading and liquid hours in IB's text form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tradewright.core.errors import ConfigError
from tradewright.model.calendar import (
    TradingCalendar,
    cme_holidays,
    contract_months,
    expiry_rule,
    last_trading_day,
)
from tradewright.model.contracts import CONTRACTS
from tradewright.model.instrument import TradingSession

__all__ = ["STOCKS", "Security", "SecurityMaster"]

# symbol -> (primary exchange, long name)
STOCKS: dict[str, tuple[str, str]] = {
    "AAPL": ("NASDAQ", "APPLE INC"),
    "MSFT": ("NASDAQ", "MICROSOFT CORP"),
    "SPY": ("ARCA", "SPDR S&P 500 ETF TRUST"),
}
_FUTURE_EXCHANGES = frozenset({"CME", "GLOBEX", ""})
_STOCK_HOURS = TradingSession(name="extended", tz="America/New_York", open="04:00", close="20:00")
_STOCK_RTH = TradingSession(name="rth", tz="America/New_York", open="09:30", close="16:00")


@dataclass(frozen=True, slots=True)
class Security:
    """One contract as the gateway describes it (IB's field names in snake case)."""

    con_id: int
    symbol: str
    sec_type: str  # FUT, STK
    last_trade: str  # YYYYMMDD for futures, "" for stocks
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    min_tick: Decimal
    long_name: str
    contract_month: str
    time_zone: str
    trading: TradingCalendar
    liquid: TradingCalendar

    def hours(self, today: date, days: int = 7) -> tuple[str, str]:
        """(tradingHours, liquidHours) for `days` from `today`."""
        return self.trading.ib_hours(today, days), self.liquid.ib_hours(today, days)

    def contract_fields(self, *, with_exchange: bool = True) -> list[object]:
        """The 11 contract fields of openOrder/execDetails (no primaryExchange): conId .. tradingClass."""
        return [
            self.con_id,
            self.symbol,
            self.sec_type,
            self.last_trade,
            0,
            "",
            self.multiplier,
            self.exchange if with_exchange else "",
            self.currency,
            self.local_symbol,
            self.trading_class,
        ]


class SecurityMaster:
    """Every contract the fake knows, looked up the way TWS matches a request's contract."""

    def __init__(self, around: date, *, years: int = 2) -> None:
        self.securities: dict[int, Security] = {}
        for root, spec in CONTRACTS.items():
            try:
                family = expiry_rule(root)
            except ConfigError:  # a root without expiry rules (CL, GC) is not listed
                continue
            holidays = {}
            for year in range(around.year - 1, around.year + years + 1):
                holidays.update(cme_holidays(year, family))
            globex, rth = spec.sessions[0], spec.sessions[1]
            trading = TradingCalendar(globex, holidays=holidays)
            liquid = TradingCalendar(rth, holidays=holidays)
            start = date(around.year - 1, around.month, 1) if around.month > 1 else date(around.year - 1, 1, 1)
            for month in contract_months(root, start, 4 * (years + 1)):
                expiry = last_trading_day(month)
                con_id = _stable_id(f"FUT:{root}:{month.yyyymm}")
                self.securities[con_id] = Security(
                    con_id=con_id,
                    symbol=root,
                    sec_type="FUT",
                    last_trade=f"{expiry:%Y%m%d}",
                    multiplier=str(spec.multiplier),
                    exchange="CME",
                    primary_exchange="",
                    currency=spec.currency,
                    local_symbol=month.local_symbol,
                    trading_class=root,
                    min_tick=spec.tick_size,
                    long_name=spec.name,
                    contract_month=month.yyyymm,
                    time_zone="US/Central",
                    trading=trading,
                    liquid=liquid,
                )
        stock_trading = TradingCalendar(_STOCK_HOURS)
        stock_liquid = TradingCalendar(_STOCK_RTH)
        for symbol, (primary, name) in STOCKS.items():
            con_id = _stable_id(f"STK:{symbol}")
            self.securities[con_id] = Security(
                con_id=con_id,
                symbol=symbol,
                sec_type="STK",
                last_trade="",
                multiplier="",
                exchange="SMART",
                primary_exchange=primary,
                currency="USD",
                local_symbol=symbol,
                trading_class="NMS" if primary == "NASDAQ" else symbol,
                min_tick=Decimal("0.01"),
                long_name=name,
                contract_month="",
                time_zone="US/Eastern",
                trading=stock_trading,
                liquid=stock_liquid,
            )

    def by_local_symbol(self, local_symbol: str) -> Security | None:
        for sec in self.securities.values():
            if sec.local_symbol == local_symbol:
                return sec
        return None

    def match(self, fields: list[str], *, live_on: date | None = None) -> list[Security]:
        """Securities matching a request's 12 contract fields (conId, symbol, secType, lastTrade, strike,
        right, multiplier, exchange, primaryExchange, currency, localSymbol, tradingClass); with
        `live_on`, futures that expired before that day are left out (as IB does without includeExpired)."""
        con_id, symbol, sec_type, last_trade = fields[0], fields[1], fields[2], fields[3]
        exchange, currency, local_symbol = fields[7], fields[9], fields[10]
        if con_id and con_id != "0":
            sec = self.securities.get(int(con_id))
            return [] if sec is None else [sec]
        out = []
        for sec in self.securities.values():
            if local_symbol and sec.local_symbol != local_symbol:
                continue
            if symbol and sec.symbol != symbol.upper():
                continue
            if sec_type and sec.sec_type != sec_type.upper():
                continue
            if last_trade and not (sec.last_trade.startswith(last_trade) or sec.contract_month == last_trade):
                continue
            if currency and sec.currency != currency.upper():
                continue
            if sec.sec_type == "FUT" and exchange.upper() not in _FUTURE_EXCHANGES:
                continue
            if sec.sec_type == "STK" and exchange and exchange.upper() not in ("SMART", sec.primary_exchange):
                continue
            if not (symbol or local_symbol):
                continue
            if live_on is not None and sec.last_trade and sec.last_trade < f"{live_on:%Y%m%d}":
                continue
            out.append(sec)
        return sorted(out, key=lambda s: (s.last_trade, s.con_id))


def _stable_id(key: str) -> int:
    """A conId that is the same in every run (Python's `hash` of a str is salted per process)."""
    value = 0
    for ch in key.encode():
        value = (value * 131 + ch) % 900_000_000
    return 100_000_000 + value
