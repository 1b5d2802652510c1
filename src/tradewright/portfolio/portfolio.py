"""Balances and positions across instruments, marked to market exactly.

Accounting: every fill moves cash in the settlement currency by -side × price × size × multiplier
(inverse contracts: +side × size × multiplier / price) and by -fee; a position is valued at
size × mark × multiplier (inverse: -size × multiplier / mark). So at every step
`equity == cash + Σ position value`, and equity - starting cash == realised + unrealised - fees.

Exposure is measured in the quote currency: size × price × multiplier (inverse: size × multiplier).
A prediction-market outcome token (`InstrumentKind.BINARY_OUTCOME`) counts as its worst-case loss:
price × size when long (it may settle at 0), (1 - price) × size when short (it may settle at 1).

Marks come from the book's mid or from the last trade (`MarkPrice`); a one-sided book marks at its
only side, and an instrument that never traded marks at its mid.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal

import msgspec

from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide
from tradewright.model.events import MarketResolved
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.position import Position

__all__ = ["MarkPrice", "Portfolio", "PortfolioSnapshot"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class MarkPrice(enum.StrEnum):
    """Which price values an open position."""

    MID = "mid"
    LAST_TRADE = "last_trade"


class PortfolioSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One currency's figures at one time (exact): equity - starting = realised + unrealised - fees."""

    ts_ns: int
    currency: str
    cash: Decimal
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal


