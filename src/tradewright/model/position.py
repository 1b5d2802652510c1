"""A position in one instrument: signed size, entry price, realised PnL and fees — all exact.

Open size is kept as FIFO lots (price, size), so realised PnL (exit - entry) x size x multiplier and
unrealised PnL at a mark are sums of exact products: no division ever touches money. `avg_px` is the
size-weighted entry price of what is open, for display.
"""

from __future__ import annotations

from collections import deque
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

    __slots__ = ("_cost", "_lots", "fees", "instrument", "quantity", "realized_pnl", "traded_volume")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.quantity = _ZERO
        self.realized_pnl = _ZERO
        self.fees = _ZERO
        self.traded_volume = _ZERO
        self._lots: deque[list[Decimal]] = deque()  # [price, size > 0], oldest first
        self._cost = _ZERO  # sum of price x size over the open lots (exact), for O(1) unrealised PnL

    @classmethod
    def restore(
        cls,
        instrument: Instrument,
        *,
        quantity: Decimal,
        realized_pnl: Decimal,
        fees: Decimal,
        traded_volume: Decimal = _ZERO,
        lots: list[tuple[Decimal, Decimal]] | None = None,
        avg_px: Decimal | None = None,
    ) -> Position:
        """Rebuild a position from storage: from its open lots (exact), or from one average price."""
        pos = cls(instrument)
        pos.quantity = quantity
        pos.realized_pnl = realized_pnl
        pos.fees = fees
        pos.traded_volume = traded_volume
        if lots is None:
            lots = [] if quantity == 0 else [(avg_px if avg_px is not None else _ZERO, abs(quantity))]
        if sum((size for _, size in lots), _ZERO) != abs(quantity):
            raise ValueError(f"{instrument.id}: open lots do not add up to the position {quantity}")
        pos._lots.extend([price, size] for price, size in lots)
        pos._cost = sum((price * size for price, size in lots), _ZERO)
        return pos

    def open_lots(self) -> list[tuple[Decimal, Decimal]]:
        """The open (price, size) lots, oldest first (sizes are positive)."""
        return [(lot[0], lot[1]) for lot in self._lots]

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def avg_px(self) -> Decimal:
        """Size-weighted entry price of the open size (0 when flat); for display, not for PnL."""
        if not self._lots:
            return _ZERO
        if self.instrument.inverse:
            size = sum((lot[1] for lot in self._lots), _ZERO)
            return size / sum((lot[1] / lot[0] for lot in self._lots), _ZERO)
        return self._cost / abs(self.quantity)

    def apply_fill(self, side: OrderSide, price: Decimal, size: Decimal, fee: Decimal = _ZERO) -> Decimal:
        """Apply a fill; return the PnL it realised (before fees)."""
        self.fees += fee
        self.traded_volume += size
        direction = 1 if side is OrderSide.BUY else -1
        held = 1 if self.quantity > 0 else -1 if self.quantity < 0 else 0
        remaining = size
        realized = _ZERO
        if held != 0 and held != direction:
            lots = self._lots
            while remaining > 0 and lots:
                lot = lots[0]
                take = min(lot[1], remaining)
                realized += self._pnl(held * take, lot[0], price)
                self._cost -= lot[0] * take
                lot[1] -= take
                remaining -= take
                if lot[1] == 0:
                    lots.popleft()
        if remaining > 0:
            self._lots.append([price, remaining])
            self._cost += price * remaining
        self.quantity += direction * size
        self.realized_pnl += realized
        return realized

    @property
    def cost_basis(self) -> Decimal:
        """Sum of price x size over the open lots (exact); with `unrealized_from_cost` it marks a past state."""
        return self._cost

    @staticmethod
    def unrealized_from_cost(
        instrument: Instrument, quantity: Decimal, cost: Decimal, mark: Decimal
    ) -> Decimal:
        """Unrealised PnL of a linear position given its signed size and cost basis (exact)."""
        if quantity == 0:
            return _ZERO
        if instrument.inverse:
            raise ValueError(
                f"{instrument.id}: inverse positions need their lots to mark (use unrealized_pnl)"
            )
        return (mark * abs(quantity) - cost) * (1 if quantity > 0 else -1) * instrument.multiplier

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        if self.quantity == 0:
            return _ZERO
        if self.instrument.inverse:
            held = 1 if self.quantity > 0 else -1
            return sum((self._pnl(held * lot[1], lot[0], mark) for lot in self._lots), _ZERO)
        # Linear: sum over lots of (mark - price) x size, kept as mark x |qty| - cost (exact, O(1)).
        return (
            (mark * abs(self.quantity) - self._cost)
            * (1 if self.quantity > 0 else -1)
            * self.instrument.multiplier
        )

    def _pnl(self, signed_qty: Decimal, entry: Decimal, exit_: Decimal) -> Decimal:
        inst = self.instrument
        if inst.inverse:
            return signed_qty * inst.multiplier * (1 / entry - 1 / exit_)
        return signed_qty * (exit_ - entry) * inst.multiplier

    def __repr__(self) -> str:
        return (
            f"Position({self.instrument.id} qty={self.quantity} avg={self.avg_px} rpnl={self.realized_pnl})"
        )
