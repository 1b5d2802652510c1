"""Orders at Interactive Brokers: the kernel's `ExecutionClient`, brackets as IB's own parent/child
orders, and the `VenueStatePort` reconciliation reads.

Our client order id travels as IB's `orderRef`, so every order, open or completed, and every execution
can be traced back to it, also after a restart or under a new IB order id. IB's `permId` is the venue
order id.

No order is sent twice and no fill is lost:

- a request is only ever sent once; while the gateway is unreachable new orders are refused at once
  (nothing was sent). An order that was sent when the connection dropped is looked up after the
  reconnect (open orders, completed orders, executions), never resent;
- fills come from execDetails (IB does not promise an orderStatus for every change), each execution
  once (by execId), with IB's commission once its report arrives (`commission_wait_ms`);
- an order ends here (cancelled, rejected) only after every fill IB counts for it has been delivered:
  IB can report executions after a cancel (``../shared/reference/brokers.md`` §13), so a missing one is
  fetched (reqExecutions) before the end is reported.

Bracket children follow the parent at IB: they work for the quantity the parent has filled, and a
fill of one reduces the other. Each change of a child's working size is reported as `OrderUpdated`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

import msgspec
from ib_async import ExecutionFilter
from ib_async import Order as IbOrder

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenuePosition
from tradewright.model.enums import OrderType
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.ib.contracts import Resolved
from tradewright.venues.ib.parsing import (
    DONE_STATES,
    exact,
    fill_event,
    ib_execution,
    ib_order_fields,
    ib_order_state,
    venue_order,
)
from tradewright.venues.ib.schemas import IbExecution, IbOrderState
from tradewright.venues.ib.session import IbSession

__all__ = ["IbExecutionClient"]

_ACTIVE = frozenset({"PreSubmitted", "Submitted"})
_NS = 1_000_000_000


class IbExecutionClient:
    """One gateway connection's orders (see the module docstring)."""

    def __init__(
        self,
        session: IbSession,
        contracts: dict[InstrumentId, Resolved],
        hooks: VenueHooks,
        capabilities: VenueCapabilities,
    ) -> None:
        self._session = session
        self._ib = session.ib
        self._contracts = contracts
        self._by_con = {r.facts.con_id: r for r in contracts.values()}
        self._hooks = hooks
        self._log = session.log
        self._capabilities = capabilities
        self._orders: dict[ClientOrderId, Order] = {}
        self._sent: dict[ClientOrderId, IbOrder] = {}
        self._accepted: set[ClientOrderId] = set()
        self._ended: set[ClientOrderId] = set()
        self._delivered: dict[ClientOrderId, Decimal] = {}
        self._exec_seen: set[str] = set()
        self._awaiting_commission: dict[str, tuple[IbExecution, asyncio.TimerHandle]] = {}
        self._modifying: dict[ClientOrderId, tuple[Decimal | None, Decimal | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._query_lock: asyncio.Lock | None = None
        self.malformed = 0
        ib = self._ib
        ib.openOrderEvent += self._on_order_update
        ib.orderStatusEvent += self._on_order_update
        ib.execDetailsEvent += self._on_execution
        ib.commissionReportEvent += self._on_commission
        ib.errorEvent += self._on_error
        session.on_reconnect.append(self._after_reconnect)

    # --- ExecutionClient ----------------------------------------------------------------------
    @property
    def venue(self) -> Venue:
        return self._session.venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self._capabilities

    def track(self, order: Order) -> None:
        """Follow an order restored from the store (its IB order is found by `orderRef` when needed)."""
        self._orders[order.client_order_id] = order
        self._delivered.setdefault(order.client_order_id, order.filled_qty)
        if order.venue_order_id is not None:
            self._accepted.add(order.client_order_id)

    def submit(self, order: Order) -> None:
        prepared = self._prepare(order)
        if prepared is None:
            return
        resolved, ib_order = prepared
        self._send(order, resolved, ib_order)

    def submit_bracket(self, entry: Order, stop: Order, target: Order | None) -> None:
        """The entry, then its children naming it as parent; only the last one transmits, so IB
        releases the three together (``IB.bracketOrder``'s order: parent, take-profit, stop-loss)."""
        legs = [entry, *([target] if target is not None else []), stop]
        prepared = [self._prepare(o) for o in legs]
        if any(p is None for p in prepared):
            for order, p in zip(legs, prepared, strict=True):
                if p is not None:
                    self._reject(order, "bracket_refused", "another leg of the bracket was refused; nothing was sent")
            return
        parent_id = self._ib.client.getReqId()
        for i, (order, p) in enumerate(zip(legs, prepared, strict=True)):
            assert p is not None
            resolved, ib_order = p
            if i == 0:
                ib_order.orderId = parent_id
            else:
                ib_order.parentId = parent_id
            ib_order.transmit = i == len(legs) - 1
            self._send(order, resolved, ib_order)

    def cancel(self, order: Order) -> None:
        cid = order.client_order_id
        self._orders[cid] = order
        ib_order = self._sent.get(cid) or self._open_ib_order(cid)
        if ib_order is None:
            self._spawn(self._settle_by_query(order, "cancel: IB has no open order with this reference"), f"cancel {cid}")
            return
        if not self._session.connected.is_set():
            self._emit_now(OrderCancelRejected, order, reason="venue_disconnected: the gateway is unreachable; retry after the reconnect")
            return
        self._ib.cancelOrder(ib_order)

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        cid = order.client_order_id
        ib_order = self._sent.get(cid) or self._open_ib_order(cid)
        resolved = self._contracts.get(order.instrument_id)
        if ib_order is None or resolved is None or not self._session.connected.is_set():
            self._emit_now(OrderModifyRejected, order, reason="the order is not working at IB (or the gateway is unreachable)")
            return
        if quantity is not None:
            ib_order.totalQuantity = float(quantity)
        if price is not None:
            if order.order_type is OrderType.STOP_MARKET:
                ib_order.auxPrice = float(price)
            else:
                ib_order.lmtPrice = float(price)
        self._modifying[cid] = (quantity, price)
        self._ib.placeOrder(resolved.contract, ib_order)

    def cancel_unknown(self, order: VenueOrder) -> None:
        """Cancel an order of ours working at IB that the store does not know (reconciliation)."""
        for trade in self._ib.openTrades():
            if str(trade.order.permId) == order.venue_order_id or trade.order.orderRef == order.client_order_id:
                self._ib.cancelOrder(trade.order)

    def cancel_all(self, instrument_id: InstrumentId) -> None:
        resolved = self._contracts.get(instrument_id)
        if resolved is None:
            return
        for trade in self._ib.openTrades():
            if trade.contract.conId == resolved.facts.con_id and trade.order.orderRef:
                self._ib.cancelOrder(trade.order)

    async def run_user_stream(self, on_reconnect: Callable[[], None] | None = None) -> None:
        """Keep the gateway connection (the private stream of IB is the socket itself)."""
        if on_reconnect is not None:
            self._session.on_reconnect.append(on_reconnect)
        await self._session.run()

    async def wait_user_stream(self, timeout_s: float) -> bool:
        return await self._session.wait_connected(timeout_s)

    async def drain(self, timeout_s: float) -> bool:
        """Wait for fills held for their commission report and for lookups in flight."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._awaiting_commission or self._tasks:
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def close(self) -> None:
        for _, handle in self._awaiting_commission.values():
            handle.cancel()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- sending --------------------------------------------------------------------------------
    def _prepare(self, order: Order) -> tuple[Resolved, IbOrder] | None:
        self._orders[order.client_order_id] = order
        self._delivered.setdefault(order.client_order_id, Decimal(0))
        resolved = self._contracts.get(order.instrument_id)
        if resolved is None:
            self._reject(order, "unknown_instrument", f"{order.instrument_id} is not configured on this IB venue")
            return None
        if not self._session.connected.is_set():
            self._reject(order, "venue_disconnected", "the IB gateway is unreachable; the order was not sent")
            return None
        try:
            fields = ib_order_fields(order)
        except VenueError as exc:
            self._reject(order, "unsupported", str(exc))
            return None
        ib_order = IbOrder(**fields)
        ib_order.account = self._session.account
        ib_order.outsideRth = self._session.config.outside_rth
        return resolved, ib_order

    def _send(self, order: Order, resolved: Resolved, ib_order: IbOrder) -> None:
        cid = order.client_order_id
        self._sent[cid] = ib_order
        self._ib.placeOrder(resolved.contract, ib_order)
        if self._hooks.after_send is not None:
            self._hooks.after_send(order)

    def _open_ib_order(self, cid: ClientOrderId) -> IbOrder | None:
        for trade in self._ib.openTrades():
            if trade.order.orderRef == cid:
                self._sent[cid] = trade.order
                return trade.order  # type: ignore[no-any-return]
        return None

    # --- IB's answers ----------------------------------------------------------------------------
    def _on_order_update(self, trade: Any) -> None:
        cid = ClientOrderId(str(trade.order.orderRef or ""))
        order = self._orders.get(cid)
        if order is None or cid in self._ended:
            return
        try:
            state = ib_order_state(trade)
            inst = self._instrument(order)
            total = exact(state.total_quantity, inst.lot_size, "order quantity") if state.total_quantity else None
        except VenueError as exc:
            self.malformed += 1
            self._log.warning("skipped a malformed IB order update for %s: %s", cid, exc)
            return
        if state.status in _ACTIVE and cid not in self._accepted and state.perm_id:
            self._accepted.add(cid)
            self._emit_now(OrderAccepted, order, venue_order_id=VenueOrderId(str(state.perm_id)))
        if cid in self._modifying and state.status in _ACTIVE:
            self._modify_answered(order, trade, total)
        elif total is not None and state.status in _ACTIVE and total != order.quantity and total >= order.filled_qty:
            # A bracket child following its parent, or an OCA sibling reduced by the other's fill.
            self._emit_now(OrderUpdated, order, quantity=total, price=order.price)
        if state.status in DONE_STATES:
            self._ended.add(cid)
            self._spawn(self._settle_end(order, state.status, state.filled, state.order_id), f"end of {cid}")

    def _modify_answered(self, order: Order, trade: Any, total: Decimal | None) -> None:
        cid = order.client_order_id
        quantity, price = self._modifying.pop(cid)
        new_price = order.price
        if price is not None and order.order_type is not OrderType.STOP_MARKET:
            new_price = exact(trade.order.lmtPrice, self._instrument(order).tick_size, "modified price")
        new_quantity = total if total is not None else (quantity or order.quantity)
        self._emit_now(OrderUpdated, order, quantity=new_quantity, price=new_price)

    def _on_execution(self, trade: Any, fill: Any) -> None:
        try:
            ex = ib_execution(fill)
        except (VenueError, AttributeError, ValueError) as exc:
            self.malformed += 1
            self._log.warning("skipped a malformed IB execution: %s", exc)
            return
        cid = ClientOrderId(ex.order_ref)
        if ex.exec_id in self._exec_seen or cid not in self._orders or ex.exec_id in self._awaiting_commission:
            return
        if ex.commission is not None:
            self._deliver(ex)
            return
        wait_s = self._session.config.commission_wait_ms / 1000
        handle = asyncio.get_running_loop().call_later(wait_s, self._commission_late, ex.exec_id)
        self._awaiting_commission[ex.exec_id] = (ex, handle)

    def _on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        held = self._awaiting_commission.pop(str(report.execId), None)
        if held is None:
            return
        ex, handle = held
        handle.cancel()
        with contextlib.suppress(VenueError, AttributeError, ValueError):
            ex = ib_execution(fill)  # the same execution, now with its commission
        self._deliver(ex)

    def _commission_late(self, exec_id: str) -> None:
        held = self._awaiting_commission.pop(exec_id, None)
        if held is not None:
            self._log.warning(
                "IB execution %s: no commission report within %d ms; the fill is booked without it",
                exec_id,
                self._session.config.commission_wait_ms,
            )
            self._deliver(held[0])

    def _deliver(self, ex: IbExecution) -> None:
        cid = ClientOrderId(ex.order_ref)
        order = self._orders.get(cid)
        if order is None or ex.exec_id in self._exec_seen:
            return
        try:
            fill = fill_event(ex, cid, self._instrument(order), self._hooks.clock.now_ns())
        except VenueError as exc:
            self.malformed += 1
            self._log.warning("skipped a malformed IB execution for %s: %s", cid, exc)
            return
        self._exec_seen.add(ex.exec_id)
        if cid not in self._accepted:
            self._accepted.add(cid)  # a fill before the ack: the fill carries the venue order id
        self._delivered[cid] = self._delivered.get(cid, Decimal(0)) + fill.last_qty
        self._hooks.emit(fill)

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        cid = self._cid_of_order_id(req_id)
        if cid is None:
            return
        order = self._orders[cid]
        if cid in self._modifying and code not in (2109, 399, 202):
            self._modifying.pop(cid, None)
            self._emit_now(OrderModifyRejected, order, reason=f"ib_{code}: {text}")
        elif code == 10147:  # the order to cancel is not working at IB
            self._spawn(self._settle_by_query(order, f"ib_{code}: {text}"), f"lookup {cid}")

    def _cid_of_order_id(self, order_id: int) -> ClientOrderId | None:
        if order_id <= 0:
            return None
        for cid, ib_order in self._sent.items():
            if ib_order.orderId == order_id:
                return cid
        return None

    # --- ending an order -------------------------------------------------------------------------
    async def _settle_end(self, order: Order, status: str, filled_text: str, order_id: int) -> None:
        """Report the end of an order once IB's count of its fills has been delivered."""
        cid = order.client_order_id
        inst = self._instrument(order)
        target = exact(filled_text or "0", inst.lot_size, "filled quantity")
        for _ in range(100):
            if self._delivered.get(cid, Decimal(0)) >= target:
                break
            if not any(ex.order_ref == cid for ex, _ in self._awaiting_commission.values()):
                await self._fetch_missing_fills(order)
                if self._delivered.get(cid, Decimal(0)) >= target:
                    break
            await asyncio.sleep(0.05)
        else:
            self._log.error("order %s ended at IB with %s filled but %s delivered; left for reconciliation", cid, target, self._delivered.get(cid))
            return
        if status == "Filled" or order.status.is_terminal:
            return
        errors = self._session.errors_for(order_id)
        reason = f"ib_{errors[-1][0]}: {errors[-1][1]}" if errors else status
        if cid not in self._accepted and order.filled_qty == 0:
            self._reject(order, f"ib_{errors[-1][0]}" if errors else "rejected", errors[-1][1] if errors else status)
        elif status == "Inactive" and order.filled_qty == 0 and not errors:
            self._emit_now(OrderCanceled, order, reason="Inactive: IB made the order inactive")
        else:
            self._emit_now(OrderCanceled, order, reason=reason)

    async def _executions(self) -> list[Any]:
        """This client's executions at IB, each with its commission report when IB has sent it.

        ib-async answers a repeated reqExecutions with fresh fill objects that lack the commission
        it already paired with the first copy of the execution (`IB.fills()`): prefer that copy."""
        fills = await self._ib.reqExecutionsAsync(ExecutionFilter(clientId=self._session.config.client_id))
        known = {f.execution.execId: f for f in self._ib.fills()}
        return [known.get(f.execution.execId, f) for f in fills]

    async def _fetch_missing_fills(self, order: Order) -> None:
        for fill in await self._executions():
            try:
                ex = ib_execution(fill)
            except (VenueError, AttributeError, ValueError):
                continue
            if ex.order_ref == order.client_order_id and ex.exec_id not in self._exec_seen:
                held = self._awaiting_commission.pop(ex.exec_id, None)
                if held is not None:
                    held[1].cancel()
                self._deliver(ex)

    async def _settle_by_query(self, order: Order, why: str) -> None:
        view = await self.query_order(order.instrument_id, order.client_order_id)
        if view is None:
            if order.venue_order_id is None:
                self._reject(order, "not_found_at_venue", f"order {order.client_order_id}: {why}")
            else:
                self._emit_now(OrderCanceled, order, reason=f"not_found_at_venue: {why}")
            return
        for fill in await self.order_fills(view):
            if fill.trade_id not in self._exec_seen:
                self._exec_seen.add(fill.trade_id)
                self._delivered[order.client_order_id] = self._delivered.get(order.client_order_id, Decimal(0)) + fill.last_qty
                self._hooks.emit(fill)
        if view.status.is_open:
            self._emit_now(OrderCancelRejected, order, reason=why)
        elif not order.status.is_terminal and view.filled_qty < order.quantity:
            self._emit_now(OrderCanceled, order, reason=why)

    def _after_reconnect(self) -> None:
        """After a reconnect: what happened to the orders still open here is only known by asking."""
        for order in list(self._orders.values()):
            if order.status.is_open and order.client_order_id not in self._ended:
                self._spawn(self._resync(order), f"resync {order.client_order_id}")

    async def _resync(self, order: Order) -> None:
        view = await self.query_order(order.instrument_id, order.client_order_id)
        cid = order.client_order_id
        if view is None:
            if cid not in self._accepted:
                # Sent as the connection dropped and never reached IB: it did not happen.
                self._reject(order, "not_found_at_venue", f"order {cid} never reached IB (the connection dropped)")
            return
        if cid not in self._accepted and view.status.is_open:
            self._accepted.add(cid)
            self._emit_now(OrderAccepted, order, venue_order_id=view.venue_order_id)
        if view.filled_qty > self._delivered.get(cid, Decimal(0)):
            for fill in await self.order_fills(view):
                if fill.trade_id not in self._exec_seen:
                    self._exec_seen.add(fill.trade_id)
                    self._delivered[cid] = self._delivered.get(cid, Decimal(0)) + fill.last_qty
                    self._hooks.emit(fill)
        if not view.status.is_open and not order.status.is_terminal and cid not in self._ended:
            self._ended.add(cid)
            if view.filled_qty < order.quantity:
                self._emit_now(OrderCanceled, order, reason=f"{view.status.value} at IB while disconnected")

    # --- VenueStatePort ---------------------------------------------------------------------------
    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        resolved = self._contracts[instrument_id]
        trades = await self._ib.reqOpenOrdersAsync()
        now = self._hooks.clock.now_ns()
        out = []
        for trade in trades:
            if trade.contract.conId != resolved.facts.con_id or not trade.order.orderRef:
                continue
            out.append(venue_order(ib_order_state(trade), resolved.instrument, now))
        return out

    async def query_order(self, instrument_id: InstrumentId, client_order_id: ClientOrderId) -> VenueOrder | None:
        # One lookup at a time: ib-async keys the open/completed-orders requests by name, so two at once
        # would answer one and fail the other.
        if self._query_lock is None:
            self._query_lock = asyncio.Lock()
        async with self._query_lock:
            return await self._query_order(instrument_id, client_order_id)

    async def _query_order(self, instrument_id: InstrumentId, client_order_id: ClientOrderId) -> VenueOrder | None:
        resolved = self._contracts[instrument_id]
        now = self._hooks.clock.now_ns()
        for trade in await self._ib.reqOpenOrdersAsync():
            if trade.order.orderRef == client_order_id:
                return venue_order(ib_order_state(trade), resolved.instrument, now)
        for trade in await self._ib.reqCompletedOrdersAsync(False):
            if trade.order.orderRef == client_order_id:
                state = ib_order_state(trade)
                filled = trade.order.filledQuantity
                if isinstance(filled, float) and 0 <= filled < 1e300:
                    state = _with_filled(state, filled)
                return venue_order(state, resolved.instrument, now)
        return None

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        inst = self._contracts[order.instrument_id].instrument
        now = self._hooks.clock.now_ns()
        out = []
        for fill in await self._executions():
            ex = ib_execution(fill)
            if ex.order_ref == order.client_order_id or str(ex.perm_id) == order.venue_order_id:
                out.append(fill_event(ex, order.client_order_id, inst, now))
        return sorted(out, key=lambda f: (f.ts_event, f.trade_id))

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        """Positions and cash in the portfolio's convention: IB's cash (TotalCashValue) less the value
        of the futures positions at IB's average cost (price x multiplier per contract)."""
        account = self._session.account
        await self._ib.reqAccountUpdatesMultiAsync(account)
        positions = await self._ib.reqPositionsAsync()
        wanted = {self._contracts[i].facts.con_id: self._contracts[i].instrument for i in instrument_ids}
        out: dict[InstrumentId, VenuePosition] = {}
        held_value: dict[str, Decimal] = {}
        for pos in positions:
            inst = wanted.get(pos.contract.conId)
            if pos.account != account or inst is None:
                continue
            quantity = exact(pos.position, inst.lot_size, "position")
            avg_cost = Decimal(repr(pos.avgCost))
            entry = avg_cost / inst.multiplier
            out[inst.id] = VenuePosition(inst.id, quantity, entry)
            held_value[inst.settle] = held_value.get(inst.settle, Decimal(0)) + quantity * avg_cost
        balances: dict[str, Decimal] = {}
        for value in self._ib.accountValues(account):
            if value.tag == "TotalCashValue" and value.currency and value.currency != "BASE":
                balances[value.currency] = Decimal(value.value) - held_value.get(value.currency, Decimal(0))
        return AccountSnapshot(as_of_ns=self._hooks.clock.now_ns(), positions=out, balances=balances)

    # --- helpers --------------------------------------------------------------------------------------
    def _instrument(self, order: Order) -> Instrument:
        return self._contracts[order.instrument_id].instrument

    def _reject(self, order: Order, reason: str, message: str) -> None:
        self._ended.add(order.client_order_id)
        self._log.info("order %s rejected: %s %s", order.client_order_id, reason, message)
        self._emit_now(OrderRejected, order, reason=reason, message=message)

    def _emit_now(self, kind: type[OrderEvent], order: Order, **fields: Any) -> None:
        now = self._hooks.clock.now_ns()
        self._hooks.emit(
            kind(client_order_id=order.client_order_id, instrument_id=order.instrument_id, ts_event=now, ts_init=now, **fields)
        )

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # a task boundary: log it; reconciliation resolves the order
            logging.getLogger("tradewright.venues.ib").exception("%s failed", name)


def _with_filled(state: IbOrderState, filled: float) -> IbOrderState:
    """A completed order's state with its filled quantity (reqCompletedOrders reports it on the order)."""
    return msgspec.structs.replace(state, filled=repr(filled))