class Portfolio:
    """Cash per currency and one net position per instrument."""

    __slots__ = ("_balances", "_fees", "_last_trade", "_positions", "mark_price", "starting_balances")

    def __init__(
        self, starting_balances: Mapping[str, Decimal] | None = None, *, mark_price: MarkPrice = MarkPrice.MID
    ) -> None:
        self.starting_balances: dict[str, Decimal] = dict(starting_balances or {})
        self._balances: dict[str, Decimal] = dict(self.starting_balances)
        self._positions: dict[InstrumentId, Position] = {}
        self._fees: dict[str, Decimal] = {}
        self._last_trade: dict[InstrumentId, Decimal] = {}
        self.mark_price = mark_price

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
        self._fees[fee_currency] = self._fees.get(fee_currency, _ZERO) + fee
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

    def apply_resolution(self, instrument: Instrument, event: MarketResolved) -> Decimal:
        """Settle an outcome token at its resolution: the position closes at `event.settlement_px`
        (1 won, 0 lost, 0.5 on a 50-50), paying exactly size × price into cash; return the realised PnL.

        Refuses an event for another instrument, or a settlement price outside [0, 1].
        """
        if event.instrument_id != instrument.id:
            raise ValueError(f"resolution of {event.instrument_id} cannot settle {instrument.id}")
        if instrument.kind is not InstrumentKind.BINARY_OUTCOME:
            raise ValueError(f"{instrument.id} is not an outcome token; only those settle by resolution")
        if not _ZERO <= event.settlement_px <= _ONE:
            raise ValueError(f"{instrument.id}: settlement price {event.settlement_px} is outside [0, 1]")
        return self.settle(instrument, event.settlement_px)

    def position_value(self, instrument: Instrument, mark: Decimal) -> Decimal:
        pos = self._positions.get(instrument.id)
        return _ZERO if pos is None else self.value_at(instrument, pos.quantity, mark)

    @staticmethod
    def value_at(instrument: Instrument, quantity: Decimal, mark: Decimal) -> Decimal:
        """Value of `quantity` (signed) at `mark` in the settlement currency."""
        if quantity == 0:
            return _ZERO
        if instrument.inverse:
            return -quantity * instrument.multiplier / mark
        return quantity * mark * instrument.multiplier

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

    # --- marks ------------------------------------------------------------------------------
    @property
    def wants_trades(self) -> bool:
        """True when marks come from trades (the kernel must then pass every public trade on)."""
        return self.mark_price is MarkPrice.LAST_TRADE

    def record_trade(self, instrument_id: InstrumentId, price: Decimal) -> None:
        """Remember a public trade's price (the mark when `mark_price` is LAST_TRADE)."""
        self._last_trade[instrument_id] = price

    def mark(self, instrument_id: InstrumentId, book: OrderBook | None) -> Decimal | None:
        """The price that values a position now, or None when there is none (empty book, no trade)."""
        if self.mark_price is MarkPrice.LAST_TRADE:
            last = self._last_trade.get(instrument_id)
            if last is not None:
                return last
        if book is None:
            return None
        bid, ask = book.best_bid_tick, book.best_ask_tick
        if bid is not None and ask is not None:
            return book.instrument.tick_size * (bid + ask) / 2
        one_side = bid if bid is not None else ask
        return None if one_side is None else book.instrument.ticks_to_price(one_side)

    # --- exposure ---------------------------------------------------------------------------
    @staticmethod
    def exposure_value(instrument: Instrument, quantity: Decimal, price: Decimal) -> Decimal:
        """Signed exposure in the quote currency of a signed `quantity` at `price` (see module docstring).

        The magnitude is what is at risk; the sign is the direction (long > 0).
        """
        if quantity == 0:
            return _ZERO
        if instrument.kind is InstrumentKind.BINARY_OUTCOME:
            if quantity > 0:
                return quantity * price * instrument.multiplier
            return quantity * (_ONE - price) * instrument.multiplier
        if instrument.inverse:
            return quantity * instrument.multiplier
        return quantity * price * instrument.multiplier

    def exposures(
        self,
        marks: Mapping[InstrumentId, Decimal],
        *,
        currency: str | None = None,
        venue: Venue | None = None,
    ) -> dict[InstrumentId, Decimal]:
        """Signed exposure of every open position (settled in `currency` / on `venue` when given), at
        `marks`, or at its entry price where no mark is given."""
        out: dict[InstrumentId, Decimal] = {}
        for iid, pos in self._positions.items():
            inst = pos.instrument
            if pos.quantity == 0 or (currency is not None and inst.settle != currency):
                continue
            if venue is not None and iid.venue != venue:
                continue
            mark = marks.get(iid)
            out[iid] = self.exposure_value(inst, pos.quantity, pos.avg_px if mark is None else mark)
        return out

    def gross_exposure(
        self,
        marks: Mapping[InstrumentId, Decimal],
        *,
        currency: str | None = None,
        venue: Venue | None = None,
    ) -> Decimal:
        """Σ |exposure| over open positions."""
        return sum((abs(v) for v in self.exposures(marks, currency=currency, venue=venue).values()), _ZERO)

    def net_exposure(
        self,
        marks: Mapping[InstrumentId, Decimal],
        *,
        currency: str | None = None,
        venue: Venue | None = None,
    ) -> Decimal:
        """Σ signed exposure: longs minus shorts."""
        return sum(self.exposures(marks, currency=currency, venue=venue).values(), _ZERO)

    # --- PnL --------------------------------------------------------------------------------
    def fees(self, currency: str) -> Decimal:
        """Fees paid in `currency` (negative: rebates received)."""
        return self._fees.get(currency, _ZERO)

    def realized_pnl(self, currency: str) -> Decimal:
        """Realised PnL before fees of every position settled in `currency`."""
        return sum(
            (p.realized_pnl for p in self._positions.values() if p.instrument.settle == currency), _ZERO
        )

    def unrealized_pnl(self, currency: str, marks: Mapping[InstrumentId, Decimal]) -> Decimal:
        """Unrealised PnL of every open position settled in `currency`; KeyError names a missing mark."""
        total = _ZERO
        for pos in self._positions.values():
            inst = pos.instrument
            if inst.settle != currency or pos.quantity == 0:
                continue
            mark = marks.get(inst.id)
            if mark is None:
                raise KeyError(f"no mark price for {inst.id}")
            total += pos.unrealized_pnl(mark)
        return total

    def snapshot(self, ts_ns: int, currency: str, marks: Mapping[InstrumentId, Decimal]) -> PortfolioSnapshot:
        """Every figure of one currency at once (exact)."""
        return PortfolioSnapshot(
            ts_ns=ts_ns,
            currency=currency,
            cash=self.balance(currency),
            equity=self.equity(currency, marks),
            realized_pnl=self.realized_pnl(currency),
            unrealized_pnl=self.unrealized_pnl(currency, marks),
            fees=self.fees(currency),
            gross_exposure=self.gross_exposure(marks, currency=currency),
            net_exposure=self.net_exposure(marks, currency=currency),
        )
