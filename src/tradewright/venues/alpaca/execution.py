"""Orders at Alpaca: the kernel's `ExecutionClient`, brackets as Alpaca's `order_class`, the
trade_updates stream, and the `VenueStatePort` reconciliation reads.

Our client order id is Alpaca's `client_order_id`; Alpaca's order `id` is the venue order id (bracket
legs have ids of Alpaca's making, mapped to our stop and target). No order is sent twice and no fill is
lost:

- a request without a clear answer (timeout, connection lost, 5xx) is never repeated: the order is
  looked up by its client order id until Alpaca says what became of it;
- fills come from the trade_updates stream (each execution once); an order ends here only after the
  quantity Alpaca reports filled has been delivered — missing executions are fetched from the FILL
  account activities first;
- after the stream reconnects, every order still open here is looked up (what happened meanwhile
  only the REST API can tell).

A modify is Alpaca's replace: a new venue order id (`replaces`) under the same client order id; it is
reported as `OrderUpdated` with the new id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenuePosition
from tradewright.model.enums import OrderType
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
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.alpaca.parsing import (
    END_EVENTS,
    activity_fill,
    bracket_body,
    exact,
    fill_event,
    order_body,
    rfc3339_ns,
    venue_order,
)
from tradewright.venues.alpaca.rest import AlpacaHttpError, AlpacaRest, OutcomeUnknown
from tradewright.venues.alpaca.schemas import (
    Activity,
    RawAccount,
    RawOrder,
    RawPosition,
    RawTradeUpdate,
    decode,
)
from tradewright.venues.alpaca.streams import StreamThread

__all__ = ["AlpacaExecutionClient"]

_RETRIES_S = (0.25, 0.5, 1.0, 2.0, 4.0)
_log = logging.getLogger("tradewright.venues.alpaca")


class AlpacaExecutionClient:
    """One Alpaca account's orders (see the module docstring)."""

    def __init__(
        self,
        rest: AlpacaRest,
        stream: StreamThread,
        symbols: dict[InstrumentId, tuple[str, Instrument]],
        hooks: VenueHooks,
        capabilities: VenueCapabilities,
        venue: str,
    ) -> None:
        self._rest = rest
        self._stream = stream
        self._symbols = symbols
        self._hooks = hooks
        self._capabilities = capabilities
        self._venue = Venue(venue)
        self._orders: dict[ClientOrderId, Order] = {}
        self._ids: dict[str, ClientOrderId] = {}  # Alpaca order id -> ours (legs included)
        self._venue_id: dict[ClientOrderId, str] = {}
        self._accepted: set[ClientOrderId] = set()
        self._ended: set[ClientOrderId] = set()
        self._delivered: dict[ClientOrderId, Decimal] = {}
        self._exec_seen: set[str] = set()
        self._placing: dict[ClientOrderId, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.malformed = 0
        stream.stream.subscribe_trade_updates(stream.bridge(self._on_raw_update))
        stream.on_reconnect.append(self._after_reconnect)

    # --- ExecutionClient ----------------------------------------------------------------------
    @property
    def venue(self) -> Venue:
        return self._venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self._capabilities

    def track(self, order: Order) -> None:
        cid = order.client_order_id
        self._orders[cid] = order
        self._delivered.setdefault(cid, order.filled_qty)
        if order.venue_order_id is not None:
            self._accepted.add(cid)
            self._remember(cid, str(order.venue_order_id))

    def submit(self, order: Order) -> None:
        self._start(order)
        body = self._body(order)
        if body is not None:
            self._launch(order, self._place(order, body, legs=()))

    def submit_bracket(self, entry: Order, stop: Order, target: Order | None) -> None:
        legs = [o for o in (stop, target) if o is not None]
        for order in (entry, *legs):
            self._start(order)
        symbol = self._symbol_of(entry)
        try:
            body = None if symbol is None else bracket_body(entry, stop, target, symbol)
        except VenueError as exc:
            body = None
            self._reject(entry, "unsupported", str(exc))
        if body is None:
            for leg in legs:
                self._reject(leg, "bracket_refused", "the bracket's entry was refused; nothing was sent")
            if symbol is None:
                self._reject(entry, "unknown_instrument", f"{entry.instrument_id} is not configured on this Alpaca venue")
            return
        self._launch(entry, self._place(entry, body, legs=tuple(legs)))

    def cancel(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._spawn(self._cancel(order), f"cancel {order.client_order_id}")

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self._spawn(self._replace(order, price, quantity), f"replace {order.client_order_id}")

    def cancel_unknown(self, order: VenueOrder) -> None:
        self._spawn(self._delete(str(order.venue_order_id)), f"cancel unknown {order.venue_order_id}")

    def cancel_all(self, instrument_id: InstrumentId) -> None:
        for order in list(self._orders.values()):
            if order.instrument_id == instrument_id and order.status.is_open:
                self.cancel(order)

    async def run_user_stream(self, on_reconnect: Callable[[], None] | None = None) -> None:
        if on_reconnect is not None:
            self._stream.on_reconnect.append(on_reconnect)
        self._stream.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self._stream.stop()

    async def wait_user_stream(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self._stream.connected.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def drain(self, timeout_s: float) -> bool:
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        return not pending

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._stream.stop()

    # --- placing ------------------------------------------------------------------------------
    def _start(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._delivered.setdefault(order.client_order_id, Decimal(0))

    def _symbol_of(self, order: Order) -> str | None:
        entry = self._symbols.get(order.instrument_id)
        return None if entry is None else entry[0]

    def _body(self, order: Order) -> dict[str, Any] | None:
        symbol = self._symbol_of(order)
        if symbol is None:
            self._reject(order, "unknown_instrument", f"{order.instrument_id} is not configured on this Alpaca venue")
            return None
        try:
            return order_body(order, symbol, extended_hours=self._rest.config.extended_hours)
        except VenueError as exc:
            self._reject(order, "unsupported", str(exc))
            return None

    def _launch(self, order: Order, work: Coroutine[Any, Any, None]) -> None:
        cid = order.client_order_id
        task = self._spawn(work, f"place {cid}")
        self._placing[cid] = task
        task.add_done_callback(lambda _: self._placing.pop(cid, None))

    async def _place(self, order: Order, body: dict[str, Any], legs: tuple[Order, ...]) -> None:
        try:
            answer = await self._rest.post("/orders", body)
        except OutcomeUnknown as exc:
            _log.warning("order %s: %s; asking Alpaca what became of it", order.client_order_id, exc)
            if self._hooks.after_send is not None:
                self._hooks.after_send(order)
            await self._settle_unknown(order, legs, str(exc))
            return
        except AlpacaHttpError as exc:
            if "client_order_id must be unique" in exc.message:
                # Alpaca already has an order under this id: it was sent before (e.g. before a restart).
                await self._settle_unknown(order, legs, exc.message)
                return
            self._reject(order, f"alpaca_{exc.code or exc.status}", exc.message)
            for leg in legs:
                self._reject(leg, "bracket_refused", f"the bracket's entry was refused: {exc.message}")
            return
        if self._hooks.after_send is not None:
            self._hooks.after_send(order)
        await self._settle(order, decode(RawOrder, answer, "order answer"), legs)

    async def _settle_unknown(self, order: Order, legs: tuple[Order, ...], why: str) -> None:
        """Re-query by client order id until Alpaca knows the order, or twice in a row says it does not."""
        missing = 0
        for pause in _RETRIES_S:
            await asyncio.sleep(pause)
            try:
                raw = await self._by_client_id(order.client_order_id)
            except OutcomeUnknown:
                missing = 0
                continue
            if raw is not None:
                await self._settle(order, raw, legs)
                return
            missing += 1
        if missing >= 2:
            message = f"{why}; looked up by its client order id, Alpaca does not know it"
            self._reject(order, "not_found_at_venue", message)
            for leg in legs:
                self._reject(leg, "not_found_at_venue", message)
            return
        _log.error("order %s: Alpaca could not be asked; reconciliation will resolve it", order.client_order_id)

    async def _settle(self, order: Order, raw: RawOrder, legs: tuple[Order, ...] = ()) -> None:
        """Bring an order (and a bracket's legs) up to Alpaca's view: ack, missing fills, end."""
        cid = order.client_order_id
        self._remember(cid, raw.id)
        for leg_raw in raw.legs or []:
            leg = self._leg_for(leg_raw, legs)
            if leg is not None:
                self._remember(leg.client_order_id, leg_raw.id)
                self._accept(leg, leg_raw.id)
        self._accept(order, raw.id)
        await self._catch_up(order, raw)

    def _leg_for(self, raw: RawOrder, legs: tuple[Order, ...]) -> Order | None:
        stop_like = raw.type in ("stop", "stop_limit")
        for leg in legs:
            if (leg.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)) == stop_like:
                return leg
        return None

    def _remember(self, cid: ClientOrderId, venue_id: str) -> None:
        self._ids[venue_id] = cid
        self._venue_id[cid] = venue_id

    def _accept(self, order: Order, venue_id: str) -> None:
        cid = order.client_order_id
        if cid in self._accepted or cid in self._ended:
            return
        self._accepted.add(cid)
        self._emit_now(OrderAccepted, order, venue_order_id=VenueOrderId(venue_id))

    async def _catch_up(self, order: Order, raw: RawOrder) -> None:
        """Deliver fills Alpaca counts but we have not seen, then the end if the order has one."""
        cid = order.client_order_id
        inst = self._instrument(order)
        filled = exact(raw.filled_qty or 0, inst.lot_size, "filled qty")
        if filled > self._delivered.get(cid, Decimal(0)):
            for activity in await self._activities(raw.id):
                self._deliver(activity_fill(activity, cid, inst, self._hooks.clock.now_ns()))
        status = raw.status
        if status in END_EVENTS or status == "replaced":
            if status == "replaced":
                return  # the replacement carries the order on
            await self._end(order, status, filled)

    async def _end(self, order: Order, status: str, filled: Decimal) -> None:
        cid = order.client_order_id
        if cid in self._ended or order.status.is_terminal:
            return
        if self._delivered.get(cid, Decimal(0)) < filled:
            _log.error("order %s ended at Alpaca with %s filled, %s delivered; left for reconciliation", cid, filled,
                       self._delivered.get(cid))
            return
        self._ended.add(cid)
        if status == "rejected" and order.filled_qty == 0:
            self._emit_now(OrderRejected, order, reason="alpaca_rejected", message="Alpaca rejected the order")
        elif status in ("expired", "done_for_day"):
            self._emit_now(OrderExpired, order)
        else:
            self._emit_now(OrderCanceled, order, reason=status)

    # --- cancel and replace ---------------------------------------------------------------------
    async def _after_placing(self, order: Order) -> str | None:
        placing = self._placing.get(order.client_order_id)
        if placing is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(placing)
        return self._venue_id.get(order.client_order_id)

    async def _cancel(self, order: Order) -> None:
        venue_id = await self._after_placing(order)
        if order.status.is_terminal:
            return
        if venue_id is None:
            raw = await self._by_client_id(order.client_order_id)
            if raw is None:
                self._reject(order, "not_found_at_venue", "cancel: Alpaca does not know the order")
                return
            venue_id = raw.id
            self._remember(order.client_order_id, venue_id)
        try:
            await self._rest.delete(f"/orders/{venue_id}")
        except AlpacaHttpError as exc:
            raw = await self._get(venue_id)
            if raw is not None and raw.status not in END_EVENTS and raw.status != "filled":
                self._emit_now(OrderCancelRejected, order, reason=f"alpaca_{exc.code}: {exc.message}")
            elif raw is not None:
                await self._catch_up(order, raw)
            return
        except OutcomeUnknown as exc:
            _log.warning("cancel of %s: %s; reconciliation will look again", order.client_order_id, exc)
            return
        # The stream says "canceled"; if it is down, ask after a while so the order does not hang.
        await asyncio.sleep(2.0)
        if not order.status.is_terminal and order.client_order_id not in self._ended:
            raw = await self._get(venue_id)
            if raw is not None:
                await self._catch_up(order, raw)

    async def _replace(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        venue_id = await self._after_placing(order)
        if venue_id is None:
            self._emit_now(OrderModifyRejected, order, reason="the order is not working at Alpaca")
            return
        body: dict[str, Any] = {}
        if quantity is not None:
            body["qty"] = format(quantity, "f")
        if price is not None:
            body["stop_price" if order.order_type is OrderType.STOP_MARKET else "limit_price"] = format(price, "f")
        try:
            answer = await self._rest.patch(f"/orders/{venue_id}", body)
        except AlpacaHttpError as exc:
            self._emit_now(OrderModifyRejected, order, reason=f"alpaca_{exc.code}: {exc.message}")
            return
        except OutcomeUnknown as exc:
            self._emit_now(OrderModifyRejected, order, reason=f"outcome unknown ({exc}); reconciliation will tell")
            return
        raw = decode(RawOrder, answer, "replace answer")
        self._remember(order.client_order_id, raw.id)
        inst = self._instrument(order)
        new_price = exact(raw.limit_price, inst.tick_size, "limit price") if raw.limit_price not in (None, "") else order.price
        self._emit_now(
            OrderUpdated, order, quantity=exact(raw.qty or 0, inst.lot_size, "qty"), price=new_price,
            venue_order_id=VenueOrderId(raw.id),
        )

    async def _delete(self, venue_id: str) -> None:
        with contextlib.suppress(AlpacaHttpError, OutcomeUnknown):
            await self._rest.delete(f"/orders/{venue_id}")

    # --- the stream ----------------------------------------------------------------------------
    def _on_raw_update(self, message: Any) -> None:
        try:
            data = message.get("data") if isinstance(message, dict) else None
            update = decode(RawTradeUpdate, data, "trade update")
        except VenueError as exc:
            self.malformed += 1
            _log.warning("skipped a malformed Alpaca trade update: %s", exc)
            return
        cid = self._ids.get(update.order.id) or ClientOrderId(update.order.client_order_id)
        order = self._orders.get(cid)
        if order is None or cid in self._ended:
            return
        if update.order.id not in self._ids and update.order.status != "replaced":
            self._remember(cid, update.order.id)
        event = update.event
        try:
            if event in ("new", "accepted") and self._venue_id.get(cid) == update.order.id:
                self._accept(order, update.order.id)
            elif event in ("fill", "partial_fill"):
                self._accept(order, update.order.id)
                if update.execution_id is None:
                    raise VenueError(f"{event} without an execution_id")
                self._deliver(
                    fill_event(
                        cid, update.order.id, update.order.side or "", update.price, update.qty, update.execution_id,
                        rfc3339_ns(update.timestamp), self._instrument(order), self._hooks.clock.now_ns(),
                    )
                )
            elif event in END_EVENTS and self._venue_id.get(cid) == update.order.id:
                self._spawn(self._catch_up(order, update.order), f"end of {cid}")
        except VenueError as exc:
            self.malformed += 1
            _log.warning("skipped a malformed Alpaca trade update for %s: %s", cid, exc)

    def _deliver(self, fill: OrderFilled) -> None:
        if fill.trade_id in self._exec_seen:
            return
        self._exec_seen.add(fill.trade_id)
        cid = fill.client_order_id
        self._delivered[cid] = self._delivered.get(cid, Decimal(0)) + fill.last_qty
        self._hooks.emit(fill)

    def _after_reconnect(self) -> None:
        for order in list(self._orders.values()):
            if order.status.is_open and order.client_order_id not in self._ended:
                self._spawn(self._resync(order), f"resync {order.client_order_id}")

    async def _resync(self, order: Order) -> None:
        venue_id = self._venue_id.get(order.client_order_id)
        raw = await (self._get(venue_id) if venue_id else self._by_client_id(order.client_order_id))
        if raw is not None:
            await self._settle(order, raw)

    # --- VenueStatePort -----------------------------------------------------------------------------
    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        symbol, inst = self._symbols[instrument_id]
        answer = await self._rest.get("/orders", {"status": "open", "nested": True, "symbols": symbol, "limit": 500})
        now = self._hooks.clock.now_ns()
        out = []
        for raw in (decode(RawOrder, a, "order") for a in answer):
            for one in (raw, *(raw.legs or [])):
                if one.status in ("new", "accepted", "partially_filled", "held", "pending_new"):
                    cid = self._ids.get(one.id) or ClientOrderId(one.client_order_id)
                    out.append(venue_order(one, cid, inst, now))
        return out

    async def query_order(self, instrument_id: InstrumentId, client_order_id: ClientOrderId) -> VenueOrder | None:
        _, inst = self._symbols[instrument_id]
        venue_id = self._venue_id.get(client_order_id)
        raw = await (self._get(venue_id) if venue_id else self._by_client_id(client_order_id))
        return None if raw is None else venue_order(raw, client_order_id, inst, self._hooks.clock.now_ns())

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        _, inst = self._symbols[order.instrument_id]
        now = self._hooks.clock.now_ns()
        return [activity_fill(a, order.client_order_id, inst, now) for a in await self._activities(str(order.venue_order_id))]

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        account = decode(RawAccount, await self._rest.get("/account"), "account")
        positions = [decode(RawPosition, p, "position") for p in await self._rest.get("/positions")]
        by_symbol = {self._symbols[i][0]: self._symbols[i][1] for i in instrument_ids}
        out: dict[InstrumentId, VenuePosition] = {}
        for pos in positions:
            inst = by_symbol.get(pos.symbol)
            if inst is None:
                continue
            qty = exact(pos.qty, inst.lot_size, "position qty")
            entry = Decimal(repr(pos.avg_entry_price) if isinstance(pos.avg_entry_price, float) else str(pos.avg_entry_price))
            out[inst.id] = VenuePosition(inst.id, qty if pos.side == "long" else -qty, entry)
        balances = {account.currency: Decimal(str(account.cash))} if account.cash is not None else {}
        return AccountSnapshot(as_of_ns=self._hooks.clock.now_ns(), positions=out, balances=balances)

    # --- REST helpers ---------------------------------------------------------------------------------
    async def _get(self, venue_id: str) -> RawOrder | None:
        try:
            return decode(RawOrder, await self._rest.get(f"/orders/{venue_id}", {"nested": True}), "order")
        except AlpacaHttpError as exc:
            if exc.status == 404:
                return None
            raise

    async def _by_client_id(self, cid: ClientOrderId) -> RawOrder | None:
        try:
            answer = await self._rest.get("/orders:by_client_order_id", {"client_order_id": str(cid), "nested": True})
        except AlpacaHttpError as exc:
            if exc.status == 404:
                return None
            raise
        return decode(RawOrder, answer, "order")

    async def _activities(self, venue_id: str) -> list[Activity]:
        answer = await self._rest.get("/account/activities/FILL", {"direction": "asc", "page_size": 100})
        out = [decode(Activity, a, "FILL activity") for a in answer]
        return [a for a in out if a.order_id == venue_id]

    # --- plumbing -----------------------------------------------------------------------------------
    def _instrument(self, order: Order) -> Instrument:
        return self._symbols[order.instrument_id][1]

    def _reject(self, order: Order, reason: str, message: str) -> None:
        cid = order.client_order_id
        if cid in self._ended:
            return
        self._ended.add(cid)
        _log.info("order %s rejected: %s %s", cid, reason, message)
        self._emit_now(OrderRejected, order, reason=reason, message=message)

    def _emit_now(self, kind: type[OrderEvent], order: Order, **fields: Any) -> None:
        now = self._hooks.clock.now_ns()
        self._hooks.emit(
            kind(client_order_id=order.client_order_id, instrument_id=order.instrument_id, ts_event=now, ts_init=now, **fields)
        )

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # a task boundary: log it; reconciliation resolves the order
            _log.exception("%s failed", name)
