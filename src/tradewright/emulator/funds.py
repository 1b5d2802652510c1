"""Money rules of the emulated venue: what an order must hold before it is accepted, and what a fill moves.

Spot: a buy locks quote at its limit price (a MARKET buy the book's cost of its size), a sell locks its
base; a fill pays from the lock, refunds price improvement and credits the asset received minus the
commission (Binance charges the asset received). USD-M: an order needs initial margin for the part that
increases the position (available = wallet + unrealised PnL - position and open-order margin); a fill
settles commission and realised PnL in the wallet. Commissions have 8 decimals, rounded up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_UP, Decimal

from tradewright.emulator.errors import VenueErrors
from tradewright.emulator.ledger import Account
from tradewright.emulator.market import MarketReplay
from tradewright.emulator.records import EmOrder
from tradewright.emulator.spec import VenueSpec

__all__ = ["Funds", "Settlement"]

ZERO = Decimal(0)
_COMMISSION_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class Settlement:
    """What one fill cost: its commission (and the asset it was charged in) and its realised PnL."""

    commission: Decimal
    asset: str
    realized: Decimal


def commission_of(amount: Decimal) -> Decimal:
    return amount.quantize(_COMMISSION_QUANTUM, rounding=ROUND_UP)


class Funds:
    """Balance and margin checks, and fill settlement, for one emulated market."""

    def __init__(self, spec: VenueSpec, market: MarketReplay, errors: VenueErrors) -> None:
        self.spec = spec
        self.market = market
        self.errors = errors

    def lock_asset(self, order: EmOrder) -> str:
        return self.spec.quote if order.side == "BUY" else self.spec.base

    def estimate_cost(self, order: EmOrder) -> Decimal:
        """Quote value of the order: at its limit price, or what the book asks for a MARKET order now."""
        if order.type != "MARKET":
            return order.orig_qty * order.price
        _, notional, _ = self.market.book.cost_to_fill(order.sign, order.orig_qty)
        return notional

    def qty_for_quote(self, side: str, budget: Decimal) -> Decimal:
        """The quantity a spot MARKET order with ``quoteOrderQty`` buys or sells at the book now."""
        inst = self.spec.instrument
        qty = ZERO
        for tick, lots in self.market.book.depth_ticks(-1 if side == "BUY" else 1, 10_000):
            px, size = inst.ticks_to_price(tick), inst.lots_to_size(lots)
            if px * size >= budget:
                qty += budget / px
                break
            qty += size
            budget -= px * size
        step = self.spec.step_size
        qty = (qty / step).to_integral_value(rounding=ROUND_FLOOR) * step
        if qty < self.spec.min_qty:
            raise self.errors.qty_below_min(True)
        return qty

    # --- before acceptance -------------------------------------------------------------------------
    def lock(self, acc: Account, order: EmOrder) -> None:
        """Spot: hold the order's funds, or raise Binance's insufficient-balance error."""
        amount = self.estimate_cost(order) if order.side == "BUY" else order.orig_qty
        if not acc.lock(self.lock_asset(order), amount):
            raise self.errors.insufficient_balance()
        order.locked = amount

    def check_margin(self, acc: Account, order: EmOrder, open_orders: Iterable[EmOrder]) -> None:
        """USD-M: refuse a reduce-only order that does not reduce, or an order the margin cannot carry."""
        pos = acc.position(self.spec.symbol)
        reduces = pos.amount != 0 and (pos.amount > 0) != (order.sign > 0)
        if order.reduce_only and (not reduces or order.orig_qty > abs(pos.amount)):
            raise self.errors.reduce_only_rejected()
        increase = order.orig_qty - (min(order.orig_qty, abs(pos.amount)) if reduces else ZERO)
        if increase <= 0:
            return
        required = self.estimate_cost(order) * increase / order.orig_qty / Decimal(acc.leverage)
        _, _, available = self.margins(acc, open_orders)
        if required > available:
            raise self.errors.insufficient_balance()

    def margins(self, acc: Account, open_orders: Iterable[EmOrder]) -> tuple[Decimal, Decimal, Decimal]:
        """USD-M (unrealised PnL, open-order initial margin, available balance); orders that would only
        reduce the position need no margin."""
        mark = self.market.mark_price()
        pos = acc.position(self.spec.symbol)
        unrealized = (mark - pos.entry_price) * pos.amount
        lev = Decimal(acc.leverage)
        sides = {1: [ZERO, ZERO], -1: [ZERO, ZERO]}  # qty, notional of open orders per side
        for o in open_orders:
            sides[o.sign][0] += o.leaves_qty
            sides[o.sign][1] += o.leaves_qty * o.price
        open_margin = ZERO
        for sign, (qty, notional) in sides.items():
            if qty == 0:
                continue
            reducing = min(qty, abs(pos.amount)) if pos.amount and (pos.amount > 0) != (sign > 0) else ZERO
            open_margin += notional * (qty - reducing) / qty / lev
        available = acc.wallet_balance(self.spec.instrument.settle) + unrealized
        available -= abs(pos.amount * mark) / lev + open_margin
        return unrealized, open_margin, available

    # --- on fills and when an order ends -------------------------------------------------------------
    def settle(
        self, acc: Account, order: EmOrder, price: Decimal, qty: Decimal, rate: Decimal, now_ms: int
    ) -> Settlement:
        """Move the money of one fill; return what it cost."""
        spec = self.spec
        quote_qty = price * qty
        realized = ZERO
        if spec.futures:
            commission, asset = commission_of(quote_qty * rate), spec.instrument.settle
            pos = acc.position(spec.symbol)
            realized = pos.apply_fill(order.sign, qty, price, commission)
            pos.update_ms = now_ms
            acc.add_wallet(asset, realized - commission)
        elif order.side == "BUY":
            commission, asset = commission_of(qty * rate), spec.base
            release = min(order.locked, qty * order.price if order.type != "MARKET" else quote_qty)
            acc.spend_locked(spec.quote, release, quote_qty)
            order.locked -= release
            acc.credit(spec.base, qty - commission)
        else:
            commission, asset = commission_of(quote_qty * rate), spec.quote
            acc.spend_locked(spec.base, qty, qty)
            order.locked -= qty
            acc.credit(spec.quote, quote_qty - commission)
        acc.update_ms = now_ms
        acc.dirty = True
        return Settlement(commission, asset, realized)

    def release(self, acc: Account, order: EmOrder) -> None:
        """Give back what an order still holds (it filled, was cancelled, expired or was refused)."""
        if order.locked and not self.spec.futures:
            acc.unlock(self.lock_asset(order), order.locked)
            order.locked = ZERO
