"""Contract resolution: a configured instrument -> IB's one qualified contract -> our instrument.

Futures without an explicit month take the front contract by CME's roll rule on the gateway's own
date (`reqCurrentTime`, in Chicago), so a node started the day after the roll trades the new month.
A request IB cannot answer with exactly one contract stops the start with the candidates named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ib_async import Contract, Future, Stock

from tradewright.core.errors import ConfigError
from tradewright.model.calendar import ContractMonth, front_contract
from tradewright.model.instrument import Instrument
from tradewright.venues.ib.config import IbInstrumentConfig
from tradewright.venues.ib.parsing import ib_contract, instrument_of
from tradewright.venues.ib.schemas import IbContract
from tradewright.venues.ib.session import IbSession

__all__ = ["Resolved", "request_contract", "resolve", "venue_date"]

_DATED = re.compile(r"^[A-Z0-9]+[FGHJKMNQUVXZ]\d{1,2}$")
_CHICAGO = ZoneInfo("America/Chicago")


@dataclass(frozen=True, slots=True)
class Resolved:
    """One tradable contract: IB's qualified `Contract`, its facts and our instrument."""

    contract: Any
    facts: IbContract
    instrument: Instrument


async def venue_date(session: IbSession) -> date:
    """The gateway's current date in Chicago (where CME's roll dates are)."""
    now: datetime = await session.ib.reqCurrentTimeAsync()
    return now.astimezone(_CHICAGO).date()


def request_contract(cfg: IbInstrumentConfig, today: date) -> Contract:
    """The contract to ask IB about (not yet qualified)."""
    symbol = cfg.symbol.upper()
    if cfg.sec_type == "STK":
        return Stock(symbol, cfg.route, cfg.currency, primaryExchange=cfg.primary_exchange)
    if _DATED.match(symbol) and not cfg.contract_month:
        month = ContractMonth.parse(symbol, near=today.year)
        return Future(month.root, month.yyyymm, cfg.route, currency=cfg.currency)
    if cfg.contract_month:
        return Future(symbol, cfg.contract_month, cfg.route, currency=cfg.currency)
    month = front_contract(symbol, today, roll_days=cfg.roll_days)  # ConfigError for roots without rules
    return Future(symbol, month.yyyymm, cfg.route, currency=cfg.currency)


async def resolve(session: IbSession, cfg: IbInstrumentConfig, today: date) -> Resolved:
    """Qualify one configured instrument; `ConfigError` when IB finds none, or more than one."""
    request = request_contract(cfg, today)
    what = f"{cfg.sec_type} {request.symbol} {request.lastTradeDateOrContractMonth or ''} on {request.exchange}".strip()
    details = await session.ib.reqContractDetailsAsync(request)
    if not details:
        errors = "; ".join(f"error {c}: {t}" for c, t in _recent_errors(session)) or "no answer"
        raise ConfigError(f"IB knows no contract for {what} ({errors}): check the symbol, month and exchange")
    if len(details) > 1:
        names = ", ".join(sorted(str(d.contract.localSymbol) for d in details if d.contract is not None))
        raise ConfigError(
            f"{what} is ambiguous at IB ({names}): name the month (`contract_month`), the exchange or the "
            "primary exchange"
        )
    facts = ib_contract(details[0])
    return Resolved(details[0].contract, facts, instrument_of(facts, session.config.venue))


def _recent_errors(session: IbSession) -> list[tuple[int, str]]:
    return [(code, text) for _, code, text in session._errors[-3:] if code == 200]
