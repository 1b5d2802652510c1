"""The trade journal: round trips matched first-in first-out from a fills table, with exact PnL.

Matching, per instrument: an entry fill opens a lot; a fill against the position closes the oldest open
quantity first (FIFO), partially if need be; a fill larger than the position closes it all and opens a
lot in the other direction with the rest (a flip). Each matched piece pairs part of an entry fill with
part of an exit fill. A **round trip** gathers the pieces that one entry order and one exit order matched
with each other (fills without a client order id stand alone), so an entry filled in three parts and
closed by one order is one round trip, with size-weighted average entry and exit prices.

Money is exact `Decimal` throughout: sums run in a context that raises rather than rounds. A fill's fee
is shared among the pieces its quantity goes to, pro rata (rounded to `SHARE_QUANTUM`, 1e-24), the last
piece taking exactly what is left, so the pieces of a fill add up to its fee. Hence:

    Σ round-trip pnl              = realised PnL of the fills, FIFO, before fees
    Σ round-trip fees + open fees = Σ fill fees

`Position` (which writes fills.csv's `realized_pnl_after`, before fees) matches FIFO too, so Σ pnl equals
the sum over instruments of the last `realized_pnl_after`, and Σ net_pnl − open fees (the
`realized_net_of_all_fees` property) equals it minus every fee paid. Once an instrument is flat any
matching rule (FIFO, average cost) realises the same PnL; while it is open they differ only in how the
open quantity's cost is counted.

Optional fills.csv tags: `tag_regime` and `tag_reason` label a round trip with its entry fill's regime
and reason (and its exit fill's reason); `risk_r` on an entry fill is the money at risk on the quantity
that fill opens (1 R). A round trip's R multiple is net_pnl / (its share of that risk), or, where its
entries are untagged, net_pnl / `risk_per_trade` when one is given.
"""

from __future__ import annotations

import csv
import enum
import io
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from pathlib import Path

import msgspec

from tradewright.analysis.metrics import TradeStats, exact_context, exact_sum, trade_stats
from tradewright.analysis.run_outputs import FillRecord
from tradewright.core.clock import ns_to_iso
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId
from tradewright.model.instrument import Instrument

