"""Accounts: spot balances (free/locked per asset) and USD-M wallets with one-way positions.

Every amount is an exact `Decimal`. Spot follows Binance's rules: a buy locks quote at its limit price
and gets its price improvement back on fill; the commission is taken from the asset received (base for a
buy, quote for a sell). USD-M: the commission and the realised PnL settle in the wallet; a position's
entry price is the size-weighted average of the fills that opened it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["Account", "FuturesPosition", "SpotBalance"]

ZERO = Decimal(0)


@dataclass(slots=True)
class SpotBalance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass(slots=True)
class FuturesPosition:
    amount: Decimal = ZERO  # signed: long > 0
    entry_price: Decimal = ZERO
    realized: Decimal = ZERO  # accumulated realised PnL before fees ("cr")
    open_fees: Decimal = ZERO  # commissions paid by the fills that opened the current position
    update_ms: int = 0

    def break_even(self) -> Decimal:
        if self.amount == 0:
            return ZERO
        return self.entry_price + self.open_fees / self.amount

    def apply_fill(self, sign: int, qty: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        """Apply a fill of `qty` on side `sign` at `price`; return the realised PnL (before fees)."""
        signed = sign * qty
        if self.amount == 0 or (self.amount > 0) == (signed > 0):
            total = abs(self.amount) + qty
            self.entry_price = (abs(self.amount) * self.entry_price + qty * price) / total
            self.amount += signed
            self.open_fees += fee
            return ZERO
        closing = min(qty, abs(self.amount))
        direction = 1 if self.amount > 0 else -1
        realized = (price - self.entry_price) * closing * direction
        old = abs(self.amount)
        self.amount += signed
        self.realized += realized
        if self.amount == 0:
            self.entry_price = ZERO
            self.open_fees = ZERO
        elif qty > old:  # flipped: the rest opens a new position at this fill's price
            self.entry_price = price
            self.open_fees = fee * (qty - old) / qty
        else:
            self.open_fees = self.open_fees * abs(self.amount) / old
        return realized


@dataclass(slots=True)
class Account:
    """One API key's money. Spot uses `balances`; USD-M uses `wallet` and `positions`."""

    api_key: str
    secret: str | None = field(repr=False)  # in memory only (from the environment); None: not configured
    leverage: int = 20
    balances: dict[str, SpotBalance] = field(default_factory=dict)
    wallet: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, FuturesPosition] = field(default_factory=dict)
    update_ms: int = 0
    dirty: bool = True
    secret_hash: str = field(default="", repr=False)  # what the state file keeps (`keyhash`)

    # --- spot ------------------------------------------------------------------------------------
    def balance(self, asset: str) -> SpotBalance:
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = SpotBalance()
        return found

    def lock(self, asset: str, amount: Decimal) -> bool:
        """Move `amount` from free to locked; False (and nothing changes) if free is short."""
        bal = self.balance(asset)
        if amount > bal.free:
            return False
        bal.free -= amount
        bal.locked += amount
        self.dirty = True
        return True

    def unlock(self, asset: str, amount: Decimal) -> None:
        bal = self.balance(asset)
        amount = min(amount, bal.locked)
        bal.locked -= amount
        bal.free += amount
        self.dirty = True

    def spend_locked(self, asset: str, locked_part: Decimal, total: Decimal) -> None:
        """Pay `total`, taking `locked_part` of it from locked and the rest from free."""
        bal = self.balance(asset)
        locked_part = min(locked_part, bal.locked)
        bal.locked -= locked_part
        bal.free -= total - locked_part
        self.dirty = True

    def credit(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).free += amount
        self.dirty = True

    # --- USD-M -----------------------------------------------------------------------------------
    def position(self, symbol: str) -> FuturesPosition:
        found = self.positions.get(symbol)
        if found is None:
            found = self.positions[symbol] = FuturesPosition()
        return found

    def wallet_balance(self, asset: str) -> Decimal:
        return self.wallet.get(asset, ZERO)

    def add_wallet(self, asset: str, amount: Decimal) -> None:
        self.wallet[asset] = self.wallet.get(asset, ZERO) + amount
        self.dirty = True
