"""Pre-trade checks (C1), market guards (C5) and portfolio-wide caps (C2), as functions of one proposal.

Each check returns None (pass) or a `Denial`: a machine-readable `reason` and a sentence that names the
order, the figure measured and the limit with its config key. A check whose limit is unset costs nothing.

A limit on exposure denies only an order that would take the measured figure above the limit *and*
make it larger than it is now, so an order that reduces exposure always passes, even when a price
move has already carried exposure past the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import msgspec

from tradewright.config.run import InstrumentLimits, RiskConfig
from tradewright.core.errors import GridError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide, OrderType
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.risk.exposure import ValueFn, Working, order_value, working_for
from tradewright.risk.host import TradingHost

__all__ = ["Denial", "InstrumentRules", "Proposal", "grid", "guards", "limits", "portfolio_caps"]

_ZERO = Decimal(0)
_BPS = Decimal(10_000)
_HUNDRED = Decimal(100)


class Denial(msgspec.Struct, frozen=True):
    """Why a command was refused: `reason` for machines, `message` for people."""

    reason: str
    message: str


@dataclass(slots=True, frozen=True)
class Proposal:
    """An order as risk judges it: a new order, or a working order with a modify applied."""

    instrument: Instrument
    side: OrderSide
    quantity: Decimal  # the order's total size (size and notional limits)
    leaves: Decimal  # what it could still add to the position (exposure limits)
    price: Decimal | None  # None: a market order
    order_type: OrderType
    reduce_only: bool = False
    exclude: ClientOrderId | None = None  # the order being modified: its current terms do not count

    def describe(self) -> str:
        at = "at market" if self.price is None else f"@ {self.price}"
        return f"{self.side} {self.quantity} {self.instrument.id} {at}"


def _notional(inst: Instrument, quantity: Decimal, price: Decimal) -> Decimal:
    """Plain quote notional (size × price × multiplier; inverse: size × multiplier)."""
    if inst.inverse:
        return quantity * inst.multiplier
    return quantity * price * inst.multiplier


class InstrumentRules:
    """One instrument's limits, and which of the costlier inputs they need (`needs_working`: its position
    and working orders; `per_order_limits`: the reference price) — so an instrument without limits is
    checked in a few lookups."""

    __slots__ = ("has_guards", "limits", "needs_working", "per_order_limits")

    def __init__(self, limits: InstrumentLimits) -> None:
        self.limits = limits
        self.has_guards = limits.max_spread_ticks is not None or limits.max_slippage_bps is not None
        self.needs_working = (
            self.has_guards or limits.max_position_base is not None or limits.max_position_quote is not None
        )
        self.per_order_limits = any(
            v is not None
            for v in (
                limits.min_order_notional_quote,
                limits.max_order_notional_quote,
                limits.price_band_bps,
                limits.min_order_size_base,
                limits.max_order_size_base,
                limits.max_slippage_bps,
            )
        )


def grid(p: Proposal) -> Denial | None:
    """The order must sit on the instrument's grid and within the instrument's own size rules."""
    inst = p.instrument
    try:
        inst.validate_order(p.price, p.quantity)
    except GridError as exc:
        try:  # which rule: the grid, or the instrument's own limits?
            inst.size_to_lots(p.quantity)
            if p.price is not None:
                inst.price_to_ticks(p.price)
        except GridError:
            return Denial("off_grid", f"{p.describe()}: {exc}")
        return Denial("instrument_limit", f"{p.describe()}: {exc}")
    return None


def limits(
    p: Proposal, lim: InstrumentLimits, w: Working, reduces: bool, ref: Decimal | None, value: ValueFn
) -> Denial | None:
    """Reduce-only, size and notional per order, price band, position limit."""
    inst = p.instrument
    if p.reduce_only and not reduces:
        return Denial(
            "reduce_only_would_increase",
            f"{p.describe()} is reduce-only but the position is {w.position} "
            f"(with {w.sells if p.side is OrderSide.SELL else w.buys} already working on that side)",
        )
    if lim.min_order_size_base is not None and p.quantity < lim.min_order_size_base:
        return Denial(
            "order_size_below_min",
            f"{p.describe()}: size is below min_order_size_base {lim.min_order_size_base}",
        )
    if lim.max_order_size_base is not None and p.quantity > lim.max_order_size_base:
        return Denial(
            "order_size_above_max",
            f"{p.describe()}: size is above max_order_size_base {lim.max_order_size_base}",
        )
    px = p.price if p.price is not None else ref
    wants_notional = lim.min_order_notional_quote is not None or lim.max_order_notional_quote is not None
    if wants_notional:
        if px is None:
            return Denial("no_reference_price", f"{p.describe()}: no price to value the order (empty book)")
        notional = _notional(inst, p.quantity, px)
        if lim.min_order_notional_quote is not None and notional < lim.min_order_notional_quote:
            return Denial(
                "order_notional_below_min",
                f"{p.describe()}: notional {notional} {inst.quote} is below "
                f"min_order_notional_quote {lim.min_order_notional_quote}",
            )
        if lim.max_order_notional_quote is not None and notional > lim.max_order_notional_quote:
            return Denial(
                "order_notional_above_max",
                f"{p.describe()}: notional {notional} {inst.quote} is above "
                f"max_order_notional_quote {lim.max_order_notional_quote}",
            )
    if lim.price_band_bps is not None and p.price is not None:
        if ref is None:
            return Denial(
                "no_reference_price",
                f"{p.describe()}: the book is empty, so the price band cannot be checked",
            )
        if abs(p.price - ref) * _BPS > lim.price_band_bps * ref:
            off = (abs(p.price - ref) * _BPS / ref).quantize(Decimal("0.1"))
            return Denial(
                "price_band",
                f"{p.describe()}: price is {off} bps from the reference {ref} (mid); "
                f"price_band_bps is {lim.price_band_bps}",
            )
    if not reduces and (lim.max_position_base is not None or lim.max_position_quote is not None):
        after = w.copy()
        after.add(p.side, p.leaves, p.price, _ZERO)
        if lim.max_position_base is not None:
            worst, before = after.max_abs_size(), w.max_abs_size()
            if worst > lim.max_position_base and worst > before:
                return Denial(
                    "position_limit",
                    f"{p.describe()}: position could reach {worst} (position {w.position}, open buys {w.buys}, "
                    f"open sells {w.sells}); max_position_base is {lim.max_position_base}",
                )
        if lim.max_position_quote is not None:
            worst, before = after.gross(value), w.gross(value)
            if worst > lim.max_position_quote and worst > before:
                return Denial(
                    "position_limit",
                    f"{p.describe()}: position could be worth {worst} {inst.quote}; "
                    f"max_position_quote is {lim.max_position_quote}",
                )
    return None


def guards(p: Proposal, lim: InstrumentLimits, book: OrderBook | None, ref: Decimal | None) -> Denial | None:
    """Spread and slippage guards: no entry into a wide market, no market order that walks too far."""
    inst = p.instrument
    if lim.max_spread_ticks is not None:
        bid = None if book is None else book.best_bid_tick
        ask = None if book is None else book.best_ask_tick
        if bid is None or ask is None:
            return Denial(
                "spread_guard", f"{p.describe()}: the book has no {'bid' if bid is None else 'ask'}"
            )
        if ask - bid > lim.max_spread_ticks:
            return Denial(
                "spread_guard",
                f"{p.describe()}: spread is {ask - bid} ticks; max_spread_ticks is {lim.max_spread_ticks}",
            )
    if lim.max_slippage_bps is not None and p.order_type is OrderType.MARKET:
        if book is None or ref is None:
            return Denial("slippage_guard", f"{p.describe()}: the book is empty")
        filled, _, avg = book.cost_to_fill(1 if p.side is OrderSide.BUY else -1, p.quantity)
        if avg is None or filled < p.quantity:
            return Denial(
                "slippage_guard", f"{p.describe()}: the book holds only {filled} {inst.base} on that side"
            )
        if abs(avg - ref) * _BPS > lim.max_slippage_bps * ref:
            cost = (abs(avg - ref) * _BPS / ref).quantize(Decimal("0.1"))
            return Denial(
                "slippage_guard",
                f"{p.describe()}: expected average price {avg.quantize(inst.tick_size / 1000)} is {cost} bps "
                f"from the mid {ref}; "
                f"max_slippage_bps is {lim.max_slippage_bps}",
            )
    return None


def portfolio_caps(
    p: Proposal,
    cfg: RiskConfig,
    host: TradingHost,
    workings: dict[InstrumentId, Working],
    value: ValueFn,
) -> Denial | None:
    """Gross and net exposure, per-venue notional, open-order notional, balance/margin."""
    iid = p.instrument.id
    before = workings.get(iid)
    if before is None:
        before = working_for(host, iid, p.exclude, orders=False)
    after = before.copy()
    new_value = order_value(host, p.side, p.instrument, p.leaves, p.price, before.mark)
    after.add(p.side, p.leaves, p.price, new_value)
    quote = p.instrument.quote
    if cfg.max_gross_exposure_quote is not None:
        total = sum((w.gross(value) for w in workings.values()), _ZERO)
        new_total = total - (before.gross(value) if iid in workings else _ZERO) + after.gross(value)
        if new_total > cfg.max_gross_exposure_quote and new_total > total:
            return Denial(
                "gross_exposure",
                f"{p.describe()}: gross exposure could reach {new_total} {quote}; "
                f"max_gross_exposure_quote is {cfg.max_gross_exposure_quote}",
            )
    if cfg.max_net_exposure_quote is not None:
        others = sum((w.net(p.side, value) for k, w in workings.items() if k != iid), _ZERO)
        net_before = others + before.net(p.side, value)
        net_after = others + after.net(p.side, value)
        if abs(net_after) > cfg.max_net_exposure_quote and abs(net_after) > abs(net_before):
            return Denial(
                "net_exposure",
                f"{p.describe()}: net exposure could reach {net_after} {quote}; "
                f"max_net_exposure_quote is {cfg.max_net_exposure_quote}",
            )
    if cfg.max_venue_notional_quote is not None:
        venue: Venue = iid.venue
        total = sum((w.gross(value) for k, w in workings.items() if k.venue == venue), _ZERO)
        new_total = total - (before.gross(value) if iid in workings else _ZERO) + after.gross(value)
        if new_total > cfg.max_venue_notional_quote and new_total > total:
            return Denial(
                "venue_notional",
                f"{p.describe()}: notional on {venue} could reach {new_total} {quote}; "
                f"max_venue_notional_quote is {cfg.max_venue_notional_quote}",
            )
    if cfg.max_open_order_notional_quote is not None:
        total = sum((w.order_value for w in workings.values()), _ZERO) + new_value
        if total > cfg.max_open_order_notional_quote:
            return Denial(
                "open_order_notional",
                f"{p.describe()}: open orders would be worth {total} {quote}; "
                f"max_open_order_notional_quote is {cfg.max_open_order_notional_quote}",
            )
    if cfg.check_balance:
        return _balance(p, cfg, host, workings, before, after, value)
    return None


def _balance(
    p: Proposal,
    cfg: RiskConfig,
    host: TradingHost,
    workings: dict[InstrumentId, Working],
    before: Working,
    after: Working,
    value: ValueFn,
) -> Denial | None:
    """Enough cash (spot, outcome tokens) or margin (derivatives), counting every open order."""
    inst = p.instrument
    settle = inst.settle
    cash = host.portfolio.balance(settle)
    if inst.kind in (InstrumentKind.SPOT, InstrumentKind.BINARY_OUTCOME):
        held = max(_ZERO, before.position - before.sells)
        if p.side is OrderSide.SELL and inst.kind is InstrumentKind.SPOT:
            if p.leaves > held:
                return Denial(
                    "insufficient_balance",
                    f"{p.describe()}: only {held} {inst.base} is held and not already offered",
                )
            return None
        committed = sum(
            (_cash_committed(w) for w in workings.values() if w.instrument.settle == settle), _ZERO
        )
        px = p.price if p.price is not None else before.mark
        if px is None:
            return Denial("no_reference_price", f"{p.describe()}: no price to value the order (empty book)")
        if p.side is OrderSide.BUY:
            need = _notional(inst, p.leaves, px) * (1 + _fee_rate(inst))
        else:  # selling outcome tokens beyond what is held is a short: collateral (1 - price) per token
            need = max(_ZERO, p.leaves - held) * (1 - px) * inst.multiplier
        if need > 0 and committed + need > cash:
            return Denial(
                "insufficient_balance",
                f"{p.describe()}: needs {need} {settle}, but {cash - committed} of {cash} is not already "
                "committed to open orders",
            )
        return None
    # Derivatives: margin on the worst-case exposure of everything settled in this currency.
    rate = cfg.initial_margin_pct / _HUNDRED
    same = [w for k, w in workings.items() if w.instrument.settle == settle and k != inst.id]
    base = sum((w.gross(value) for w in same), _ZERO)
    need_before = rate * (base + before.gross(value))
    need_after = rate * (base + after.gross(value))
    equity = cash
    for w in [*same, before]:
        if w.position != 0 and w.mark is not None:
            equity += host.portfolio.position_value(w.instrument, w.mark)
    if need_after > equity and need_after > need_before:
        return Denial(
            "insufficient_balance",
            f"{p.describe()}: margin needed {need_after} {settle} "
            f"(initial_margin_pct {cfg.initial_margin_pct}) exceeds equity {equity}",
        )
    return None


def _cash_committed(w: Working) -> Decimal:
    """Cash that open orders on a cash-settled instrument (spot, outcome token) have already promised:
    buys at their price plus fees; outcome-token sales beyond what is held, as short collateral."""
    kind = w.instrument.kind
    if kind is InstrumentKind.SPOT:
        return w.buy_value * (1 + _fee_rate(w.instrument))
    if kind is InstrumentKind.BINARY_OUTCOME:
        committed = w.buy_value * (1 + _fee_rate(w.instrument))
        excess = w.sells - max(_ZERO, w.position)
        if excess > 0:
            committed += w.sell_value * excess / w.sells
        return committed
    return _ZERO


def _fee_rate(inst: Instrument) -> Decimal:
    return max(inst.maker_fee, inst.taker_fee, _ZERO)