__all__ = [
    "JOURNAL_COLUMNS",
    "Journal",
    "OpenLot",
    "RoundTrip",
    "TradeSide",
    "build_journal",
    "stats_by_regime",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
#: Pro-rata shares (of a fee, of a risk, an inverse contract's PnL) are rounded to this quantum; the
#: last share of a fill takes the exact rest, so shares still add up to the whole.
SHARE_QUANTUM = Decimal("1e-24")
_DIVIDE = Context(prec=100, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
# Averages and ratios for display are not summed again: the default 28 significant digits suffice.
_RATIO = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
# What a journal shows of quotients that rarely terminate: returns and R multiples to 10 significant
# digits, average prices to 15 (far below a tick); PnL and fees stay exact sums.
_SHOWN_RATIO = Context(prec=10, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_SHOWN_PRICE = Context(prec=15, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])


class TradeSide(enum.StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"


class RoundTrip(msgspec.Struct, frozen=True, kw_only=True):
    """One entry order's quantity closed by one exit order. Money in the settlement currency.

    `pnl` is before fees, `net_pnl = pnl - fees`; `net_return` is net_pnl over the entry notional
    (a fraction: 0.01 = 1 %); `risk` is the money at risk (1 R) and `r_multiple = net_pnl / risk`.
    """

    instrument_id: InstrumentId
    side: TradeSide
    size: Decimal
    entry_ts_ns: int
    exit_ts_ns: int
    entry_avg_px: Decimal
    exit_avg_px: Decimal
    pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    net_return: Decimal | None  # None when the entry notional is 0 (a future traded at a price of 0)
    risk: Decimal | None
    r_multiple: Decimal | None
    regime: str | None
    entry_reason: str | None
    exit_reason: str | None
    entry_order: str
    exit_order: str

    @property
    def holding_ns(self) -> int:
        return self.exit_ts_ns - self.entry_ts_ns


class OpenLot(msgspec.Struct, frozen=True, kw_only=True):
    """Quantity still open at the end of the fills, with the part of its entry fee not yet matched."""

    instrument_id: InstrumentId
    side: TradeSide
    size: Decimal
    entry_ts_ns: int
    entry_px: Decimal
    fees: Decimal
    entry_order: str


JOURNAL_COLUMNS = (
    "instrument_id",
    "side",
    "size",
    "entry_ts_ns",
    "entry_ts_iso",
    "exit_ts_ns",
    "exit_ts_iso",
    "entry_avg_px",
    "exit_avg_px",
    "pnl",
    "fees",
    "net_pnl",
    "net_return",
    "risk",
    "r_multiple",
    "regime",
    "entry_reason",
    "exit_reason",
    "entry_order",
    "exit_order",
)


class Journal(msgspec.Struct, frozen=True, kw_only=True):
    """Round trips in order of their exit, and the lots still open."""

    round_trips: tuple[RoundTrip, ...]
    open_lots: tuple[OpenLot, ...]

    @property
    def pnl(self) -> Decimal:
        """Realised PnL of the round trips, before fees."""
        return exact_sum(t.pnl for t in self.round_trips)

    @property
    def fees(self) -> Decimal:
        """Fees of the round trips (open lots' entry fees not included)."""
        return exact_sum(t.fees for t in self.round_trips)

    @property
    def open_fees(self) -> Decimal:
        return exact_sum(lot.fees for lot in self.open_lots)

    @property
    def realized_net_of_all_fees(self) -> Decimal:
        """Σ net_pnl − fees already paid on open lots: the fills' realised PnL after every fee paid."""
        return exact_sum((self.pnl, -self.fees, -self.open_fees))

    def stats(self) -> TradeStats:
        """Win rate, profit factor, expectancy and average R of the round trips."""
        return trade_stats([t.net_pnl for t in self.round_trips], [t.r_multiple for t in self.round_trips])

    def rows(self) -> list[dict[str, str]]:
        """Return the round trips as CSV-ready rows (exact decimal strings; empty cell = none)."""
        return [_row(t) for t in self.round_trips]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=JOURNAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        return out.getvalue()

    def to_json(self) -> bytes:
        """Encode as ``{"round_trips": [...], "open_lots": [...]}``; decimals are strings, ids ``SYMBOL.VENUE``."""
        lots = [
            {
                "instrument_id": str(lot.instrument_id),
                "side": str(lot.side),
                "size": str(lot.size),
                "entry_ts_ns": lot.entry_ts_ns,
                "entry_px": str(lot.entry_px),
                "fees": str(lot.fees),
                "entry_order": lot.entry_order,
            }
            for lot in self.open_lots
        ]
        trips = [
            {**_row(t), "entry_ts_ns": t.entry_ts_ns, "exit_ts_ns": t.exit_ts_ns} for t in self.round_trips
        ]
        return msgspec.json.encode({"round_trips": trips, "open_lots": lots})

    def write_csv(self, path: str | Path) -> None:
        Path(path).write_text(self.to_csv(), encoding="utf-8")

    def write_json(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_json())


def build_journal(
    fills: Sequence[FillRecord],
    *,
    instruments: Mapping[InstrumentId, Instrument] | None = None,
    risk_per_trade: Decimal | None = None,
) -> Journal:
    """Match `fills` (in file order) into round trips.

    `instruments` gives contract terms (multiplier, inverse); an instrument not in it is taken as linear
    with multiplier 1 (spot, linear perpetuals). The fills must start flat: each fill's `position_after`
    is checked against the running position and a disagreement raises `DataError` naming the line.
    """
    if risk_per_trade is not None and risk_per_trade <= 0:
        raise ValueError(f"risk_per_trade must be > 0, got {risk_per_trade}")
    books: dict[InstrumentId, _Book] = {}
    trips: dict[tuple[InstrumentId, str, str], _Trip] = {}
    with localcontext(exact_context()):
        for fill in fills:
            book = books.get(fill.instrument_id)
            if book is None:
                terms = None if instruments is None else instruments.get(fill.instrument_id)
                book = books[fill.instrument_id] = _Book(fill.instrument_id, terms)
            book.apply(fill, trips)
    ordered = sorted(trips.values(), key=lambda t: (t.exit_ts_ns, t.entry_ts_ns, t.seq))
    open_lots = [lot.to_open_lot(book.instrument_id) for book in books.values() for lot in book.lots]
    return Journal(
        round_trips=tuple(t.finish(risk_per_trade) for t in ordered),
        open_lots=tuple(open_lots),
    )


def stats_by_regime(journal: Journal) -> dict[str | None, TradeStats]:
    """Trade statistics per regime tag (None: untagged round trips), in order of first appearance."""
    groups: dict[str | None, list[RoundTrip]] = {}
    for trip in journal.round_trips:
        groups.setdefault(trip.regime, []).append(trip)
    return {
        regime: trade_stats([t.net_pnl for t in trips], [t.r_multiple for t in trips])
        for regime, trips in groups.items()
    }


# --- matching -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Lot:
    direction: int  # +1 long, -1 short
    qty: Decimal
    px: Decimal
    fee: Decimal  # the part of the entry fee not yet given to a piece
    risk: Decimal | None
    ts_ns: int
    order: str
    regime: str | None
    reason: str | None

    def take(self, qty: Decimal) -> tuple[Decimal, Decimal | None]:
        """Remove `qty`; return its share of the remaining fee and risk (all of it when emptied)."""
        if qty == self.qty:
            fee, risk = self.fee, self.risk
        else:
            fee = _share(self.fee, qty, self.qty)
            risk = None if self.risk is None else _share(self.risk, qty, self.qty)
        self.qty -= qty
        self.fee -= fee
        if self.risk is not None and risk is not None:
            self.risk -= risk
        return fee, risk

    def to_open_lot(self, iid: InstrumentId) -> OpenLot:
        return OpenLot(
            instrument_id=iid,
            side=TradeSide.LONG if self.direction > 0 else TradeSide.SHORT,
            size=self.qty,
            entry_ts_ns=self.ts_ns,
            entry_px=self.px,
            fees=self.fee,
            entry_order=self.order,
        )


@dataclass(slots=True)
class _Trip:
    iid: InstrumentId
    direction: int
    seq: int
    entry_order: str
    exit_order: str
    entry_ts_ns: int
    exit_ts_ns: int
    regime: str | None
    entry_reason: str | None
    exit_reason: str | None
    size: Decimal = _ZERO
    entry_value: Decimal = _ZERO  # Σ qty × px, for the average prices
    exit_value: Decimal = _ZERO
    entry_notional: Decimal = _ZERO  # in the settlement currency, for the return
    pnl: Decimal = _ZERO
    fees: Decimal = _ZERO
    risk: Decimal | None = _ZERO

    def finish(self, risk_per_trade: Decimal | None) -> RoundTrip:
        net = exact_sum((self.pnl, -self.fees))
        risk = self.risk if self.risk is not None and self.risk > 0 else risk_per_trade
        return RoundTrip(
            instrument_id=self.iid,
            side=TradeSide.LONG if self.direction > 0 else TradeSide.SHORT,
            size=self.size,
            entry_ts_ns=self.entry_ts_ns,
            exit_ts_ns=self.exit_ts_ns,
            entry_avg_px=_SHOWN_PRICE.divide(self.entry_value, self.size),
            exit_avg_px=_SHOWN_PRICE.divide(self.exit_value, self.size),
            pnl=self.pnl,
            fees=self.fees,
            net_pnl=net,
            net_return=_SHOWN_RATIO.divide(net, self.entry_notional) if self.entry_notional != 0 else None,
            risk=risk,
            r_multiple=None if risk is None else _SHOWN_RATIO.divide(net, risk),
            regime=self.regime,
            entry_reason=self.entry_reason,
            exit_reason=self.exit_reason,
            entry_order=self.entry_order,
            exit_order=self.exit_order,
        )


class _Book:
    """Open lots of one instrument, oldest first."""

    __slots__ = ("fee_currency", "instrument_id", "inverse", "lots", "multiplier", "position")

    def __init__(self, iid: InstrumentId, terms: Instrument | None) -> None:
        self.instrument_id = iid
        self.multiplier = _ONE if terms is None else terms.multiplier
        self.inverse = False if terms is None else terms.inverse
        self.lots: deque[_Lot] = deque()
        self.position = _ZERO
        self.fee_currency: str | None = None

    def apply(self, fill: FillRecord, trips: dict[tuple[InstrumentId, str, str], _Trip]) -> None:
        self._check(fill)
        direction = fill.side.sign
        order = _order_key(fill)
        remaining, fee_left = fill.quantity, fill.fee
        while remaining > 0 and self.lots and self.lots[0].direction != direction:
            lot = self.lots[0]
            qty = min(remaining, lot.qty)
            entry_fee, risk = lot.take(qty)
            exit_fee = fee_left if qty == remaining else _share(fee_left, qty, remaining)
            fee_left -= exit_fee
            remaining -= qty
            self._record(trips, lot, fill, order, qty, entry_fee + exit_fee, risk)
            if lot.qty == 0:
                self.lots.popleft()
        if remaining > 0:
            if fill.risk_r is not None and fill.risk_r <= 0:
                raise DataError(f"risk_r must be > 0, got {fill.risk_r}", line=fill.line)
            self.lots.append(
                _Lot(
                    direction=direction,
                    qty=remaining,
                    px=fill.price,
                    fee=fee_left,
                    risk=fill.risk_r,
                    ts_ns=fill.ts_event_ns,
                    order=order,
                    regime=fill.tag_regime,
                    reason=fill.tag_reason,
                )
            )
        self.position += direction * fill.quantity

    def _check(self, fill: FillRecord) -> None:
        expected = self.position + fill.side.sign * fill.quantity
        if fill.position_after != expected:
            raise DataError(
                f"{self.instrument_id}: position_after is {fill.position_after} but the fills so far (from flat) "
                f"give {expected}; the journal needs every fill since the position was last flat",
                source="fills",
                line=fill.line,
            )
        if fill.fee == 0:
            return
        if self.fee_currency is None:
            self.fee_currency = fill.fee_currency
        elif fill.fee_currency != self.fee_currency:
            raise DataError(
                f"{self.instrument_id}: fees in {fill.fee_currency} and {self.fee_currency}; the journal adds "
                "fees up, so they must be in one currency per instrument",
                source="fills",
                line=fill.line,
            )

    def _record(
        self,
        trips: dict[tuple[InstrumentId, str, str], _Trip],
        lot: _Lot,
        fill: FillRecord,
        exit_order: str,
        qty: Decimal,
        fees: Decimal,
        risk: Decimal | None,
    ) -> None:
        key = (self.instrument_id, lot.order, exit_order)
        trip = trips.get(key)
        if trip is None:
            trip = trips[key] = _Trip(
                iid=self.instrument_id,
                direction=lot.direction,
                seq=len(trips),
                entry_order=lot.order,
                exit_order=exit_order,
                entry_ts_ns=lot.ts_ns,
                exit_ts_ns=fill.ts_event_ns,
                regime=lot.regime,
                entry_reason=lot.reason,
                exit_reason=fill.tag_reason,
            )
        trip.entry_ts_ns = min(trip.entry_ts_ns, lot.ts_ns)
        trip.exit_ts_ns = max(trip.exit_ts_ns, fill.ts_event_ns)
        trip.size += qty
        trip.entry_value += qty * lot.px
        trip.exit_value += qty * fill.price
        trip.entry_notional += self._notional(qty, lot.px)
        trip.pnl += self._pnl(lot.direction, qty, lot.px, fill.price)
        trip.fees += fees
        # One untagged piece makes the trip's risk unknown; it then falls back to risk_per_trade.
        trip.risk = None if trip.risk is None or risk is None else trip.risk + risk

    def _notional(self, qty: Decimal, px: Decimal) -> Decimal:
        if self.inverse:
            return _share(qty * self.multiplier, _ONE, px)
        return qty * px * self.multiplier

    def _pnl(self, direction: int, qty: Decimal, entry: Decimal, exit_: Decimal) -> Decimal:
        if self.inverse:
            # Inverse contracts divide, so their PnL is rounded to SHARE_QUANTUM (linear PnL is exact).
            value = qty * self.multiplier
            return direction * (_share(value, _ONE, entry) - _share(value, _ONE, exit_))
        return direction * qty * (exit_ - entry) * self.multiplier


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """Return amount × part / whole rounded to SHARE_QUANTUM (half-even), without trailing zeros."""
    share = _DIVIDE.quantize(_DIVIDE.divide(_DIVIDE.multiply(amount, part), whole), SHARE_QUANTUM)
    # 0.0099950000… reads as 0.009995; normalize() alone would turn 10 into 1E+1.
    tidy = share.normalize(_DIVIDE)
    return tidy.quantize(_ONE, context=_DIVIDE) if tidy == tidy.to_integral_value() else tidy


def _order_key(fill: FillRecord) -> str:
    if fill.client_order_id:
        return fill.client_order_id
    if fill.trade_id:
        return f"trade:{fill.trade_id}"
    return f"line:{fill.line}"


def _row(trip: RoundTrip) -> dict[str, str]:
    def opt(value: object) -> str:
        return "" if value is None else str(value)

    return {
        "instrument_id": str(trip.instrument_id),
        "side": str(trip.side),
        "size": str(trip.size),
        "entry_ts_ns": str(trip.entry_ts_ns),
        "entry_ts_iso": ns_to_iso(trip.entry_ts_ns),
        "exit_ts_ns": str(trip.exit_ts_ns),
        "exit_ts_iso": ns_to_iso(trip.exit_ts_ns),
        "entry_avg_px": str(trip.entry_avg_px),
        "exit_avg_px": str(trip.exit_avg_px),
        "pnl": str(trip.pnl),
        "fees": str(trip.fees),
        "net_pnl": str(trip.net_pnl),
        "net_return": opt(trip.net_return),
        "risk": opt(trip.risk),
        "r_multiple": opt(trip.r_multiple),
        "regime": opt(trip.regime),
        "entry_reason": opt(trip.entry_reason),
        "exit_reason": opt(trip.exit_reason),
        "entry_order": trip.entry_order,
        "exit_order": trip.exit_order,
    }
