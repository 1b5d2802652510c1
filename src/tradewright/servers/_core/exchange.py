"""The private side every local venue server shares: accounts, orders and fills, matched by tradewright's
queue-aware simulated venue (`tradewright.sim.SimVenue`) against the replayed book.

A venue protocol module turns its REST/WebSocket requests into `place`/`amend`/`cancel` calls and turns
`OrderChange`s (sent to every listener, in order) into the venue's own pushes. A refusal raises
`OrderRefused` with a machine reason the protocol maps to the venue's error envelope:

``unknown_symbol``, ``unsupported``, ``off_grid``, ``below_min_size``, ``duplicate_client_order_id``,
``insufficient_funds``, ``post_only_would_take``, ``order_not_found``, ``order_not_open``,
``would_cross``, ``quantity_below_filled``, ``fok_not_filled``, ``self_trade_prevented``, ``injected``.

Matching runs on the replay's clock (venue time) with no latency: an order is answered at once, against
the book as it stands. Resting orders fill when recorded trades consume the queue ahead of them or the
book moves through their price (see `tradewright.sim.venue`). Our orders do not deplete the recorded book.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from tradewright.core.clock import SimClock
from tradewright.core.errors import GridError
from tradewright.core.ids import ClientOrderId, StrategyId, Venue
from tradewright.model.book import OrderBook
from tradewright.model.columnar import MarketStream
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from tradewright.model.orders import Order
from tradewright.servers._core.accounts import ZERO, Account, MarketKind, SimMarket
from tradewright.servers._core.scheduler import Scheduler
from tradewright.sim.fees import FeeModel
from tradewright.sim.venue import SimVenue

__all__ = ["Exchange", "OrderChange", "OrderRefused", "SimFill", "SimOrder", "Status"]


class Status(enum.StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in (Status.NEW, Status.PARTIALLY_FILLED)


class OrderRefused(Exception):
    """The venue refuses a request; `reason` is machine-readable, `venue_code` an injected code."""

    def __init__(self, reason: str, message: str, venue_code: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.venue_code = venue_code


@dataclass(frozen=True, slots=True)
class SimFill:
    trade_id: str
    order_id: str
    client_id: str
    account: str
    symbol: str
    side: str  # "buy" / "sell"
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_ccy: str
    maker: bool
    ts_ms: int


@dataclass(slots=True)
class SimOrder:
    """One order as the venue knows it; sizes in the venue's units, prices exact."""

    order_id: str
    client_id: str
    account: str
    symbol: str
    side: str  # "buy" / "sell"
    type: str  # "limit" / "market"
    tif: str  # "GTC" / "IOC" / "FOK" / "POST_ONLY"
    price: Decimal | None
    qty: Decimal
    created_ms: int
    updated_ms: int
    reduce_only: bool = False
    filled: Decimal = ZERO
    cum_quote: Decimal = ZERO
    fee: Decimal = ZERO
    fee_ccy: str = ""
    status: Status = Status.NEW
    cancel_source: str = ""
    amends: int = 0
    locked: Decimal = ZERO  # spot: what this order holds of its spending asset

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.filled if self.status.is_open else ZERO

    @property
    def avg_px(self) -> Decimal:
        return self.cum_quote / self.filled if self.filled else ZERO

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def sign(self) -> int:
        return 1 if self.side == "buy" else -1


@dataclass(frozen=True, slots=True)
class OrderChange:
    """Something happened to an order: `kind` is new, fill, amended, canceled, expired or rejected."""

    order: SimOrder
    kind: str
    fill: SimFill | None = None


_TIF = {"GTC": TimeInForce.GTC, "POST_ONLY": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}


