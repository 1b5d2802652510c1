"""The emulated exchange: the replayed market, the queue-aware simulated venue, accounts and order state.

Orders go to `tradewright.sim.SimVenue` (queue position, latency, fees); its events are translated into
Binance order states, fills, balance changes and user-stream events. Every change is committed to the
state file before it is answered or published (`commit`). Time: the venue runs on the replay clock (data
time); `venue_ms` is that time in Binance's millisecond stamps, shifted onto the venue's own clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewright.core.clock import SimClock
from tradewright.core.errors import ConfigError
from tradewright.core.ids import ClientOrderId, StrategyId, Venue
from tradewright.emulator import payloads as P
from tradewright.emulator.errors import BinanceError, VenueErrors
from tradewright.emulator.faults import Faults
from tradewright.emulator.funds import Funds
from tradewright.emulator.keyhash import hash_secret, secret_matches
from tradewright.emulator.ledger import Account
from tradewright.emulator.market import MarketReplay
from tradewright.emulator.records import EmFill, EmOrder
from tradewright.emulator.requests import OrderRequest
from tradewright.emulator.scheduler import Scheduler
from tradewright.emulator.spec import VenueSpec
from tradewright.emulator.store import StateStore
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
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency
from tradewright.sim.queue import QueueModel
from tradewright.sim.venue import SimVenue

__all__ = ["AccountSeed", "Exchange", "ExchangeSettings"]

ZERO = Decimal(0)
MAX_AMENDMENTS = 10_000  # "One order can only be modified for less than 10000 times" (USD-M docs)
UserSink = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class AccountSeed:
    api_key: str
    secret: str
    balances: dict[str, Decimal]
    leverage: int = 20

    def __repr__(self) -> str:
        return f"AccountSeed({self.api_key!r}, balances={self.balances}, leverage={self.leverage})"


@dataclass(frozen=True, slots=True)
class ExchangeSettings:
    maker_fee: Decimal
    taker_fee: Decimal
    queue_model: QueueModel
    order_latency_ns: int
    accounts: tuple[AccountSeed, ...]


@dataclass(slots=True)
class _Pending:
    """An order or cancel request waiting for the simulated venue's answer."""

    future: asyncio.Future[None] | None
    done: bool = False
    outcome: str = ""


