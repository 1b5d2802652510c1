"""Balances and positions across instruments, marked to market exactly.

Accounting: every fill moves cash in the settlement currency by -side × price × size × multiplier
(inverse contracts: +side × size × multiplier / price) and by -fee; a position is valued at
size × mark × multiplier (inverse: -size × multiplier / mark). So at every step
`equity == cash + Σ position value`, and equity - starting cash == realised + unrealised - fees.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradewright.core.ids import InstrumentId
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument
from tradewright.model.position import Position

__all__ = ["Portfolio"]

_ZERO = Decimal(0)


class Portfolio:
    """Cash per currency and one net position per instrument."""

    __slots__ = ("_balances", "_positions", "starting_balances")

    def __init__(self, starting_balances: Mapping[str, Decimal] | None = None) -> None:
        self.starting_balances: dict[str, Decimal] = dict(starting_balances or {})
        self._balances: dict[str, Decimal] = dict(self.starting_balances)
        self._positions: dict[InstrumentId, Position] = {}

    def position(self, instrument: Instrument) -> Position:
        pos = self._positions.get(instrument.id)
        if pos is None:
            pos = self._positions[instrument.id] = Position(instrument)
        return pos

    def find_position(self, instrument_id: InstrumentId) -> Position | None:
        return self._positions.get(instrument_id)

    @property
    def positions(self) -> list[Position]:
        return list(self._positions.values())

    def balance(self, currency: str) -> Decimal:
        return self._balances.get(currency, _ZERO)

    @property
    def balances(self) -> dict[str, Decimal]:
        return dict(self._balances)

    def set_balance(self, currency: str, amount: Decimal) -> None:
        """Overwrite a balance (reconciliation with a venue)."""
        self._balances[currency] = amount

    def apply_fill(
        self,
        instrument: Instrument,
        side: OrderSide,
        price: Decimal,
        size: Decimal,
        fee: Decimal,
        fee_currency: str,
    ) -> Position:
        """Book a fill: move cash, charge the fee, update the position; return the position."""
        settle = instrument.settle
        sign = 1 if side is OrderSide.BUY else -1
        if instrument.inverse:
            flow = sign * size * instrument.multiplier / price
        else:
            flow = -sign * price * size * instrument.multiplier
        self._balances[settle] = self._balances.get(settle, _ZERO) + flow
        self._balances[fee_currency] = self._balances.get(fee_currency, _ZERO) - fee
        pos = self.position(instrument)
        pos.apply_fill(side, price, size, fee if fee_currency == settle else _ZERO)
        return pos

    def settle(self, instrument: Instrument, settlement_px: Decimal) -> Decimal:
        """Close a position at a settlement price (expiry, prediction-market resolution); return realised PnL."""
        pos = self.position(instrument)
        if pos.quantity == 0:
            return _ZERO
        side = OrderSide.SELL if pos.quantity > 0 else OrderSide.BUY
        before = pos.realized_pnl
        self.apply_fill(instrument, side, settlement_px, abs(pos.quantity), _ZERO, instrument.settle)
        return pos.realized_pnl - before

    def position_value(self, instrument: Instrument, mark: Decimal) -> Decimal:
        pos = self._positions.get(instrument.id)
        if pos is None or pos.quantity == 0:
            return _ZERO
        if instrument.inverse:
            return -pos.quantity * instrument.multiplier / mark
        return pos.quantity * mark * instrument.multiplier

    def equity(self, currency: str, marks: Mapping[InstrumentId, Decimal]) -> Decimal:
        """Cash plus the value of every position settled in `currency`, at the given marks."""
        total = self._balances.get(currency, _ZERO)
        for pos in self._positions.values():
            inst = pos.instrument
            if inst.settle != currency or pos.quantity == 0:
                continue
            mark = marks.get(inst.id)
            if mark is None:
                raise KeyError(f"no mark price for {inst.id}")
            total += self.position_value(inst, mark)
        return total