class Exchange:
    """Orders and accounts of one venue server (see the module docstring)."""

    def __init__(
        self,
        venue: str,
        markets: Iterable[SimMarket],
        accounts: Iterable[Account],
        *,
        first_order_id: int = 1,
    ) -> None:
        self.venue = venue
        self.markets: dict[str, SimMarket] = {m.symbol: m for m in markets}
        self.accounts: dict[str, Account] = {a.api_key: a for a in accounts}
        self.clock = SimClock(0)
        self.scheduler = Scheduler(self.clock)
        self._sim = SimVenue(
            Venue(venue.upper()), self.clock, self.scheduler.schedule, self._on_event, fees=FeeModel()
        )
        self._books: dict[str, OrderBook] = {}
        for m in self.markets.values():
            book = self._books[m.symbol] = OrderBook(m.instrument)
            self._sim.add_instrument(m.instrument, book)
        self.orders: dict[str, SimOrder] = {}
        self.fills: list[SimFill] = []
        self.listeners: list[Callable[[OrderChange], None]] = []
        self._ids = itertools.count(first_order_id)
        self._trade_ids = itertools.count(1)
        self._sim_orders: dict[str, Order] = {}
        self._outcome: dict[str, str] = {}

    # --- time and market data -----------------------------------------------------------------------
    def now_ms(self) -> int:
        return self.clock.now_ns() // 1_000_000

    def on_rows(self, stream: MarketStream, start: int, stop: int, ts_ns: int) -> None:
        """Apply recorded rows [start, stop) of one market's stream at venue time `ts_ns`."""
        self.clock.advance_to(ts_ns)
        for k in range(start, stop):
            self._sim.on_row(stream, k)
        self.scheduler.run_due(self.clock.now_ns())

    def book(self, symbol: str) -> OrderBook:
        return self._books[symbol]

    # --- queries ----------------------------------------------------------------------------------
    def market(self, symbol: str) -> SimMarket:
        market = self.markets.get(symbol)
        if market is None:
            raise OrderRefused("unknown_symbol", f"unknown instrument {symbol}")
        return market

    def find(
        self, account: str, *, order_id: str | None = None, client_id: str | None = None
    ) -> SimOrder | None:
        if order_id:
            order = self.orders.get(order_id)
            if order is None or order.account != account or (client_id and order.client_id != client_id):
                return None
            return order
        if client_id:
            found = [o for o in self.orders.values() if o.account == account and o.client_id == client_id]
            return found[-1] if found else None
        return None

    def open_orders(self, account: str, symbol: str | None = None) -> list[SimOrder]:
        return [
            o for o in self.orders.values()
            if o.account == account and o.is_open and (symbol is None or o.symbol == symbol)
        ]  # fmt: skip

    def orders_of(self, account: str, symbol: str | None = None) -> list[SimOrder]:
        return [
            o for o in self.orders.values() if o.account == account and (symbol is None or o.symbol == symbol)
        ]

    def fills_of(self, account: str, symbol: str | None = None, order_id: str | None = None) -> list[SimFill]:
        return [
            f for f in self.fills
            if f.account == account and (symbol is None or f.symbol == symbol)
            and (order_id is None or f.order_id == order_id)
        ]  # fmt: skip

    # --- placing ----------------------------------------------------------------------------------
    def place(
        self,
        account: str,
        symbol: str,
        side: str,
        order_type: str,
        qty: Decimal,
        price: Decimal | None,
        *,
        tif: str = "GTC",
        client_id: str = "",
        reduce_only: bool = False,
        injected: str | None = None,
    ) -> SimOrder:
        """Place an order and answer at once (raise `OrderRefused` if the venue would refuse it)."""
        market = self.market(symbol)
        acc = self.accounts[account]
        if injected is not None:
            raise OrderRefused("injected", "order refused (injected fault)", injected)
        if market.kind is MarketKind.INVERSE:
            raise OrderRefused("unsupported", f"{symbol}: orders on inverse contracts are not simulated here")
        if order_type not in ("limit", "market") or tif not in _TIF:
            raise OrderRefused("unsupported", f"order type {order_type}/{tif} is not supported")
        inst = market.instrument
        try:
            inst.size_to_lots(qty)
            if price is not None:
                inst.price_to_ticks(price)
        except GridError as exc:
            raise OrderRefused("off_grid", str(exc)) from None
        if qty <= 0 or qty < inst.min_size:
            raise OrderRefused("below_min_size", f"{symbol}: size {qty} is below the minimum {inst.min_size}")
        if order_type == "limit" and (price is None or price <= 0):
            raise OrderRefused("unsupported", "a limit order needs a positive price")
        if client_id and any(o.client_id == client_id for o in self.open_orders(account)):
            raise OrderRefused("duplicate_client_order_id", f"client order id {client_id} is in use")
        now = self.now_ms()
        order = SimOrder(
            order_id=str(next(self._ids)), client_id=client_id, account=account, symbol=symbol, side=side,
            type=order_type, tif=tif, price=price, qty=qty, created_ms=now, updated_ms=now,
            reduce_only=reduce_only, fee_ccy=market.quote if market.kind is MarketKind.SPOT else market.settle,
        )  # fmt: skip
        self._check_funds(acc, market, order)
        self.orders[order.order_id] = order
        if market.kind is MarketKind.SPOT:
            self._lock(acc, market, order)
        cmd = SubmitOrder(
            ts_init=self.clock.now_ns(),
            client_order_id=ClientOrderId(order.order_id),
            strategy_id=StrategyId(account),
            instrument_id=inst.id,
            side=OrderSide.BUY if side == "buy" else OrderSide.SELL,
            order_type=OrderType.LIMIT if order_type == "limit" else OrderType.MARKET,
            quantity=qty,
            price=price if order_type == "limit" else None,
            time_in_force=_TIF[tif] if order_type == "limit" else TimeInForce.IOC,
            post_only=tif == "POST_ONLY",
            reduce_only=reduce_only,
        )
        sim_order = self._sim_orders[order.order_id] = Order(cmd)
        self._sim.submit(sim_order)
        self.scheduler.run_due(self.clock.now_ns())
        outcome = self._outcome.pop(order.order_id, "")
        if outcome:
            self._unlock(acc, market, order)
            del self.orders[order.order_id]
            messages = {
                "post_only_would_take": "post-only order would take liquidity",
                "self_trade_prevented": "order would trade against our own order",
                "fok_not_filled": "fill-or-kill order could not be filled completely",
            }
            raise OrderRefused(outcome, messages.get(outcome, outcome))
        return order

    def _check_funds(self, acc: Account, market: SimMarket, order: SimOrder) -> None:
        px = order.price if order.price is not None else self._reference_price(market, order.side)
        if market.kind is MarketKind.SPOT:
            need, ccy = (px * order.qty, market.quote) if order.side == "buy" else (order.qty, market.base)
            if acc.balance(ccy).free < need:
                raise OrderRefused(
                    "insufficient_funds", f"insufficient {ccy}: {need} needed, {acc.balance(ccy).free} free"
                )
            return
        if order.reduce_only:
            return
        notional = {o.order_id: self._order_notional(o) for o in self.open_orders(acc.api_key)}
        notional[order.order_id] = px * order.qty * market.instrument.multiplier
        used = acc.used_margin(self.markets, notional)
        if used > acc.balance(market.settle).total:
            raise OrderRefused(
                "insufficient_funds",
                f"insufficient margin: {used} {market.settle} needed at {acc.leverage}x, "
                f"{acc.balance(market.settle).total} available",
            )

    def _order_notional(self, order: SimOrder) -> Decimal:
        market = self.markets[order.symbol]
        if market.kind is MarketKind.SPOT or order.price is None:
            return ZERO
        return order.price * (order.qty - order.filled) * market.instrument.multiplier

    def _reference_price(self, market: SimMarket, side: str) -> Decimal:
        book = self._books[market.symbol]
        tick = book.best_ask_tick if side == "buy" else book.best_bid_tick
        if tick is None:
            raise OrderRefused("unsupported", f"{market.symbol}: no market to trade against")
        return market.instrument.ticks_to_price(tick)

    def _lock(self, acc: Account, market: SimMarket, order: SimOrder) -> None:
        if order.side == "buy":
            px = order.price if order.price is not None else self._reference_price(market, "buy")
            order.locked = px * order.qty
            acc.balance(market.quote).locked += order.locked
        else:
            order.locked = order.qty
            acc.balance(market.base).locked += order.locked

    def _unlock(self, acc: Account, market: SimMarket, order: SimOrder) -> None:
        if market.kind is not MarketKind.SPOT or not order.locked:
            return
        ccy = market.quote if order.side == "buy" else market.base
        acc.balance(ccy).locked -= order.locked
        order.locked = ZERO

    # --- amending and cancelling --------------------------------------------------------------------
    def amend(self, order: SimOrder, price: Decimal | None, qty: Decimal | None) -> SimOrder:
        """Change a resting order's price and/or total size in place (it keeps its order id)."""
        if not order.is_open or order.order_id not in self._sim_orders:
            raise OrderRefused("order_not_open", f"order {order.order_id} is not open")
        market = self.markets[order.symbol]
        try:
            if price is not None:
                market.instrument.price_to_ticks(price)
            if qty is not None:
                market.instrument.size_to_lots(qty)
        except GridError as exc:
            raise OrderRefused("off_grid", str(exc)) from None
        if qty is not None and qty <= order.filled:
            raise OrderRefused(
                "quantity_below_filled", f"new size {qty} is not above the filled {order.filled}"
            )
        self._sim.modify(self._sim_orders[order.order_id], price, qty)
        self.scheduler.run_due(self.clock.now_ns())
        outcome = self._outcome.pop(order.order_id, "")
        if outcome:
            raise OrderRefused(outcome, f"amend refused: {outcome}")
        return order

    def cancel(self, order: SimOrder, source: str = "user") -> SimOrder:
        if not order.is_open or order.order_id not in self._sim_orders:
            raise OrderRefused("order_not_open", f"order {order.order_id} is not open")
        order.cancel_source = source
        self._sim.cancel(self._sim_orders[order.order_id])
        self.scheduler.run_due(self.clock.now_ns())
        outcome = self._outcome.pop(order.order_id, "")
        if outcome:
            raise OrderRefused("order_not_open", f"order {order.order_id} is not open")
        return order

    def cancel_all(self, account: str, symbol: str | None = None) -> list[SimOrder]:
        done = []
        for order in self.open_orders(account, symbol):
            try:
                done.append(self.cancel(order))
            except OrderRefused:
                continue  # filled meanwhile
        return done

    # --- the simulated venue's answers --------------------------------------------------------------
    def _on_event(self, event: OrderEvent) -> None:
        order = self.orders.get(event.client_order_id)
        if order is None:
            return
        acc = self.accounts[order.account]
        market = self.markets[order.symbol]
        now = self.now_ms()
        if isinstance(event, OrderAccepted):
            self._notify(OrderChange(order, "new"))
        elif isinstance(event, OrderFilled):
            self._fill(acc, market, order, event, now)
        elif isinstance(event, OrderUpdated):
            self._amended(acc, market, order, event, now)
        elif isinstance(event, OrderCanceled | OrderExpired):
            order.status = Status.CANCELED if isinstance(event, OrderCanceled) else Status.EXPIRED
            if isinstance(event, OrderExpired) and order.tif == "FOK" and order.filled == 0:
                self._outcome[order.order_id] = "fok_not_filled"
                self._sim_orders.pop(order.order_id, None)
                return
            order.updated_ms = now
            self._unlock(acc, market, order)
            self._sim_orders.pop(order.order_id, None)
            self._notify(OrderChange(order, "canceled" if order.status is Status.CANCELED else "expired"))
        elif isinstance(event, OrderRejected):
            self._outcome[order.order_id] = event.reason
            self._sim_orders.pop(order.order_id, None)
        elif isinstance(event, OrderCancelRejected | OrderModifyRejected):
            self._outcome[order.order_id] = event.reason

    def _fill(self, acc: Account, market: SimMarket, order: SimOrder, event: OrderFilled, now: int) -> None:
        maker = event.liquidity is LiquiditySide.MAKER
        inst = market.instrument
        rate = inst.maker_fee if maker else inst.taker_fee
        price, qty = event.last_px, event.last_qty
        fee = abs(price * qty * inst.multiplier) * rate
        fill = SimFill(
            trade_id=str(next(self._trade_ids)), order_id=order.order_id, client_id=order.client_id,
            account=order.account, symbol=order.symbol, side=order.side, price=price, qty=qty, fee=fee,
            fee_ccy=order.fee_ccy, maker=maker, ts_ms=now,
        )  # fmt: skip
        order.filled += qty
        order.cum_quote += price * qty
        order.fee += fee
        order.updated_ms = now
        order.status = Status.FILLED if order.filled >= order.qty else Status.PARTIALLY_FILLED
        if market.kind is MarketKind.SPOT:
            self._settle_spot(acc, market, order, price, qty, fee)
        else:
            acc.apply_linear_fill(market, order.sign * qty, price, fee, now)
        if order.status is Status.FILLED:
            self._unlock(acc, market, order)
            self._sim_orders.pop(order.order_id, None)
        self.fills.append(fill)
        self._notify(OrderChange(order, "fill", fill))

    def _settle_spot(
        self, acc: Account, market: SimMarket, order: SimOrder, price: Decimal, qty: Decimal, fee: Decimal
    ) -> None:
        quote, base = acc.balance(market.quote), acc.balance(market.base)
        if order.side == "buy":
            release = min(order.locked, (order.price if order.price is not None else price) * qty)
            quote.locked -= release
            order.locked -= release
            quote.total -= price * qty + fee
            base.total += qty
        else:
            base.locked -= qty
            order.locked -= qty
            base.total -= qty
            quote.total += price * qty - fee

    def _amended(
        self, acc: Account, market: SimMarket, order: SimOrder, event: OrderUpdated, now: int
    ) -> None:
        if market.kind is MarketKind.SPOT:
            self._unlock(acc, market, order)
        order.qty = event.quantity
        order.price = event.price if event.price is not None else order.price
        order.amends += 1
        order.updated_ms = now
        if market.kind is MarketKind.SPOT:
            remaining = order.qty - order.filled
            order.locked = (order.price or ZERO) * remaining if order.side == "buy" else remaining
            ccy = market.quote if order.side == "buy" else market.base
            acc.balance(ccy).locked += order.locked
        self._notify(OrderChange(order, "amended"))

    def _notify(self, change: OrderChange) -> None:
        for listener in self.listeners:
            listener(change)
