"""The fake gateway's orders, positions and fills, following IB's documented order behaviour.

Written from IB's documentation of order types, bracket (attached) orders and one-cancels-all groups,
and from the status lifecycle in ``../shared/reference/brokers.md`` §5:

- an order sent with ``transmit=0`` waits in the gateway until an order with ``transmit=1`` naming it
  as its parent (or itself) arrives; then they go out together;
- a bracket's children (``parentId`` set) stay ``PreSubmitted`` until the parent fills; they then work
  for the quantity the parent has filled, and cancel each other (a fill of one reduces the other by
  the same quantity; the other is cancelled when one is done). Orders sharing an ``ocaGroup`` behave
  the same way (``ocaType`` 1 cancels the others on the first fill);
- market orders and marketable limits fill at once at the quote; resting limits fill when a later bar
  trades through them, stops when a bar touches them (at the trigger, or the open if it gapped);
- `partial_fill_pct` (a test knob) makes an order's first fill only that share of it; the rest fills on
  the next bar.

Every change is reported through `OrderListener`: the server turns it into openOrder, orderStatus,
execDetails and commissionReport messages.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from tradewright.servers.bars import BarRow, ReplayMarket
from tradewright.servers.ib.securities import Security

__all__ = ["ACTIVE", "Execution", "FakeOrder", "OrderBook", "OrderListener", "Rejection"]

ACTIVE = frozenset({"PreSubmitted", "Submitted"})
_ZERO = Decimal(0)


class Rejection(Exception):
    """An order the gateway refuses: IB error `code` with its text."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass(slots=True)
class FakeOrder:
    order_id: int
    client_id: int
    perm_id: int
    sec: Security
    action: str
    total: Decimal
    order_type: str
    lmt: Decimal | None
    aux: Decimal | None
    tif: str
    oca_group: str
    oca_type: int
    account: str
    order_ref: str
    parent_id: int
    outside_rth: bool
    transmit: bool
    status: str = "PendingSubmit"
    filled: Decimal = _ZERO
    value: Decimal = _ZERO
    last_fill_price: Decimal = _ZERO
    original: Decimal = _ZERO  # a child's size as sent (before it followed its parent)
    partial_done: bool = False
    completed_time: str = ""
    children: list[FakeOrder] = field(default_factory=list)

    @property
    def sign(self) -> int:
        return 1 if self.action == "BUY" else -1

    @property
    def remaining(self) -> Decimal:
        return self.total - self.filled

    @property
    def avg_price(self) -> Decimal:
        return self.value / self.filled if self.filled else _ZERO

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True, slots=True)
class Execution:
    exec_id: str
    order: FakeOrder
    shares: Decimal
    price: Decimal
    cum_qty: Decimal
    avg_price: Decimal
    ts_ns: int
    commission: Decimal


class OrderListener(Protocol):
    def order_changed(self, order: FakeOrder) -> None:
        """openOrder + orderStatus for one order."""

    def executed(self, execution: Execution) -> None:
        """execDetails, orderStatus and commissionReport for one fill."""


@dataclass(slots=True)
class _Position:
    quantity: Decimal = _ZERO
    cost: Decimal = _ZERO  # Σ signed price x size x multiplier of the open quantity


