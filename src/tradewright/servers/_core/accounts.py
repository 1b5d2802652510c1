"""Accounts of a local venue server: API keys, balances, positions, and the markets they trade.

Money is exact (Decimal). Spot orders lock what they may spend (quote for a buy at its limit price,
base for a sell) and a fill moves both assets, the fee taken in the quote currency. Linear contracts
(USDT-margined swaps and futures) keep one net position per market with its entry price; a fill that
reduces it realises PnL into the settlement balance; the initial margin of open orders and positions at
the account's leverage must fit the balance.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from tradewright.model.instrument import Instrument

__all__ = ["ZERO", "Account", "Balance", "MarketKind", "Position", "SimMarket"]

ZERO = Decimal(0)


class MarketKind(enum.StrEnum):
    SPOT = "spot"
    LINEAR = "linear"  # contracts settled in the quote currency (USDT swaps)
    INVERSE = "inverse"  # contracts settled in the base currency (market data only here)


@dataclass(frozen=True, slots=True)
class SimMarket:
    """One market a server trades: the venue's id and the exact grid (in the venue's own size units,
    contracts for derivatives; `instrument.multiplier` is the contract value in base units)."""

    symbol: str
    kind: MarketKind
    instrument: Instrument
    base: str
    quote: str
    settle: str


@dataclass(slots=True)
class Balance:
    total: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def free(self) -> Decimal:
        return self.total - self.locked


@dataclass(slots=True)
class Position:
    """A net position in contracts (long > 0) with its average entry price."""

    qty: Decimal = ZERO
    entry_px: Decimal = ZERO
    realized: Decimal = ZERO
    updated_ms: int = 0


@dataclass(slots=True)
class Account:
    """One API key's account. `secret`/`passphrase` never appear in a repr."""

    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    leverage: int = 10
    balances: dict[str, Balance] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    uid: str = "1"

    def balance(self, ccy: str) -> Balance:
        bal = self.balances.get(ccy)
        if bal is None:
            bal = self.balances[ccy] = Balance()
        return bal

    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position()
        return pos

    def used_margin(self, markets: dict[str, SimMarket], open_notional: dict[str, Decimal]) -> Decimal:
        """Initial margin of positions (at entry) and of open orders, in each market's settle currency."""
        total = ZERO
        for symbol, pos in self.positions.items():
            market = markets.get(symbol)
            if market is not None and pos.qty:
                total += abs(pos.qty) * pos.entry_px * market.instrument.multiplier / self.leverage
        for notional in open_notional.values():
            total += notional / self.leverage
        return total

    def apply_linear_fill(
        self, market: SimMarket, signed_qty: Decimal, price: Decimal, fee: Decimal, ts_ms: int
    ) -> None:
        """Book a contract fill: realise PnL on the part that reduces the position, pay the fee."""
        pos = self.position(market.symbol)
        mult = market.instrument.multiplier
        realized = ZERO
        if pos.qty and (pos.qty > 0) != (signed_qty > 0):
            closing = min(abs(signed_qty), abs(pos.qty))
            direction = 1 if pos.qty > 0 else -1
            realized = (price - pos.entry_px) * closing * mult * direction
            remaining = pos.qty + signed_qty
            if remaining == 0:
                pos.entry_px = ZERO
            elif (remaining > 0) != (pos.qty > 0):
                pos.entry_px = price  # flipped: the rest opened at this price
            pos.qty = remaining
        else:
            new_qty = pos.qty + signed_qty
            pos.entry_px = (pos.entry_px * abs(pos.qty) + price * abs(signed_qty)) / abs(new_qty)
            pos.qty = new_qty
        pos.realized += realized
        pos.updated_ms = ts_ms
        self.balance(market.settle).total += realized - fee
