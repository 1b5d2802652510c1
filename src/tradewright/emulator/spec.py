"""What distinguishes the two emulated Binance APIs: paths, number formats, filters and error codes.

Spot (``/api/v3``) writes every price and quantity with 8 decimals ("61837.63000000"); USD-M futures
(``/fapi/v1``) write prices with the symbol's ``pricePrecision`` and quantities with its
``quantityPrecision`` ("61800.20", "2.507"), exactly as the recordings in ../shared/data show.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tradewright.core.errors import ConfigError
from tradewright.model.instrument import Instrument, InstrumentKind

__all__ = ["DecimalFormatter", "VenueKind", "VenueSpec", "fmt_decimal", "venue_spec"]


class VenueKind(enum.StrEnum):
    SPOT = "binance-spot"
    USDM = "binance-usdm"


def fmt_decimal(value: Decimal, places: int) -> str:
    """Format exactly with `places` decimals (rounded half-up when the value has more), never in E-notation."""
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):f}"


class DecimalFormatter:
    """Format an integer count of `step` (ticks or lots) with a fixed number of decimals, without Decimal.

    The replay writes millions of levels; integer arithmetic keeps that cheap and exact.
    """

    __slots__ = ("_mult", "_places", "_scale", "step")

    def __init__(self, step: Decimal, places: int) -> None:
        sign, digits, exponent = step.normalize().as_tuple()
        assert isinstance(exponent, int)
        if sign or -exponent > places:
            raise ConfigError(f"step {step} cannot be written with {places} decimals")
        self.step = step
        self._places = places
        self._mult = int("".join(map(str, digits))) * 10 ** (places + exponent)
        self._scale = 10**places

    def fmt(self, count: int) -> str:
        value = count * self._mult
        if self._places == 0:
            return str(value)
        whole, frac = divmod(value, self._scale)
        return f"{whole}.{frac:0{self._places}d}"


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """One emulated market: its Binance symbol, grid, filters and wire formats."""

    kind: VenueKind
    symbol: str
    instrument: Instrument
    price_precision: int  # decimals of prices on the wire
    qty_precision: int  # decimals of quantities on the wire
    quote_precision: int  # decimals of quote amounts, commissions, balances
    step_size: Decimal  # order quantity step (may be coarser than the book's lot)
    min_qty: Decimal
    max_qty: Decimal
    min_price: Decimal
    max_price: Decimal
    min_notional: Decimal

    @property
    def futures(self) -> bool:
        return self.kind is VenueKind.USDM

    @property
    def rest_prefix(self) -> str:
        return "/fapi/v1" if self.futures else "/api/v3"

    @property
    def base(self) -> str:
        return self.instrument.base

    @property
    def quote(self) -> str:
        return self.instrument.quote

    def price_fmt(self) -> DecimalFormatter:
        return DecimalFormatter(self.instrument.tick_size, self.price_precision)

    def qty_fmt(self) -> DecimalFormatter:
        return DecimalFormatter(self.instrument.lot_size, self.qty_precision)

    def price(self, value: Decimal) -> str:
        return fmt_decimal(value, self.price_precision)

    def qty(self, value: Decimal) -> str:
        return fmt_decimal(value, self.qty_precision)

    def amount(self, value: Decimal) -> str:
        """Quote amounts, commissions, balances, PnL."""
        return fmt_decimal(value, self.quote_precision)


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def venue_spec(kind: VenueKind, instrument: Instrument, *, min_notional: Decimal | None = None) -> VenueSpec:
    """Build the spec of `instrument` as Binance `kind` lists it (symbol = base + quote, e.g. BTCUSDT)."""
    if kind is VenueKind.SPOT and instrument.kind is not InstrumentKind.SPOT:
        raise ConfigError(
            f"--venue binance-spot needs a spot recording; {instrument.id} is {instrument.kind}"
        )
    if kind is VenueKind.USDM and (instrument.kind is not InstrumentKind.PERPETUAL or instrument.inverse):
        raise ConfigError(
            f"--venue binance-usdm needs a USD-M perpetual recording; {instrument.id} is not one"
        )
    step = instrument.min_size if instrument.min_size > 0 else instrument.lot_size
    if step % instrument.lot_size != 0:
        raise ConfigError(
            f"{instrument.id}: min size {step} is not a multiple of the lot {instrument.lot_size}"
        )
    if kind is VenueKind.SPOT:
        return VenueSpec(
            kind=kind,
            symbol=instrument.base + instrument.quote,
            instrument=instrument,
            price_precision=8,
            qty_precision=8,
            quote_precision=8,
            step_size=step,
            min_qty=step,
            max_qty=Decimal(9000),
            min_price=instrument.tick_size,
            max_price=Decimal(1_000_000),
            min_notional=Decimal(5) if min_notional is None else min_notional,
        )
    return VenueSpec(
        kind=kind,
        symbol=instrument.base + instrument.quote,
        instrument=instrument,
        # USD-M writes prices with the symbol's pricePrecision, 2 for BTCUSDT although its tick is 0.10
        # ("61800.20" in the recording), so never fewer than 2 decimals.
        price_precision=max(2, _decimals(instrument.tick_size)),
        qty_precision=_decimals(instrument.lot_size),
        quote_precision=8,
        step_size=step,
        min_qty=step,
        max_qty=Decimal(1000),
        min_price=Decimal("556.80"),
        max_price=Decimal("4529764"),
        min_notional=Decimal(100) if min_notional is None else min_notional,
    )