class OrderBook:
    """Every order, position and execution of the fake gateway's accounts."""

    def __init__(
        self,
        market: ReplayMarket,
        listener: OrderListener,
        *,
        accounts: tuple[str, ...],
        starting_cash: Decimal,
        commission_per_contract: Decimal = Decimal("0.85"),
    ) -> None:
        self.market = market
        self.listener = listener
        self.orders: dict[tuple[int, int], FakeOrder] = {}  # (clientId, orderId)
        self.executions: list[Execution] = []
        self.positions: dict[tuple[str, int], _Position] = {}
        self.cash: dict[str, Decimal] = dict.fromkeys(accounts, starting_cash)
        self.commission_per_contract = commission_per_contract
        self.partial_fill_pct: int | None = None
        self.reject_next: Rejection | None = None
        self._perm = itertools.count(1_000_001)
        self._exec = itertools.count(1)
        self._sequence: list[FakeOrder] = []  # arrival order, for matching
        market.listeners.append(self._on_bar)

    # --- requests ---------------------------------------------------------------------------
    def place(self, order: FakeOrder) -> None:
        """A new order (or, for an id already working, a modification)."""
        key = (order.client_id, order.order_id)
        existing = self.orders.get(key)
        if existing is not None and existing.status != "PendingSubmit":
            self._modify(existing, order)
            return
        self._validate(order)
        if self.reject_next is not None:
            rejection, self.reject_next = self.reject_next, None
            raise rejection
        order.perm_id = next(self._perm)
        order.original = order.total
        self.orders[key] = order
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is None or not (parent.active or parent.status == "PendingSubmit"):
                raise Rejection(201, f"Order rejected - reason:parent order {order.parent_id} is not working")
            parent.children.append(order)
        if not order.transmit:
            return  # held in the gateway until the transmitting order arrives
        group = [order]
        if order.parent_id:
            parent = self.orders[(order.client_id, order.parent_id)]
            group = [parent, *parent.children]
        for o in group:
            if o.status == "PendingSubmit":
                self._start(o)
        for o in group:
            if o.status in ACTIVE and not o.parent_id:
                self._match_now(o)

    def cancel(self, client_id: int, order_id: int) -> FakeOrder:
        order = self.orders.get((client_id, order_id))
        if order is None or not (order.active or order.status == "PendingSubmit"):
            raise Rejection(10147, f"OrderId {order_id} that needs to be cancelled is not found.")
        self._end(order, "Cancelled")
        for child in order.children:
            if child.active or child.status == "PendingSubmit":
                self._end(child, "Cancelled")
        return order

    def fill_at_quote(self, order: FakeOrder) -> None:
        """Fill what is left of a working order at the quote now, whatever its price (a test knob: a fill
        its client may not be connected to hear about)."""
        quote = self.market.quote(order.sec.con_id)
        if quote is None or not order.active:
            raise Rejection(10147, f"OrderId {order.order_id} cannot be filled now")
        tick = self.market.tick_size(order.sec.con_id)
        self._fill(order, tick * (quote[1] if order.sign > 0 else quote[0]), first=False)

    def cancel_all(self) -> None:
        for order in list(self._sequence):
            if order.active:
                self._end(order, "Cancelled")

    # --- state ----------------------------------------------------------------------------
    def open_orders(self, client_id: int | None = None) -> list[FakeOrder]:
        return [
            o for o in self._sequence if o.active and (client_id is None or client_id == 0 or o.client_id == client_id)
        ]

    def completed_orders(self) -> list[FakeOrder]:
        return [o for o in self._sequence if o.status in ("Filled", "Cancelled", "Inactive")]

    def position(self, account: str, con_id: int) -> tuple[Decimal, Decimal]:
        """(quantity, average cost per contract = price x multiplier)."""
        pos = self.positions.get((account, con_id))
        if pos is None or pos.quantity == 0:
            return _ZERO, _ZERO
        return pos.quantity, pos.cost / pos.quantity

    # --- internals ------------------------------------------------------------------------
    def _validate(self, order: FakeOrder) -> None:
        if order.total <= 0 or order.total != order.total.to_integral_value():
            raise Rejection(201, f"Order rejected - reason:invalid quantity {order.total}")
        if order.order_type not in ("MKT", "LMT", "STP", "STP LMT"):
            raise Rejection(201, f"Order rejected - reason:order type {order.order_type} is not supported here")
        tick = order.sec.min_tick
        for price in (order.lmt, order.aux):
            if price is not None and price % tick != 0:
                raise Rejection(
                    110, "The price does not conform to the minimum price variation for this contract."
                )
        if order.order_type in ("LMT", "STP LMT") and order.lmt is None:
            raise Rejection(201, "Order rejected - reason:a limit order needs a limit price")
        if order.order_type in ("STP", "STP LMT") and order.aux is None:
            raise Rejection(201, "Order rejected - reason:a stop order needs a stop price")

    def _start(self, order: FakeOrder) -> None:
        held = bool(order.parent_id) or order.order_type in ("STP", "STP LMT")
        order.status = "PreSubmitted" if held else "Submitted"
        self._sequence.append(order)
        self.listener.order_changed(order)

    def _modify(self, order: FakeOrder, new: FakeOrder) -> None:
        if not order.active:
            raise Rejection(10148, f"OrderId {order.order_id} that needs to be modified cannot be modified.")
        if new.total < order.filled:
            raise Rejection(201, f"Order rejected - reason:quantity below the filled {order.filled}")
        for price in (new.lmt, new.aux):
            if price is not None and price % order.sec.min_tick != 0:
                raise Rejection(110, "The price does not conform to the minimum price variation for this contract.")
        order.total, order.lmt, order.aux = new.total, new.lmt, new.aux
        self.listener.order_changed(order)
        if not order.parent_id or self._parent_filled(order) > 0:
            self._match_now(order)

    def _end(self, order: FakeOrder, status: str) -> None:
        order.status = status
        order.completed_time = str(self.market.now_ns // 1_000_000_000)
        self.listener.order_changed(order)

    def _parent_filled(self, order: FakeOrder) -> Decimal:
        parent = self.orders.get((order.client_id, order.parent_id))
        return _ZERO if parent is None else parent.filled

    def _match_now(self, order: FakeOrder) -> None:
        """Fill at once what is marketable against the current quote."""
        quote = self.market.quote(order.sec.con_id)
        if quote is None or not order.active or order.remaining <= 0:
            return
        bid, ask = (self.market.tick_size(order.sec.con_id) * t for t in quote)
        touch = ask if order.sign > 0 else bid
        price = self._marketable_price(order, touch, touch)
        if price is not None:
            self._fill(order, price, first=True)

    def _marketable_price(self, order: FakeOrder, reference: Decimal, extreme: Decimal) -> Decimal | None:
        """The fill price when `reference` (quote or open) or `extreme` (bar high/low) reaches the order."""
        sign = order.sign
        if order.order_type == "MKT":
            return reference
        if order.order_type in ("STP", "STP LMT"):
            assert order.aux is not None
            if (extreme - order.aux) * sign < 0:
                return None
            trigger_fill = max(order.aux * sign, reference * sign) * sign  # gapped: at the open
            if order.order_type == "STP":
                return trigger_fill
            assert order.lmt is not None
            return trigger_fill if (order.lmt - trigger_fill) * sign >= 0 else None
        assert order.lmt is not None
        if (reference - order.lmt) * sign <= 0:
            return reference  # marketable: at the better price
        if (extreme - order.lmt) * sign < 0:
            return order.lmt  # traded through
        return None

    def _on_bar(self, con_id: int, bar: BarRow) -> None:
        tick = self.market.tick_size(con_id)
        open_px = bar.open * tick
        for order in [o for o in self._sequence if o.sec.con_id == con_id and o.active]:
            if not order.active or order.remaining <= 0:
                continue
            if order.parent_id and self._parent_filled(order) <= 0:
                continue
            if order.partial_done and order.filled > 0 and order.order_type == "MKT":
                self._fill(order, open_px, first=False)
                continue
            extreme = (bar.high if order.sign > 0 else bar.low) * tick
            limit_extreme = (bar.low if order.sign > 0 else bar.high) * tick
            if order.order_type in ("STP", "STP LMT"):
                price = self._marketable_price(order, open_px, extreme)
            else:
                price = self._marketable_price(order, open_px, limit_extreme)
            if price is not None:
                self._fill(order, price, first=False)

    def _fill(self, order: FakeOrder, price: Decimal, *, first: bool) -> None:
        qty = order.remaining
        if first and self.partial_fill_pct is not None and not order.partial_done and order.filled == 0:
            share = (order.total * self.partial_fill_pct / 100).to_integral_value(rounding=ROUND_FLOOR)
            qty = max(Decimal(1), min(qty, share))
            order.partial_done = qty < order.remaining
        if qty <= 0:
            return
        order.filled += qty
        order.value += price * qty
        order.last_fill_price = price
        sec = order.sec
        multiplier = Decimal(sec.multiplier or 1)
        commission = self.commission_per_contract * qty if sec.sec_type == "FUT" else max(
            Decimal("1.00"), Decimal("0.005") * qty
        )
        self._book(order.account, sec.con_id, order.sign * qty, price, multiplier, commission)
        if order.filled >= order.total:
            order.status = "Filled"
            order.completed_time = str(self.market.now_ns // 1_000_000_000)
        execution = Execution(
            exec_id=f"0000{next(self._exec):04x}.{order.perm_id:08x}.01.01",
            order=order,
            shares=qty,
            price=price,
            cum_qty=order.filled,
            avg_price=order.avg_price,
            ts_ns=self.market.now_ns,
            commission=commission,
        )
        self.executions.append(execution)
        self.listener.executed(execution)
        for child in order.children:
            self._follow_parent(child, order)
        self._one_cancels_all(order, qty)

    def _follow_parent(self, child: FakeOrder, parent: FakeOrder) -> None:
        """A bracket child works for what its parent has filled (less what its siblings took)."""
        if not child.active:
            return
        taken = sum((s.filled for s in parent.children if s is not child), _ZERO)
        size = max(_ZERO, min(child.original, parent.filled) - taken)
        if size <= child.filled:
            self._end(child, "Cancelled")
            return
        if size != child.total or child.status == "PreSubmitted":
            child.total = size
            if child.order_type == "LMT":
                child.status = "Submitted"  # live at the exchange; a stop stays simulated (PreSubmitted)
            self.listener.order_changed(child)
            self._match_now(child)

    def _one_cancels_all(self, order: FakeOrder, qty: Decimal) -> None:
        siblings: list[FakeOrder] = []
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is not None:
                siblings = [c for c in parent.children if c is not order]
        elif order.oca_group:
            siblings = [
                o for o in self._sequence if o is not order and o.oca_group == order.oca_group and o.account == order.account
            ]
        for sibling in siblings:
            if not sibling.active:
                continue
            if order.oca_type == 1 and not order.parent_id:
                self._end(sibling, "Cancelled")
                continue
            if order.parent_id:
                parent = self.orders[(order.client_id, order.parent_id)]
                self._follow_parent(sibling, parent)
                continue
            sibling.total -= qty
            if sibling.total <= sibling.filled:
                sibling.total = max(sibling.total, sibling.filled)
                self._end(sibling, "Cancelled")
            else:
                self.listener.order_changed(sibling)

    def _book(self, account: str, con_id: int, signed: Decimal, price: Decimal, multiplier: Decimal, fee: Decimal) -> None:
        """Move the position (average cost) and the cash (realised PnL and commission)."""
        pos = self.positions.setdefault((account, con_id), _Position())
        cash = self.cash.get(account, _ZERO) - fee
        if pos.quantity == 0 or (pos.quantity > 0) == (signed > 0):
            pos.quantity += signed
            pos.cost += signed * price * multiplier
        else:
            closing = min(abs(signed), abs(pos.quantity)) * (1 if signed > 0 else -1)
            avg = pos.cost / pos.quantity
            cash += -closing * (price * multiplier - avg)
            pos.cost += closing * avg
            pos.quantity += closing
            rest = signed - closing
            if rest:
                pos.quantity += rest
                pos.cost += rest * price * multiplier
        self.cash[account] = cash
