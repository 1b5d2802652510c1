"""A position in one instrument: signed size, average entry price, realised PnL and fees (exact)."""

from __future__ import annotations

from decimal import Decimal

from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument

__all__ = ["Position"]

_ZERO = Decimal(0)


class Position:
    """Net position. `quantity` > 0 is long. PnL is in the instrument's settlement currency.

    Realised PnL excludes fees; `fees` holds what was paid (negative = rebates received), so net
    realised PnL is `realized_pnl - fees`.
    """

    __slots__ = ("avg_px", "fees", "instrument", "quantity", "realized_pnl", "traded_volume")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.quantity = _ZERO
        self.avg_px = _ZERO
        self.realized_pnl = _ZERO
        self.fees = _ZERO
        self.traded_volume = _ZERO

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    def apply_fill(self, side: OrderSide, price: Decimal, size: Decimal, fee: Decimal = _ZERO) -> Decimal:
        """Apply a fill; return the PnL it realised (before fees)."""
        signed = size if side is OrderSide.BUY else -size
        self.fees += fee
        self.traded_volume += size
        old = self.quantity
        realized = _ZERO
        if old == 0 or (old > 0) == (signed > 0):
            # Opening or adding: the average price moves to the size-weighted mean.
            new = old + signed
            self.avg_px = self._weighted_avg(old, signed, price)
            self.quantity = new
            return _ZERO
        closing = min(abs(signed), abs(old))
        direction = 1 if old > 0 else -1
        realized = self._pnl(direction * closing, self.avg_px, price)
        self.realized_pnl += realized
        new = old + signed
        if new == 0:
            self.avg_px = _ZERO
        elif (new > 0) != (old > 0):
            self.avg_px = price  # flipped: the rest opened at this fill's price
        self.quantity = new
        return realized

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        if self.quantity == 0:
            return _ZERO
        return self._pnl(self.quantity, self.avg_px, mark)

    def _pnl(self, signed_qty: Decimal, entry: Decimal, exit_: Decimal) -> Decimal:
        inst = self.instrument
        if inst.inverse:
            return signed_qty * inst.multiplier * (1 / entry - 1 / exit_)
        return signed_qty * (exit_ - entry) * inst.multiplier

    def _weighted_avg(self, old: Decimal, add: Decimal, price: Decimal) -> Decimal:
        if old == 0:
            return price
        if self.instrument.inverse:
            # Inverse contracts average in 1/price space.
            return (abs(old) + abs(add)) / (abs(old) / self.avg_px + abs(add) / price)
        return (self.avg_px * abs(old) + price * abs(add)) / (abs(old) + abs(add))

    def __repr__(self) -> str:
        return f"Position({self.instrument.id} qty={self.quantity} avg={self.avg_px} rpnl={self.realized_pnl})"