class Exchange:
    """One emulated Binance market (see the module docstring)."""

    def __init__(
        self,
        spec: VenueSpec,
        stream: MarketStream,
        settings: ExchangeSettings,
        store: StateStore,
        faults: Faults,
        *,
        wants: Callable[[str], bool],
        publish: Callable[[str, bytes], None],
    ) -> None:
        self.spec = spec
        self.errors = VenueErrors(spec.futures)
        self.settings = settings
        self.store = store
        self.faults = faults
        self.clock = SimClock(0)
        self.scheduler = Scheduler(self.clock)
        self.book = OrderBook(spec.instrument)
        latency = settings.order_latency_ns
        self.venue = SimVenue(
            Venue("BINANCE"),
            self.clock,
            self.scheduler.schedule,
            self._on_venue_event,
            latency=ConstantLatency(latency, 0, latency),
            fees=FeeModel(settings.maker_fee, settings.taker_fee),
            queue_model=settings.queue_model,
        )
        self.venue.add_instrument(spec.instrument, self.book)
        self.market = MarketReplay(
            spec, stream, self.venue, self.book, self.scheduler, wants, publish, faults.withhold_depth
        )
        self.funds = Funds(spec, self.market, self.errors)
        self.user_sink: UserSink = lambda api_key, event: None
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, EmOrder] = {}
        self.fills: list[EmFill] = []
        self.fills_by_order: dict[int, list[EmFill]] = {}
        self.listen_keys: dict[str, tuple[str, int]] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self.event_seq = 1
        self._sim_orders: dict[int, Order] = {}
        self._pending: dict[int, _Pending] = {}
        self._cancels: dict[int, _Pending] = {}
        self._amends: dict[int, _Pending] = {}
        self._amend_counts: dict[int, int] = {}  # per order (memory only: a restart resets the count)
        self._reprice: dict[int, tuple[Decimal, Decimal]] = {}  # crossing amends: re-entered at this price
        self._amend_args: dict[int, tuple[Decimal, Decimal]] = {}  # amends on their way: (price, quantity)
        self._reentered: set[int] = set()
        self._restoring: set[int] = set()
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._new_fills: list[EmFill] = []
        self._deleted: list[int] = []
        self._listen_changes: dict[str, tuple[str, int] | None] = {}

    # --- time ------------------------------------------------------------------------------------
    def venue_ms(self) -> int:
        return (self.clock.now_ns() + self.market.offset_ns) // 1_000_000

    # --- start-up ----------------------------------------------------------------------------------
    def open(self, source: str) -> None:
        """Load the state file (or start it), rebuild the book and put resting orders back in their queues."""
        meta = self.store.meta()
        stream = self.market.stream
        identity = {"venue": self.spec.kind.value, "symbol": self.spec.symbol, "rows": str(len(stream))}
        if not meta:
            position = self.market.first_ready_position()
            data_ns = self.market.row_time(max(position - 1, 0)) if len(stream) else 0
            meta = identity | {"source": source, "position": str(position), "data_ns": str(data_ns)}
            self.store.commit(meta)
        for key, value in identity.items():
            if meta.get(key) != value:
                raise ConfigError(
                    f"state file {self.store.path} belongs to another emulator ({key} {meta.get(key)!r}, "
                    f"not {value!r}); start with --fresh or another --state"
                )
        self.accounts = self.store.accounts()
        for order in self.store.orders():
            self.orders[order.order_id] = order
        for fill in self.store.fills():
            self._index_fill(fill)
        self.listen_keys = self.store.listen_keys()
        self.next_order_id = int(meta.get("next_order_id", "1"))
        self.next_trade_id = int(meta.get("next_trade_id", "1"))
        self.event_seq = int(meta.get("event_seq", "1"))
        self.market.rebuild(int(meta["position"]))
        self.clock.advance_to(int(meta["data_ns"]))
        self._seed_accounts()
        self._restore_resting()
        self.commit()

    def _seed_accounts(self) -> None:
        """Give each configured account its secret (memory only); create the accounts the state lacks."""
        for seed in self.settings.accounts:
            known = self.accounts.get(seed.api_key)
            if known is not None:  # a restart keeps what the account holds now
                if not secret_matches(seed.secret, known.secret_hash):
                    raise ConfigError(
                        f"account {seed.api_key}: the secret in the environment is not the one state file "
                        f"{self.store.path} was created with; set the right one, or start with --fresh"
                    )
                known.secret = seed.secret
                continue
            acc = Account(
                seed.api_key,
                seed.secret,
                leverage=seed.leverage,
                update_ms=self.venue_ms(),
                secret_hash=hash_secret(seed.secret),
            )
            for asset, amount in seed.balances.items():
                if self.spec.futures:
                    acc.wallet[asset] = amount
                else:
                    acc.balance(asset).free = amount
            self.accounts[seed.api_key] = acc

    def _restore_resting(self) -> None:
        """Put open orders back: resting ones silently at their saved queue position; orders that were
        still on their way to the venue (never saved with a queue position) arrive again, as new."""
        saved = self.venue.latency
        self.venue.latency = ConstantLatency(0, 0)
        try:
            for order in self.orders.values():
                if order.is_open and order.queue_ahead is not None:
                    self._restoring.add(order.order_id)
                    self._submit(order, post_only=False)
            self.scheduler.run_due(self.clock.now_ns())
            for order in self.orders.values():
                if order.order_id in self._restoring and order.queue_ahead is not None:
                    self.venue.set_queue_ahead(ClientOrderId(str(order.order_id)), order.queue_ahead)
        finally:
            self._restoring.clear()
            self.venue.latency = saved
        for order in self.orders.values():
            if order.is_open and order.queue_ahead is None and order.executed_qty == 0:
                self._submit(order, post_only=order.post_only)

    # --- committing and publishing -----------------------------------------------------------------
    def commit(self) -> None:
        """Write every change since the last commit in one transaction, then publish its user events."""
        for order in self.orders.values():
            if order.is_open and order.type != "MARKET":
                ahead = self.venue.queue_ahead(ClientOrderId(str(order.order_id)))
                if ahead is not None and ahead != order.queue_ahead:
                    order.queue_ahead = ahead
                    order.dirty = True
        meta = {
            "position": str(self.market.position),
            "data_ns": str(self.clock.now_ns()),
            "next_order_id": str(self.next_order_id),
            "next_trade_id": str(self.next_trade_id),
            "event_seq": str(self.event_seq),
        }
        orders = [o for o in self.orders.values() if o.dirty]
        accounts = [a for a in self.accounts.values() if a.dirty]
        self.store.commit(meta, accounts, orders, self._new_fills, self._listen_changes, self._deleted)
        for o in orders:
            o.dirty = False
        for a in accounts:
            a.dirty = False
        self._new_fills = []
        self._deleted = []
        self._listen_changes = {}
        events, self._events = self._events, []
        for api_key, event in events:
            self.user_sink(api_key, event)
        for table in (self._pending, self._cancels, self._amends):
            for key, pending in list(table.items()):
                if pending.done:
                    del table[key]
                    if pending.future is not None and not pending.future.done():
                        pending.future.set_result(None)

    def advance(self, target_ns: int) -> bool:
        """Replay up to `target_ns` (in bounded steps); commit what happened. True when caught up."""
        before = (self.next_trade_id, len(self._events))
        caught_up = self.market.advance(target_ns)
        if (self.next_trade_id, len(self._events)) != before or self._pending_done():
            self.commit()
        return caught_up

    def _pending_done(self) -> bool:
        tables = (self._pending, self._cancels, self._amends)
        return any(p.done for table in tables for p in table.values())

    def set_listen_key(self, key: str, value: tuple[str, int] | None) -> None:
        if value is None:
            self.listen_keys.pop(key, None)
        else:
            self.listen_keys[key] = value
        self._listen_changes[key] = value

    # --- accounts --------------------------------------------------------------------------------
    def secret_of(self, api_key: str) -> str | None:
        acc = self.accounts.get(api_key)
        return None if acc is None else acc.secret

    def account(self, api_key: str) -> Account:
        return self.accounts[api_key]

    def futures_margins(self, acc: Account) -> tuple[Decimal, Decimal, Decimal]:
        """(unrealised PnL, open-order initial margin, available balance) of a USD-M account."""
        return self.funds.margins(acc, self.open_orders(acc.api_key))

    def _notionals(self, api_key: str) -> tuple[Decimal, Decimal]:
        bids = asks = ZERO
        for o in self.open_orders(api_key):
            if o.sign > 0:
                bids += o.leaves_qty * o.price
            else:
                asks += o.leaves_qty * o.price
        return bids, asks

    # --- queries ---------------------------------------------------------------------------------
    def open_orders(self, api_key: str) -> list[EmOrder]:
        """The account's open orders (the emulator serves one symbol)."""
        return [o for o in self.orders.values() if o.api_key == api_key and o.is_open]

    def find_order(self, api_key: str, order_id: int | None, client_id: str | None) -> EmOrder | None:
        if order_id is not None:
            o = self.orders.get(order_id)
            if (
                o is None
                or o.api_key != api_key
                or (client_id is not None and o.client_order_id != client_id)
            ):
                return None
            return o
        found = [o for o in self.orders.values() if o.api_key == api_key and o.client_order_id == client_id]
        return max(found, key=lambda o: o.order_id) if found else None

    def fills_of(self, order_id: int) -> list[EmFill]:
        return self.fills_by_order.get(order_id, [])

    def _index_fill(self, fill: EmFill) -> None:
        self.fills.append(fill)
        self.fills_by_order.setdefault(fill.order_id, []).append(fill)

    # --- placing ---------------------------------------------------------------------------------
    async def place(self, api_key: str, req: OrderRequest) -> EmOrder:
        """Place an order: check funds, hand it to the simulated venue, wait for its answer."""
        rejection = self.faults.order_rejection()
        if rejection is not None:
            raise rejection
        if any(o.client_order_id == req.client_order_id for o in self.open_orders(api_key)):
            raise self.errors.duplicate_order()
        acc = self.accounts[api_key]
        if req.quantity is not None:
            quantity = req.quantity
        else:
            assert req.quote_order_qty is not None
            quantity = self.funds.qty_for_quote(req.side, req.quote_order_qty)
        price = req.price if req.price is not None else ZERO
        now = self.venue_ms()
        order = EmOrder(
            order_id=self.next_order_id,
            api_key=api_key,
            symbol=self.spec.symbol,
            client_order_id=req.client_order_id,
            side=req.side,
            type=req.type,
            tif=req.tif,
            price=price,
            orig_qty=quantity,
            time_ms=now,
            update_ms=now,
            reduce_only=req.reduce_only,
        )
        if self.spec.futures:
            self.funds.check_margin(acc, order, self.open_orders(api_key))
        else:
            self.funds.lock(acc, order)
        self.next_order_id += 1
        self.orders[order.order_id] = order
        pending = self._pending[order.order_id] = _Pending(asyncio.get_running_loop().create_future())
        self._submit(order, post_only=order.post_only)
        self.scheduler.run_due(self.clock.now_ns())
        self.commit()
        if not pending.done and pending.future is not None:
            await pending.future
        if pending.outcome:
            raise self._placement_error(pending.outcome)
        return order

    def _submit(self, order: EmOrder, *, post_only: bool) -> None:
        market = order.type == "MARKET"
        tif = {"GTC": TimeInForce.GTC, "GTX": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
        cmd = SubmitOrder(
            ts_init=self.clock.now_ns(),
            client_order_id=ClientOrderId(str(order.order_id)),
            strategy_id=StrategyId(order.api_key),
            instrument_id=self.spec.instrument.id,
            side=OrderSide.BUY if order.side == "BUY" else OrderSide.SELL,
            order_type=OrderType.MARKET if market else OrderType.LIMIT,
            quantity=order.leaves_qty,
            price=None if market else order.price,
            time_in_force=TimeInForce.GTC if market else tif[order.tif],
            post_only=post_only,
        )
        sim_order = Order(cmd)
        self._sim_orders[order.order_id] = sim_order
        self.venue.submit(sim_order)

    def _placement_error(self, outcome: str) -> BinanceError:
        if outcome == "post_only_would_take":
            return self.errors.post_only_would_take()
        if outcome == "fok":
            return self.errors.fok_not_filled()
        return self.errors.unknown_error()

    # --- cancelling ------------------------------------------------------------------------------
    async def cancel(self, order: EmOrder, cancel_client_id: str) -> EmOrder:
        """Cancel an open order; raise -2011 if it is not open (or filled before the cancel arrived)."""
        if not order.is_open or order.order_id not in self._sim_orders:
            raise self.errors.unknown_order_cancel()
        pending = self._cancels.get(order.order_id)
        if pending is None:
            pending = self._cancels[order.order_id] = _Pending(asyncio.get_running_loop().create_future())
            order.cancel_client_id = cancel_client_id
            self.venue.cancel(self._sim_orders[order.order_id])
            self.scheduler.run_due(self.clock.now_ns())
            self.commit()
        elif pending.future is None:  # sent by a cancel-all that nobody waits on: wait here
            pending.future = asyncio.get_running_loop().create_future()
        if not pending.done:
            assert pending.future is not None
            await asyncio.shield(pending.future)
        if pending.outcome:
            raise self.errors.unknown_order_cancel()
        return order

    # --- amending (USD-M PUT /fapi/v1/order) ------------------------------------------------------
    async def amend(self, order: EmOrder, price: Decimal, quantity: Decimal) -> EmOrder:
        """Modify a resting LIMIT order in place, as Binance USD-M does: the order keeps its id; it keeps
        its place in the queue only when the price is the same and the size does not grow (a smaller
        size), otherwise it goes to the back of the queue at its (new) price.

        As the venue documents: the order is cancelled instead when it has partly filled and the new
        quantity is not above what has filled, and when it is post-only (GTX) and the new price would
        take; a GTC order whose new price crosses trades at once, as a new order there would.
        Refused, the order staying as it was: unknown or not open (-2013), not a LIMIT order (-4028 is
        not documented for this; -1116 "Invalid orderType." is what we answer), nothing to change
        (-5027), too many modifications (-5026), margin that cannot carry a larger order (-2019).
        """
        if not order.is_open or order.order_id not in self._sim_orders:
            raise self.errors.unknown_order_query()
        if order.type != "LIMIT":
            raise BinanceError(-1116, "Invalid orderType.")
        if price == order.price and quantity == order.orig_qty:
            raise BinanceError(-5027, "No need to modify the order.")
        if self._amend_counts.get(order.order_id, 0) >= MAX_AMENDMENTS:
            raise BinanceError(-5026, "Exceed maximum modify order limit.")
        if quantity <= order.executed_qty:
            return await self.cancel(order, order.cancel_client_id or order.client_order_id)
        if self.spec.futures and quantity > order.orig_qty:
            acc = self.accounts[order.api_key]
            others = [o for o in self.open_orders(order.api_key) if o.order_id != order.order_id]
            wider = EmOrder(**{**_fields(order), "price": price, "orig_qty": quantity - order.executed_qty})
            self.funds.check_margin(acc, wider, others)
        opposite = self.book.best_ask_tick if order.side == "BUY" else self.book.best_bid_tick
        tick = self.spec.instrument.price_to_ticks(price)
        crosses = opposite is not None and (opposite <= tick if order.side == "BUY" else opposite >= tick)
        if crosses and order.post_only:
            return await self.cancel(order, order.cancel_client_id or order.client_order_id)
        pending = self._amends.get(order.order_id)
        if pending is not None and not pending.done:
            raise BinanceError(-1008, "Server is currently overloaded with other requests. Please try again.")
        pending = self._amends[order.order_id] = _Pending(asyncio.get_running_loop().create_future())
        sim_order = self._sim_orders[order.order_id]
        self._amend_args[order.order_id] = (price, quantity)
        if crosses:  # leave the book and come back as a taker at the new price (see _on_venue_event)
            self._reprice[order.order_id] = (price, quantity)
            self.venue.cancel(sim_order)
        else:
            self.venue.modify(sim_order, price, quantity)
        self.scheduler.run_due(self.clock.now_ns())
        self.commit()
        if not pending.done:
            assert pending.future is not None
            await asyncio.shield(pending.future)
        self._amend_args.pop(order.order_id, None)
        if pending.outcome == "gone":
            raise self.errors.unknown_order_query()
        if pending.outcome not in ("", "canceled"):
            raise self.errors.unknown_error()
        return order

    def _modify_refused(self, order: EmOrder, reason: str) -> None:
        """The simulated venue refused a modify on its arrival: the market (or a fill) moved since it was
        checked. Binance's rules then apply as they would have on arrival: a post-only order that would
        take, or one whose new size is not above what filled, is cancelled; a GTC order re-enters at the
        new price as a taker."""
        order_id = order.order_id
        pending = self._amends.get(order_id)
        args = self._amend_args.get(order_id)
        sim_order = self._sim_orders.get(order_id)
        if pending is None or args is None or sim_order is None or reason == "order_not_open":
            self._finish(pending, "gone")
            return
        if reason == "would_cross" and not order.post_only:
            self._reprice[order_id] = args
        elif reason not in ("would_cross", "quantity_below_filled"):
            self._finish(pending, reason)
            return
        self.venue.cancel(sim_order)

    def _amended(self, order: EmOrder, price: Decimal, quantity: Decimal, now: int) -> None:
        order.price, order.orig_qty = price, quantity
        order.update_ms = now
        order.dirty = True
        self._amend_counts[order.order_id] = self._amend_counts.get(order.order_id, 0) + 1
        self._emit(order, "AMENDMENT", None, now)

    def cancel_all_now(self, api_key: str) -> list[EmOrder]:
        """Send a cancel for every open order of the account (answers arrive with the venue's latency)."""
        found = self.open_orders(api_key)
        for order in found:
            if order.order_id not in self._cancels and order.order_id in self._sim_orders:
                self._cancels[order.order_id] = _Pending(None)
                self.venue.cancel(self._sim_orders[order.order_id])
        self.scheduler.run_due(self.clock.now_ns())
        self.commit()
        return found

    # --- the simulated venue's events --------------------------------------------------------------
    def _on_venue_event(self, event: OrderEvent) -> None:
        order_id = int(event.client_order_id)
        order = self.orders.get(order_id)
        if order is None or order_id in self._restoring:
            return
        now = self.venue_ms()
        pending = self._pending.get(order_id)
        if isinstance(event, OrderAccepted):
            if order_id in self._reentered:  # back in the book after a crossing amend: no new NEW
                self._reentered.discard(order_id)
            else:
                self._emit(order, "NEW", None, now)
        elif isinstance(event, OrderFilled):
            self._fill(order, event, now)
        elif isinstance(event, OrderCanceled):
            repriced = self._reprice.pop(order_id, None)
            if repriced is not None and order_id not in self._cancels:
                self._amended(order, *repriced, now)
                self._reentered.add(order_id)
                self._submit(order, post_only=False)
                self._finish(self._amends.get(order_id), "")
                return
            self._close(order, "CANCELED", now)
            self._finish(self._cancels.get(order_id), "")
            self._finish(self._amends.get(order_id), "canceled")
        elif isinstance(event, OrderUpdated):
            assert event.price is not None
            self._amended(order, event.price, event.quantity, now)
            self._finish(self._amends.get(order_id), "")
            return
        elif isinstance(event, OrderModifyRejected):
            self._modify_refused(order, event.reason)
            return
        elif isinstance(event, OrderExpired):
            if order.executed_qty == 0 and order.tif == "FOK" and pending is not None and not pending.done:
                if self.spec.futures:
                    self._drop(order, pending, "fok")
                    return
                self._emit(order, "NEW", None, now)
                order.expiry_reason = "INSUFFICIENT_LIQUIDITY"
            self._close(order, "EXPIRED", now)
        elif isinstance(event, OrderRejected):
            if event.reason == "post_only_would_take":
                if pending is not None:
                    self._drop(order, pending, "post_only_would_take")
                    return
                self._close(order, "EXPIRED", now)  # sent again after a restart: nobody awaits an error
                return
            self._emit(order, "NEW", None, now)
            self._close(
                order, "EXPIRED" if self.spec.futures else "EXPIRED_IN_MATCH", now, exec_type="EXPIRED"
            )
        elif isinstance(event, OrderCancelRejected):
            self._finish(self._cancels.get(order_id), "cancel_rejected")
            return
        self._finish(pending, "")

    @staticmethod
    def _finish(pending: _Pending | None, outcome: str) -> None:
        if pending is not None and not pending.done:
            pending.done = True
            pending.outcome = outcome

    def _drop(self, order: EmOrder, pending: _Pending, outcome: str) -> None:
        """The venue refused the order outright: Binance answers with an error and keeps no record."""
        del self.orders[order.order_id]
        self._deleted.append(order.order_id)
        self._sim_orders.pop(order.order_id, None)
        self.funds.release(self.accounts[order.api_key], order)
        self._finish(pending, outcome)

    def _fill(self, order: EmOrder, event: OrderFilled, now: int) -> None:
        acc = self.accounts[order.api_key]
        price, qty = event.last_px, event.last_qty
        maker = event.liquidity is LiquiditySide.MAKER
        rate = self.settings.maker_fee if maker else self.settings.taker_fee
        paid = self.funds.settle(acc, order, price, qty, rate, now)
        fill = EmFill(
            trade_id=self.next_trade_id,
            order_id=order.order_id,
            api_key=order.api_key,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=price * qty,
            commission=paid.commission,
            commission_asset=paid.asset,
            realized_pnl=paid.realized,
            time_ms=now,
            is_maker=maker,
        )
        self.next_trade_id += 1
        self._index_fill(fill)
        self._new_fills.append(fill)
        order.executed_qty += qty
        order.cum_quote += price * qty
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        order.update_ms = now
        order.dirty = True
        if order.status == "FILLED":
            self._release(order)
        self._emit(order, "TRADE", fill, now)

    def _release(self, order: EmOrder) -> None:
        self.funds.release(self.accounts[order.api_key], order)

    def _close(self, order: EmOrder, status: str, now: int, *, exec_type: str | None = None) -> None:
        order.status = status
        order.update_ms = now
        order.dirty = True
        self._release(order)
        self._sim_orders.pop(order.order_id, None)
        self._emit(order, exec_type or status, None, now)

    def _emit(self, order: EmOrder, exec_type: str, fill: EmFill | None, now: int) -> None:
        """Queue the user-stream events Binance sends for this change (published after the commit)."""
        acc = self.accounts[order.api_key]
        out = self._events
        seq = self.event_seq
        self.event_seq += 1
        spec = self.spec
        if not spec.futures:
            out.append((order.api_key, P.spot_execution_report(order, spec, exec_type, fill, now, seq)))
            assets = [spec.base, spec.quote] if fill is not None else [self.funds.lock_asset(order)]
            out.append((order.api_key, P.spot_account_position(acc, assets, now, spec)))
            return
        if fill is not None:
            out.append((order.api_key, P.futures_trade_lite(order, spec, fill, now)))
            mark = self.market.mark_price()
            update = P.futures_account_update(acc, spec, "ORDER", now, mark, [spec.symbol])
            out.append((order.api_key, update))
        notionals = self._notionals(order.api_key)
        out.append((order.api_key, P.futures_order_update(order, spec, exec_type, fill, now, notionals)))

    # --- views -------------------------------------------------------------------------------------
    def resting_count(self) -> int:
        return sum(1 for o in self.orders.values() if o.is_open)

    def orders_of(self, api_key: str) -> Iterable[EmOrder]:
        return (o for o in self.orders.values() if o.api_key == api_key)


def _fields(order: EmOrder) -> dict[str, Any]:
    return {name: getattr(order, name) for name in EmOrder.__dataclass_fields__}
