"""Worst-case exposure of positions plus the open orders that could still fill.

For each instrument the position `p` and the open orders' remaining sizes give two extremes: every buy
fills (p + buys) or every sell fills (p - sells). An order is judged by what it would do to the worse
extreme, so no sequence of orders can take exposure past a cap while prices stand still — only a price
move can, and the next order is then judged at the new price.

Values are in the quote currency (`Portfolio.exposure_value`); an outcome token counts as its worst-case
loss, valued at the least favourable of its mark and its orders' prices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.orders import Order
from tradewright.risk.host import TradingHost

__all__ = ["ValueFn", "Working", "order_value", "reference_price", "working_for", "working_set"]

_ZERO = Decimal(0)

ValueFn = Callable[[Instrument, Decimal, Decimal], Decimal]  # `Portfolio.exposure_value`


def reference_price(host: TradingHost, instrument_id: InstrumentId) -> Decimal | None:
    """The mid of the book, or its only side when it is one-sided, or None when it is empty."""
    book = host.books.get(instrument_id)
    if book is None:
        return None
    bid, ask = book.best_bid_tick, book.best_ask_tick
    tick = book.instrument.tick_size
    if bid is not None and ask is not None:
        return tick * (bid + ask) / 2
    one = bid if bid is not None else ask
    return None if one is None else tick * one


@dataclass(slots=True)
class Working:
    """One instrument's position and the size its open orders could still add, each way."""

    instrument: Instrument
    position: Decimal
    mark: Decimal | None
    buys: Decimal = _ZERO
    sells: Decimal = _ZERO
    buy_value: Decimal = _ZERO  # Σ worst-case value of the open buys (open-order notional)
    sell_value: Decimal = _ZERO
    px_lo: Decimal | None = None  # lowest and highest order price (outcome tokens' worst case)
    px_hi: Decimal | None = None

    def add(self, side: OrderSide, quantity: Decimal, price: Decimal | None, value: Decimal) -> None:
        if side is OrderSide.BUY:
            self.buys += quantity
            self.buy_value += value
        else:
            self.sells += quantity
            self.sell_value += value
        if price is not None:
            self.px_lo = price if self.px_lo is None else min(self.px_lo, price)
            self.px_hi = price if self.px_hi is None else max(self.px_hi, price)

    def copy(self) -> Working:
        return Working(
            self.instrument,
            self.position,
            self.mark,
            self.buys,
            self.sells,
            self.buy_value,
            self.sell_value,
            self.px_lo,
            self.px_hi,
        )

    @property
    def order_value(self) -> Decimal:
        return self.buy_value + self.sell_value

    def _prices(self) -> list[Decimal]:
        base = self.mark if self.mark is not None else self.px_lo
        if base is None:
            return []
        if self.instrument.kind is not InstrumentKind.BINARY_OUTCOME:
            return [base]
        return [p for p in (base, self.px_lo, self.px_hi) if p is not None]

    def extreme(self, side: OrderSide) -> Decimal:
        """Signed size if every open order on `side` filled."""
        return self.position + self.buys if side is OrderSide.BUY else self.position - self.sells

    def max_abs_size(self) -> Decimal:
        return max(abs(self.extreme(OrderSide.BUY)), abs(self.extreme(OrderSide.SELL)))

    def gross(self, value: ValueFn) -> Decimal:
        """Largest |exposure| either extreme can reach, at the least favourable price."""
        worst = _ZERO
        for q in (self.extreme(OrderSide.BUY), self.extreme(OrderSide.SELL)):
            for px in self._prices():
                worst = max(worst, abs(value(self.instrument, q, px)))
        return worst

    def net(self, side: OrderSide, value: ValueFn) -> Decimal:
        """Signed exposure at the `side` extreme (valued at the mark)."""
        prices = self._prices()
        if not prices:
            return _ZERO
        return value(self.instrument, self.extreme(side), prices[0])

    def reduces(self, side: OrderSide, quantity: Decimal) -> bool:
        """True when an order of `quantity` on `side` can only bring the position towards zero, counting
        the open orders on the same side that already do."""
        p = self.position
        if side is OrderSide.SELL:
            return p > 0 and self.sells + quantity <= p
        return p < 0 and self.buys + quantity <= -p


def order_value(
    host: TradingHost,
    order_side: OrderSide,
    instrument: Instrument,
    quantity: Decimal,
    price: Decimal | None,
    mark: Decimal | None,
) -> Decimal:
    """Worst-case value of an order's remaining size (price × size; an outcome token sold: (1 - price) × size)."""
    px = price if price is not None else mark
    if px is None:
        return _ZERO
    signed = quantity if order_side is OrderSide.BUY else -quantity
    return abs(host.portfolio.exposure_value(instrument, signed, px))


def working_set(host: TradingHost, exclude: ClientOrderId | None = None) -> dict[InstrumentId, Working]:
    """Every instrument with a position or an open order (leaving out the order `exclude`)."""
    out: dict[InstrumentId, Working] = {}
    for pos in host.portfolio.positions:
        if pos.quantity != 0:
            out[pos.instrument.id] = Working(pos.instrument, pos.quantity, _mark(host, pos.instrument.id))
    for order in host.orders.open_orders():
        if order.client_order_id == exclude:
            continue
        w = out.get(order.instrument_id)
        if w is None:
            w = out[order.instrument_id] = working_for(host, order.instrument_id, exclude, orders=False)
        _add_order(host, w, order)
    return out


def working_for(
    host: TradingHost,
    instrument_id: InstrumentId,
    exclude: ClientOrderId | None = None,
    *,
    orders: bool = True,
) -> Working:
    """One instrument's `Working` (its open orders included unless `orders` is False)."""
    inst = host.instruments[instrument_id]
    pos = host.portfolio.find_position(instrument_id)
    w = Working(inst, _ZERO if pos is None else pos.quantity, _mark(host, instrument_id))
    if orders:
        for order in host.orders.open_orders(instrument_id):
            if order.client_order_id != exclude:
                _add_order(host, w, order)
    return w


def _add_order(host: TradingHost, w: Working, order: Order) -> None:
    leaves = order.leaves_qty
    if leaves > 0:
        w.add(
            order.side,
            leaves,
            order.price,
            order_value(host, order.side, w.instrument, leaves, order.price, w.mark),
        )


def _mark(host: TradingHost, instrument_id: InstrumentId) -> Decimal | None:
    mark = host.mark(instrument_id)
    if mark is not None:
        return mark
    pos = host.portfolio.find_position(instrument_id)
    return None if pos is None or pos.quantity == 0 else pos.avg_px
