"""Dutch-book arithmetic (pure, exact): baskets of outcome tokens whose value at resolution is known
whatever happens, priced and sized by walking the books, after fees, tick and size limits.

A *basket* is a set of legs — buy or sell one token — plus what one set of it is worth at resolution
(`payout`, per set, in collateral):

- binary, buy both: BUY YES + BUY NO pays 1 (one of them wins; a 50-50 pays 0.5 + 0.5);
- binary, sell both (mint 1 collateral into YES + NO, sell both): SELL YES + SELL NO pays -1;
- neg-risk event of n outcomes, buy all YES: pays 1 (exactly one YES wins);
- neg-risk, short set: for each outcome either SELL YES_i or BUY NO_i (NO_i ≡ 1 - YES_i). With m NO
  legs it pays (m - 1) whatever wins — sell all YES (m = 0), buy all NO and convert (m = n), and every
  mixed basket in between. The cheaper way per outcome is chosen at the top of the book;
  NegRiskAdapter conversion fees shrink the payout to (m - 1)(1 - fee).

A basket is an opportunity when its value at resolution exceeds what the legs cost now, after fees
and a per-set cost (gas for a merge or a split), by more than `min_edge` per set. Sizing walks every
leg's ladder together: each step takes the smallest size left at the legs' current levels and stops
at the first step whose marginal edge is not above `min_edge` (the edge only shrinks as the walk goes
deeper, so this is the best size), then rounds down to the lot grid and checks each leg's minimum size
and minimum marketable notional. Profit is recomputed exactly with every fill's fee rounded up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from tradewright.core.ids import InstrumentId
from tradewright.model.enums import OrderSide
from tradewright.model.prediction import FeeSchedule

__all__ = ["Basket", "Leg", "LegPlan", "Opportunity", "binary_baskets", "evaluate", "neg_risk_baskets"]

_ZERO = Decimal(0)
_ONE = Decimal(1)

Levels = Sequence[tuple[Decimal, Decimal]]
"""One side of a book as (price, size), best first."""


@dataclass(frozen=True, slots=True)
class Leg:
    """Buy (walking `levels` = the asks) or sell (walking the bids) one token.

    `inventory` caps a SELL leg at the tokens held (None: no cap, e.g. where short sales are allowed).
    """

    instrument_id: InstrumentId
    side: OrderSide
    levels: Levels
    fees: FeeSchedule
    lot_size: Decimal = Decimal("0.01")
    min_size: Decimal = _ZERO
    min_notional: Decimal = _ZERO
    inventory: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Basket:
    kind: str
    legs: tuple[Leg, ...]
    payout: Decimal


@dataclass(frozen=True, slots=True)
class LegPlan:
    """One leg to send: FOK `size` at `limit_price` (the worst level it reaches). `cash` is what the
    fills move (negative for a buy), `fee` the rounded-up bound of the fees they pay."""

    instrument_id: InstrumentId
    side: OrderSide
    size: Decimal
    limit_price: Decimal
    cash: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A sized basket. `profit` = payout × sets + Σ cash − Σ fees − cost per set × sets (exact)."""

    kind: str
    sets: Decimal
    legs: tuple[LegPlan, ...]
    profit: Decimal
    edge_per_set: Decimal  # at the top of the books, after fees and the per-set cost


