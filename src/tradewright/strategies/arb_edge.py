"""Cross-venue arbitrage arithmetic (pure, exact): is buying on one venue and selling on another worth it
now, after fees and transfer costs, and for how much?

Every venue's book is first put in one currency: a price in the venue's quote currency times
`quote_rate` (what one unit of that currency is worth in the common one). Then, for each ordered pair
(buy venue, sell venue), the walk takes the asks of the one and the bids of the other together, best
first. Per unit of the base asset at a step:

    cost     = ask × rate_buy  × (1 + taker_fee_buy)
    proceeds = bid × rate_sell × (1 − taker_fee_sell)
    edge     = proceeds − cost − cost × transfer_cost_bps / 10 000

(`transfer_cost_bps` is what moving the inventory back costs, spread over each trade: withdrawal fees,
network fees, the cost of capital parked on the wrong venue.) The walk stops at the first step whose
edge is below `min_edge_bps` of its cost — edges only shrink as it goes deeper — or when a bound is met:
the books' depth, `max_size`, what may be bought on the buy venue (inventory cap, cash) and sold on the
sell venue (inventory held, for spot). The size is then rounded down to a multiple of both venues' lot
sizes (the legs must be equal), and the expected profit is recomputed exactly for that size. The best
pair by expected profit wins. Limit prices are the worst levels the walk used, so each leg, sent as an
IOC at its limit, can fill the whole size against the book that was seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from math import lcm

from tradewright.core.ids import InstrumentId

__all__ = ["Opportunity", "VenueQuote", "best_opportunity", "common_lot"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_BPS = Decimal(10_000)

Levels = Sequence[tuple[Decimal, Decimal]]
"""One side of a book as (price, size), best first."""


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """One venue's book and constraints. Sizes are in the base asset (linear instruments: contracts ×
    multiplier); `max_buy`/`max_sell` bound what may be traded there (None: no bound); `cash` bounds what a
    buy may cost there, in the venue's quote currency, fees included (None: not cash-funded, e.g. margin)."""

    instrument_id: InstrumentId
    bids: Levels
    asks: Levels
    taker_fee: Decimal
    lot_size: Decimal
    quote_rate: Decimal = _ONE
    max_buy: Decimal | None = None
    max_sell: Decimal | None = None
    cash: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Opportunity:
    """Buy `size` on `buy` up to `buy_limit`, sell it on `sell` down to `sell_limit`; expected to make
    `edge_quote` in the common currency after fees and transfer costs (`edge_bps` of the buy cost)."""

    buy: InstrumentId
    sell: InstrumentId
    size: Decimal
    buy_limit: Decimal
    sell_limit: Decimal
    edge_quote: Decimal
    edge_bps: Decimal


def common_lot(a: Decimal, b: Decimal) -> Decimal:
    """The smallest size that is a whole number of lots on both venues (exact)."""
    exponent = min(a.as_tuple().exponent, b.as_tuple().exponent, 0)
    assert isinstance(exponent, int)
    scale = Decimal(10) ** -exponent
    x, y = int(a * scale), int(b * scale)
    if x <= 0 or y <= 0 or Decimal(x) != a * scale or Decimal(y) != b * scale:
        raise ValueError(f"lot sizes must be > 0, got {a} and {b}")
    return Decimal(lcm(x, y)) / scale


def best_opportunity(
    quotes: Sequence[VenueQuote],
    *,
    min_edge_bps: Decimal,
    transfer_cost_bps: Decimal = _ZERO,
    max_size: Decimal | None = None,
) -> Opportunity | None:
    """The most profitable buy-here-sell-there among every ordered pair of venues, or None (module docstring)."""
    best: Opportunity | None = None
    for buy in quotes:
        for sell in quotes:
            if buy is sell:
                continue
            found = _pair(buy, sell, min_edge_bps, transfer_cost_bps, max_size)
            if found is not None and (best is None or found.edge_quote > best.edge_quote):
                best = found
    return best


def _pair(
    buy: VenueQuote, sell: VenueQuote, min_edge_bps: Decimal, transfer_bps: Decimal, max_size: Decimal | None
) -> Opportunity | None:
    caps = [c for c in (max_size, buy.max_buy, sell.max_sell) if c is not None]
    cap = min(caps) if caps else None
    lot = common_lot(buy.lot_size, sell.lot_size)
    size = (_walk(buy, sell, min_edge_bps, transfer_bps, cap) / lot).to_integral_value(
        rounding=ROUND_FLOOR
    ) * lot
    if size <= 0:
        return None
    cost, proceeds, buy_limit, sell_limit = _fill(buy, sell, size)
    edge = proceeds - cost - cost * transfer_bps / _BPS
    if edge <= 0:
        return None
    return Opportunity(
        buy.instrument_id, sell.instrument_id, size, buy_limit, sell_limit, edge, edge * _BPS / cost
    )


def _walk(
    buy: VenueQuote, sell: VenueQuote, min_edge_bps: Decimal, transfer_bps: Decimal, cap: Decimal | None
) -> Decimal:
    """How much the walk takes before the marginal edge or a bound stops it (not yet on the lot grid)."""
    asks, bids = list(buy.asks), list(sell.bids)
    i = j = 0
    left_ask = asks[0][1] if asks else _ZERO
    left_bid = bids[0][1] if bids else _ZERO
    taken = spent = _ZERO
    while i < len(asks) and j < len(bids):
        ask, bid = asks[i][0], bids[j][0]
        cost = ask * buy.quote_rate * (1 + buy.taker_fee)
        proceeds = bid * sell.quote_rate * (1 - sell.taker_fee)
        if (proceeds - cost - cost * transfer_bps / _BPS) * _BPS < min_edge_bps * cost:
            break
        step = min(left_ask, left_bid)
        if cap is not None:
            step = min(step, cap - taken)
        if buy.cash is not None:  # cash in the buy venue's own currency, fees included
            unit = ask * (1 + buy.taker_fee)
            step = min(step, (buy.cash - spent) / unit)
            spent += step * unit
        if step <= 0:
            break
        taken += step
        left_ask -= step
        left_bid -= step
        if left_ask <= 0:
            i += 1
            left_ask = asks[i][1] if i < len(asks) else _ZERO
        if left_bid <= 0:
            j += 1
            left_bid = bids[j][1] if j < len(bids) else _ZERO
    return taken


def _fill(buy: VenueQuote, sell: VenueQuote, size: Decimal) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Cost and proceeds (common currency, fees in) of `size` against the books, and the worst prices."""
    cost, worst_ask = _sweep(buy.asks, size)
    proceeds, worst_bid = _sweep(sell.bids, size)
    return (
        cost * buy.quote_rate * (1 + buy.taker_fee),
        proceeds * sell.quote_rate * (1 - sell.taker_fee),
        worst_ask,
        worst_bid,
    )


def _sweep(levels: Levels, size: Decimal) -> tuple[Decimal, Decimal]:
    total = _ZERO
    left = size
    worst = levels[0][0]
    for price, available in levels:
        if left <= 0:
            break
        take = min(left, available)
        total += take * price
        left -= take
        worst = price
    return total, worst
