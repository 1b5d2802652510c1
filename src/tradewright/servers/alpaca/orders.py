"""The local Alpaca's orders, positions and cash, following Alpaca's documented order behaviour.

Written from Alpaca's Trading API documentation (orders, order classes, the order lifecycle and the
trade_updates events) as summarised in ``../shared/reference/brokers.md`` §9-§10 and §13:

- a new order is ``accepted`` (event ``pending_new``), then ``new``; fills make it
  ``partially_filled`` / ``filled`` (events ``partial_fill`` / ``fill`` with the execution's price and
  size and the position after it);
- a bracket's legs (take-profit limit, stop-loss stop) are ``held`` until the entry has filled
  completely, then ``new``; when one leg fills the other is canceled;
- an order that is still open can be canceled (``pending_cancel`` -> ``canceled``) or replaced: a
  replace creates a **new** order (with `replaces`), the old one becomes ``replaced`` (events
  ``pending_replace``, ``replaced`` for the old order, ``new`` for the new one);
- market orders and marketable limits fill at once at the quote; resting limits fill when a later
  bar trades through them, stops when a bar touches them. `partial_fill_pct` (a test knob) makes an
  order's first fill that share of it; the rest fills on the next bar.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from tradewright.servers.bars import BarRow, ReplayMarket

__all__ = ["OPEN", "AlpacaOrder", "Asset", "OrderBook", "Refused", "TradeUpdate"]

OPEN = frozenset({"accepted", "new", "partially_filled", "held", "pending_new"})
_ZERO = Decimal(0)


class Refused(Exception):
    """Alpaca refuses a request: HTTP `status` with Alpaca's error `code` and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Asset:
    key: int
    symbol: str
    asset_class: str  # us_equity / crypto
    exchange: str
    name: str
    price_increment: Decimal
    min_trade_increment: Decimal

    @property
    def id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-asset:{self.symbol}"))


@dataclass(slots=True)
class AlpacaOrder:
    id: str
    client_order_id: str
    asset: Asset
    side: str  # buy / sell
    type: str  # market / limit / stop / stop_limit
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    order_class: str
    extended_hours: bool
    created_ns: int
    status: str = "accepted"
    filled_qty: Decimal = _ZERO
    value: Decimal = _ZERO
    updated_ns: int = 0
    filled_ns: int | None = None
    canceled_ns: int | None = None
    replaced_ns: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    legs: list[AlpacaOrder] = field(default_factory=list)
    parent: AlpacaOrder | None = None
    partial_done: bool = False

    @property
    def sign(self) -> int:
        return 1 if self.side == "buy" else -1

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def avg_price(self) -> Decimal | None:
        return self.value / self.filled_qty if self.filled_qty else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    event: str
    order: AlpacaOrder
    ts_ns: int
    execution_id: str | None = None
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None


@dataclass(slots=True)
class _Position:
    qty: Decimal = _ZERO
    cost: Decimal = _ZERO  # Σ signed price x qty of the open quantity


