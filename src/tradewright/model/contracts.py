"""Futures contract specifications: the grid, the multiplier and the trading sessions of a few contracts.

A small table, not a reference data service: enough to backtest the bar files in ../shared/data/bars and
the contracts people ask for first. Each entry's figures are the exchange's published contract terms
(CME Group contract specifications). Sessions are in America/Chicago time, so they follow US daylight
saving: the electronic ("globex") trading day opens at 17:00 and closes at 16:00 the next day; "rth"
is the regular (day) session that opening-range strategies start from.

| root | contract | tick | multiplier | tick value | rth (Chicago) |
|---|---|---|---|---|---|
| ES  | E-mini S&P 500       | 0.25    | 50      | 12.50 USD | 08:30-15:15 |
| MES | Micro E-mini S&P 500 | 0.25    | 5       | 1.25 USD  | 08:30-15:15 |
| NQ  | E-mini Nasdaq-100    | 0.25    | 20      | 5.00 USD  | 08:30-15:15 |
| MNQ | Micro E-mini Nasdaq  | 0.25    | 2       | 0.50 USD  | 08:30-15:15 |
| 6E  | Euro FX              | 0.00005 | 125,000 | 6.25 USD  | 07:20-14:00 |
| CL  | WTI crude oil        | 0.01    | 1,000   | 10.00 USD | 08:00-13:30 |
| GC  | Gold                 | 0.10    | 100     | 10.00 USD | 07:20-12:30 |

Fees are not part of the table (they depend on the broker): set `venue.maker_fee` / `venue.taker_fee`.
"""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.instrument import Instrument, InstrumentKind, TradingSession

__all__ = ["CONTRACTS", "ContractSpec", "contract_root", "futures_instrument"]

_CHICAGO = "America/Chicago"
# Month codes F G H J K M N Q U V X Z, then a one- or two-digit year: 6EH4 -> 6E, MNQZ24 -> MNQ.
_SYMBOL = re.compile(r"^(?P<root>[A-Z0-9]+?)[FGHJKMNQUVXZ]\d{1,2}$")


class ContractSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One futures contract's terms. `multiplier` is the currency value of a price move of 1.0."""

    root: str
    name: str
    exchange: str
    tick_size: Decimal
    multiplier: Decimal
    currency: str = "USD"
    lot_size: Decimal = Decimal(1)
    sessions: tuple[TradingSession, ...] = ()

    @property
    def tick_value(self) -> Decimal:
        """Currency value of one tick per contract (MNQ: 0.25 x 2 = 0.50 USD)."""
        return self.tick_size * self.multiplier


def _cme(rth_open: str, rth_close: str) -> tuple[TradingSession, ...]:
    return (
        TradingSession(name="globex", tz=_CHICAGO, open="17:00", close="16:00"),
        TradingSession(name="rth", tz=_CHICAGO, open=rth_open, close=rth_close),
    )


def _spec(
    root: str, name: str, exchange: str, tick: str, multiplier: int, rth: tuple[str, str]
) -> ContractSpec:
    return ContractSpec(
        root=root,
        name=name,
        exchange=exchange,
        tick_size=Decimal(tick),
        multiplier=Decimal(multiplier),
        sessions=_cme(*rth),
    )


CONTRACTS: dict[str, ContractSpec] = {
    spec.root: spec
    for spec in (
        _spec("ES", "E-mini S&P 500", "XCME", "0.25", 50, ("08:30", "15:15")),
        _spec("MES", "Micro E-mini S&P 500", "XCME", "0.25", 5, ("08:30", "15:15")),
        _spec("NQ", "E-mini Nasdaq-100", "XCME", "0.25", 20, ("08:30", "15:15")),
        _spec("MNQ", "Micro E-mini Nasdaq-100", "XCME", "0.25", 2, ("08:30", "15:15")),
        _spec("6E", "Euro FX", "XCME", "0.00005", 125_000, ("07:20", "14:00")),
        _spec("CL", "WTI crude oil", "XNYM", "0.01", 1_000, ("08:00", "13:30")),
        _spec("GC", "Gold", "XCEC", "0.10", 100, ("07:20", "12:30")),
    )
}


def contract_root(symbol: str) -> str | None:
    """The contract root of a dated futures symbol (``6EH4`` -> ``6E``), or None if it is not one we know."""
    match = _SYMBOL.match(symbol.upper())
    if match is not None and match.group("root") in CONTRACTS:
        return match.group("root")
    return symbol.upper() if symbol.upper() in CONTRACTS else None


def futures_instrument(
    instrument_id: InstrumentId | str,
    root: str | None = None,
    *,
    maker_fee: Decimal = Decimal(0),
    taker_fee: Decimal = Decimal(0),
) -> Instrument:
    """Build the instrument of a dated contract from the table, e.g. ``futures_instrument("6EH4.XCME")``.

    The root is read from the symbol unless given. Raises `KeyError` naming the roots the table knows.
    """
    iid = InstrumentId.parse(instrument_id) if isinstance(instrument_id, str) else instrument_id
    key = root.upper() if root else contract_root(iid.symbol)
    if key is None or key not in CONTRACTS:
        raise KeyError(
            f"no contract spec for {root or iid.symbol!r}; the table knows {', '.join(sorted(CONTRACTS))}"
        )
    spec = CONTRACTS[key]
    return Instrument(
        id=iid,
        kind=InstrumentKind.FUTURE,
        base=spec.root,
        quote=spec.currency,
        settle=spec.currency,
        tick_size=spec.tick_size,
        lot_size=spec.lot_size,
        min_size=spec.lot_size,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        multiplier=spec.multiplier,
        sessions=spec.sessions,
    )