def _walk(leg: Leg, size: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(cash, fee bound, worst price) of taking `size` on one leg's ladder."""
    cash = fee = _ZERO
    worst = _ZERO
    left = size
    for price, available in leg.levels:
        if left <= 0:
            break
        take = min(left, available)
        cash += take * price
        fee += leg.fees.fee_bound(price, take)
        worst = price
        left -= take
    if left > 0:
        raise ValueError(f"{leg.instrument_id}: the book holds less than {size}")
    return (-cash if leg.side is OrderSide.BUY else cash), fee, worst


def evaluate(
    basket: Basket,
    *,
    min_edge: Decimal = _ZERO,
    min_profit: Decimal = _ZERO,
    max_sets: Decimal | None = None,
    cost_per_set: Decimal = _ZERO,
) -> Opportunity | None:
    """Size `basket` by walking its legs' books; None when no legal size earns more than the limits."""
    if not basket.legs or any(not leg.levels for leg in basket.legs):
        return None
    # Each leg's contribution per set at each of its levels, computed once: -(price + fee) to buy,
    # price - fee to sell.
    gain = [
        [
            (-(p + leg.fees.per_share(p)) if leg.side is OrderSide.BUY else p - leg.fees.per_share(p))
            for p, _ in leg.levels
        ]
        for leg in basket.legs
    ]
    base = basket.payout - cost_per_set
    index = [0] * len(basket.legs)
    left = [leg.levels[0][1] for leg in basket.legs]
    held = [leg.inventory for leg in basket.legs]
    top = base + sum(g[0] for g in gain)
    sets = _ZERO
    while True:
        if base + sum(g[i] for g, i in zip(gain, index, strict=True)) <= min_edge:
            break
        step = min(left)
        for cap in held:
            if cap is not None:
                step = min(step, cap - sets)
        if max_sets is not None:
            step = min(step, max_sets - sets)
        if step <= 0:
            break
        sets += step
        exhausted = False
        for k, leg in enumerate(basket.legs):
            left[k] -= step
            if left[k] <= 0:
                index[k] += 1
                if index[k] >= len(leg.levels):
                    exhausted = True
                else:
                    left[k] = leg.levels[index[k]][1]
        if exhausted:
            break
    lot = max(leg.lot_size for leg in basket.legs)
    sets = (sets / lot).to_integral_value(rounding=ROUND_FLOOR) * lot
    if sets <= 0:
        return None
    plans: list[LegPlan] = []
    profit = (basket.payout - cost_per_set) * sets
    for leg in basket.legs:
        if sets < leg.min_size:
            return None
        cash, fee, worst = _walk(leg, sets)
        if abs(cash) < leg.min_notional:
            return None
        profit += cash - fee
        plans.append(LegPlan(leg.instrument_id, leg.side, sets, worst, cash, fee))
    if profit <= min_profit:
        return None
    return Opportunity(basket.kind, sets, tuple(plans), profit, top)


def binary_baskets(yes: Leg, no: Leg, yes_bid: Leg, no_bid: Leg) -> list[Basket]:
    """Buy both (legs walking the asks) and sell both (legs walking the bids) of one binary market."""
    return [
        Basket("buy_both", (yes, no), _ONE),
        Basket("sell_both", (yes_bid, no_bid), -_ONE),
    ]


def neg_risk_baskets(
    yes_asks: Sequence[Leg],
    yes_bids: Sequence[Leg],
    no_asks: Sequence[Leg],
    *,
    conversion_fee_rate: Decimal = _ZERO,
) -> list[Basket]:
    """Buy all YES, and the best short set: per outcome, SELL YES_i or BUY NO_i, whichever gives more
    at the top of the book (legs without a level are left to the other way; an outcome with neither
    makes the short set impossible)."""
    n = len(yes_asks)
    if not (n == len(yes_bids) == len(no_asks)) or n < 2:
        raise ValueError("a neg-risk event needs the same n >= 2 outcomes on every side")
    baskets = [Basket("buy_all_yes", tuple(yes_asks), _ONE)]
    keep = _ONE - conversion_fee_rate
    legs: list[Leg] = []
    m = 0
    for sell_yes, buy_no in zip(yes_bids, no_asks, strict=True):
        via_yes = _top_value(sell_yes)
        via_no = (
            None
            if not buy_no.levels
            else keep - buy_no.levels[0][0] - buy_no.fees.per_share(buy_no.levels[0][0])
        )
        if via_yes is None and via_no is None:
            return baskets
        if via_no is not None and (via_yes is None or via_no > via_yes):
            legs.append(buy_no)
            m += 1
        else:
            legs.append(sell_yes)
    kind = "sell_all_yes" if m == 0 else "buy_all_no" if m == n else "mixed"
    # Two or more NOs are converted (the adapter's fee applies); with one or none nothing is.
    payout = Decimal(m - 1) * keep if m >= 2 else Decimal(m - 1)
    baskets.append(Basket(kind, tuple(legs), payout))
    return baskets


def _top_value(sell: Leg) -> Decimal | None:
    if not sell.levels:
        return None
    price = sell.levels[0][0]
    return price - sell.fees.per_share(price)