class OrderBook:
    """One account's orders, positions and cash (see the module docstring)."""

    def __init__(self, market: ReplayMarket, assets: dict[str, Asset], *, cash: Decimal) -> None:
        self.market = market
        self.assets = assets
        self._by_key = {a.key: a for a in assets.values()}
        self.orders: dict[str, AlpacaOrder] = {}
        self.positions: dict[str, _Position] = {}
        self.cash = cash
        self.listeners: list[Callable[[TradeUpdate], None]] = []
        self.executions: list[TradeUpdate] = []  # every fill, for the FILL account activities
        self.partial_fill_pct: int | None = None
        self._ids = itertools.count(1)
        market.listeners.append(self._on_bar)

    # --- requests -----------------------------------------------------------------------------
    def submit(self, body: dict[str, object]) -> AlpacaOrder:
        """POST /v2/orders: validate, create (with legs), announce, and fill what is marketable."""
        symbol = str(body.get("symbol", ""))
        asset = self.assets.get(symbol)
        if asset is None:
            raise Refused(422, 40010001, f"asset {symbol!r} not found")
        cid = str(body.get("client_order_id") or uuid.uuid4())
        if any(o.client_order_id == cid for o in self.orders.values()):
            raise Refused(422, 40010001, "client_order_id must be unique")
        order_class = str(body.get("order_class") or "simple")
        if order_class not in ("simple", "bracket", "oco", "oto"):
            raise Refused(422, 40010001, f"invalid order_class {order_class!r}")
        if order_class != "simple" and asset.asset_class == "crypto":
            raise Refused(422, 40010001, "crypto orders support order_class simple only")
        order = self._new(body, asset, cid, order_class)
        if order_class == "bracket":
            take, stop = body.get("take_profit"), body.get("stop_loss")
            if not isinstance(take, dict) or not isinstance(stop, dict):
                raise Refused(422, 40010001, "bracket orders require take_profit and stop_loss")
            exit_side = "sell" if order.side == "buy" else "buy"
            legs = [
                {"side": exit_side, "type": "limit", "limit_price": take.get("limit_price")},
                {"side": exit_side, "type": "stop", "stop_price": stop.get("stop_price")},
            ]
            for leg_body in legs:
                leg = self._new({**body, **leg_body, "order_class": "bracket"}, asset, str(uuid.uuid4()), "bracket")
                leg.parent = order
                leg.status = "held"
                order.legs.append(leg)
            self._check_bracket(order)
        self.orders[order.id] = order
        for leg in order.legs:
            self.orders[leg.id] = leg
        self._emit("pending_new", order)
        order.status = "new"
        self._emit("new", order)
        self._match_now(order)
        return order

    def cancel(self, order_id: str) -> AlpacaOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise Refused(404, 40410000, "order not found")
        if not order.is_open:
            raise Refused(422, 42210000, f"order is not cancelable (status {order.status})")
        self._emit("pending_cancel", order)
        self._end(order, "canceled")
        for leg in order.legs:
            if leg.is_open:
                self._end(leg, "canceled")
        return order

    def replace(self, order_id: str, body: dict[str, object]) -> AlpacaOrder:
        """PATCH /v2/orders/{id}: a new order replaces the old one."""
        old = self.orders.get(order_id)
        if old is None:
            raise Refused(404, 40410000, "order not found")
        if not old.is_open or old.status == "held":
            raise Refused(422, 42210000, f"order is not replaceable (status {old.status})")
        qty = _plain(Decimal(str(body["qty"]))) if body.get("qty") is not None else old.qty
        limit = _price(body.get("limit_price")) if body.get("limit_price") is not None else old.limit_price
        stop = _price(body.get("stop_price")) if body.get("stop_price") is not None else old.stop_price
        if (qty, limit, stop) == (old.qty, old.limit_price, old.stop_price):
            raise Refused(403, 40310000, "order parameters are not changed")
        if qty < old.filled_qty:
            raise Refused(422, 40010001, "qty must be greater than the filled quantity")
        new = AlpacaOrder(
            id=self._next_id(), client_order_id=str(body.get("client_order_id") or uuid.uuid4()), asset=old.asset,
            side=old.side, type=old.type, time_in_force=str(body.get("time_in_force") or old.time_in_force),
            qty=qty, limit_price=limit, stop_price=stop, order_class=old.order_class, extended_hours=old.extended_hours,
            created_ns=self.market.now_ns, updated_ns=self.market.now_ns, replaces=old.id, status="new",
            filled_qty=old.filled_qty, value=old.value,
        )
        self._validate_prices(new)
        self.orders[new.id] = new
        self._emit("pending_replace", old)
        old.status = "replaced"
        old.replaced_by = new.id
        old.replaced_ns = self.market.now_ns
        self._emit("replaced", old)
        self._emit("new", new)
        self._match_now(new)
        return new

    def fill_at_quote(self, order: AlpacaOrder) -> None:
        """Fill what is left of an open order at the quote now (a test knob: a fill its client may be
        away for)."""
        quote = self.market.quote(order.asset.key)
        if quote is None or not order.is_open:
            raise Refused(422, 42210000, "order cannot be filled now")
        tick = self.market.tick_size(order.asset.key)
        self._fill(order, tick * (quote[1] if order.sign > 0 else quote[0]), first=False)

    # --- state ----------------------------------------------------------------------------------
    def position(self, symbol: str) -> tuple[Decimal, Decimal]:
        """(qty, average entry price)."""
        pos = self.positions.get(symbol)
        if pos is None or pos.qty == 0:
            return _ZERO, _ZERO
        return pos.qty, pos.cost / pos.qty

    def by_client_id(self, cid: str) -> AlpacaOrder | None:
        for order in self.orders.values():
            if order.client_order_id == cid:
                return order
        return None

    # --- internals -----------------------------------------------------------------------------
    def _next_id(self) -> str:
        return str(uuid.UUID(int=0x61_70_61_63_00 << 80 | next(self._ids)))

    def _new(self, body: dict[str, object], asset: Asset, cid: str, order_class: str) -> AlpacaOrder:
        try:
            qty = Decimal(str(body.get("qty")))
        except ArithmeticError:
            raise Refused(422, 40010001, f"qty {body.get('qty')!r} is not a number") from None
        if not qty.is_finite() or qty <= 0 or qty % asset.min_trade_increment != 0:
            raise Refused(422, 40010001, f"qty {body.get('qty')} is not a positive multiple of {asset.min_trade_increment}")
        kind = str(body.get("type") or body.get("order_type") or "")
        if kind not in ("market", "limit", "stop", "stop_limit"):
            raise Refused(422, 40010001, f"invalid order type {kind!r}")
        side = str(body.get("side", ""))
        if side not in ("buy", "sell"):
            raise Refused(422, 40010001, f"invalid side {side!r}")
        order = AlpacaOrder(
            id=self._next_id(), client_order_id=cid, asset=asset, side=side, type=kind,
            time_in_force=str(body.get("time_in_force") or "day"), qty=_plain(qty),
            limit_price=_price(body.get("limit_price")), stop_price=_price(body.get("stop_price")),
            order_class=order_class, extended_hours=bool(body.get("extended_hours", False)),
            created_ns=self.market.now_ns, updated_ns=self.market.now_ns,
        )
        if kind in ("limit", "stop_limit") and order.limit_price is None:
            raise Refused(422, 40010001, "limit_price is required")
        if kind in ("stop", "stop_limit") and order.stop_price is None:
            raise Refused(422, 40010001, "stop_price is required")
        self._validate_prices(order)
        return order

    def _validate_prices(self, order: AlpacaOrder) -> None:
        step = order.asset.price_increment
        for price in (order.limit_price, order.stop_price):
            if price is not None and price % step != 0:
                raise Refused(422, 42210000, f"invalid limit_price {price}. sub-penny increment does not fulfill minimum pricing criteria")

    def _check_bracket(self, order: AlpacaOrder) -> None:
        take, stop = order.legs[0].limit_price, order.legs[1].stop_price
        assert take is not None and stop is not None
        if (take - stop) * order.sign <= 0:
            raise Refused(422, 42210000, "take_profit.limit_price must be beyond stop_loss.stop_price")

    def _emit(self, event: str, order: AlpacaOrder, **fill: object) -> None:
        order.updated_ns = self.market.now_ns
        update = TradeUpdate(event, order, self.market.now_ns, **fill)  # type: ignore[arg-type]
        for listener in list(self.listeners):
            listener(update)

    def _end(self, order: AlpacaOrder, status: str) -> None:
        order.status = status
        order.canceled_ns = self.market.now_ns
        self._emit(status, order)

    def _match_now(self, order: AlpacaOrder) -> None:
        quote = self.market.quote(order.asset.key)
        if quote is None or not order.is_open or order.status == "held":
            return
        tick = self.market.tick_size(order.asset.key)
        touch = tick * (quote[1] if order.sign > 0 else quote[0])
        price = self._price_against(order, touch, touch)
        if price is not None:
            self._fill(order, price, first=True)

    def _price_against(self, order: AlpacaOrder, reference: Decimal, extreme: Decimal) -> Decimal | None:
        sign = order.sign
        if order.type == "market":
            return reference
        if order.type in ("stop", "stop_limit"):
            assert order.stop_price is not None
            if (extreme - order.stop_price) * sign < 0:
                return None
            filled_at = max(order.stop_price * sign, reference * sign) * sign
            if order.type == "stop":
                return filled_at
            assert order.limit_price is not None
            return filled_at if (order.limit_price - filled_at) * sign >= 0 else None
        assert order.limit_price is not None
        if (reference - order.limit_price) * sign <= 0:
            return reference
        if (extreme - order.limit_price) * sign < 0:
            return order.limit_price
        return None

    def _on_bar(self, key: int, bar: BarRow) -> None:
        asset = self._by_key.get(key)
        if asset is None:
            return
        tick = self.market.tick_size(key)
        open_px = bar.open * tick
        for order in [o for o in self.orders.values() if o.asset.key == key and o.is_open and o.status != "held"]:
            if not order.is_open:
                continue
            if order.partial_done and order.type == "market":
                self._fill(order, open_px, first=False)
                continue
            adverse = (bar.high if order.sign > 0 else bar.low) * tick
            favourable = (bar.low if order.sign > 0 else bar.high) * tick
            extreme = adverse if order.type in ("stop", "stop_limit") else favourable
            price = self._price_against(order, open_px, extreme)
            if price is not None:
                self._fill(order, price, first=False)

    def _fill(self, order: AlpacaOrder, price: Decimal, *, first: bool) -> None:
        qty = order.remaining
        if first and self.partial_fill_pct is not None and order.filled_qty == 0 and not order.partial_done:
            share = (order.qty * self.partial_fill_pct / 100).to_integral_value(rounding=ROUND_FLOOR)
            qty = max(order.asset.min_trade_increment, min(qty, share))
            order.partial_done = qty < order.remaining
        order.filled_qty += qty
        order.value += price * qty
        self._book(order.asset.symbol, order.sign * qty, price)
        done = order.filled_qty >= order.qty
        order.status = "filled" if done else "partially_filled"
        if done:
            order.filled_ns = self.market.now_ns
        position, _ = self.position(order.asset.symbol)
        execution = TradeUpdate(
            "fill" if done else "partial_fill", order, self.market.now_ns, execution_id=str(uuid.uuid4()), price=price,
            qty=qty, position_qty=position,
        )
        self.executions.append(execution)
        order.updated_ns = self.market.now_ns
        for listener in list(self.listeners):
            listener(execution)
        if done and order.legs:
            for leg in order.legs:  # the entry is complete: its exits go live
                leg.status = "new"
                self._emit("new", leg)
            for leg in order.legs:
                self._match_now(leg)
        if order.parent is not None and done:
            for sibling in order.parent.legs:
                if sibling is not order and sibling.is_open:
                    self._end(sibling, "canceled")

    def _book(self, symbol: str, signed: Decimal, price: Decimal) -> None:
        pos = self.positions.setdefault(symbol, _Position())
        self.cash -= signed * price
        if pos.qty == 0 or (pos.qty > 0) == (signed > 0):
            pos.qty += signed
            pos.cost += signed * price
            return
        closing = min(abs(signed), abs(pos.qty)) * (1 if signed > 0 else -1)
        avg = pos.cost / pos.qty
        pos.cost += closing * avg
        pos.qty += closing
        rest = signed - closing
        if rest:
            pos.qty += rest
            pos.cost += rest * price


def _plain(value: Decimal) -> Decimal:
    """A quantity written plainly: 5.0 (a float sent by alpaca-py) is 5."""
    return Decimal(int(value)) if value == value.to_integral_value() else value.normalize()


def _price(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        raise Refused(422, 40010001, f"price {value!r} is not a number") from None
    if not price.is_finite() or price <= 0:
        raise Refused(422, 40010001, f"price {value!r} must be positive")
    return _plain(price)
