"""Orders at a CCXT venue: the kernel's `ExecutionClient`, the user stream, and the `VenueStatePort`
reads reconciliation makes — the same for every family, the family supplying its payload parsing.

`submit`/`cancel`/`modify` return at once; each starts a task whose answers come back as events through
`hooks.emit` (the kernel drops repeats). No order is ever sent twice and no fill is lost:

- a request whose outcome is unknown (timeout, connection lost, a 5xx) is never repeated: the order is
  re-queried by its client order id until the venue says what became of it;
- a request refused with "too many requests" was not processed: its bucket is paused for the venue's
  back-off and the request sent again (a bounded number of times, never faster than the bucket);
- an order ends here only after every fill the venue counts for it has been delivered: if the end
  arrives first, the order's fills are fetched and delivered before it.

Our client order ids are written as the venue accepts them (`Family.client_id`, deterministic, so a
restart maps the venue's id back) and the venue's own order ids are kept on every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus
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
from tradewright.venues._ccxt.exchange import RateGate
from tradewright.venues._ccxt.family import Failure, Family, OrderView
from tradewright.venues._common.backoff import Backoff
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.ports import VenueHooks

__all__ = ["NOT_FOUND", "CcxtExecution"]

NOT_FOUND = "not_found_at_venue"
_UNKNOWN_RETRIES_S = (0.25, 0.5, 1.0, 2.0, 4.0)


class CcxtExecution:
    """`VenueExecution` for one venue family (see the module docstring)."""

    def __init__(
        self,
        family: Family,
        exchange: Any,
        gate: RateGate,
        instruments: Mapping[InstrumentId, Instrument],
        symbols: Mapping[InstrumentId, str],
        market_ids: Mapping[InstrumentId, str],
        hooks: VenueHooks,
    ) -> None:
        self.family = family
        self._ex = exchange
        self.gate = gate
        self._instruments = dict(instruments)
        self._symbols = dict(symbols)
        self._iid_by_market = {mid: iid for iid, mid in market_ids.items()}
        self._hooks = hooks
        self._log: logging.Logger = hooks.log
        self._orders: dict[ClientOrderId, Order] = {}
        self._ours: dict[str, ClientOrderId] = {}
        self._placing: dict[ClientOrderId, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._updates: asyncio.Queue[OrderView] = asyncio.Queue()
        self.malformed = 0
        self.stream_updates = 0  # order updates the user stream delivered (for health and tests)

    # --- ExecutionClient ----------------------------------------------------------------------------
    @property
    def venue(self) -> Venue:
        return self.family.venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self.family.capabilities

    def venue_client_id(self, cid: ClientOrderId) -> str:
        venue_cid = self.family.client_id(cid)
        self._ours[venue_cid] = cid
        return venue_cid

    def track(self, order: Order) -> None:
        """Follow an order restored from the store (its updates are then recognised)."""
        self._orders[order.client_order_id] = order
        self.venue_client_id(order.client_order_id)

    def submit(self, order: Order) -> None:
        self.track(order)
        cid = order.client_order_id
        task = self._spawn(self._place(order), f"place {cid}")
        self._placing[cid] = task
        task.add_done_callback(lambda _: self._placing.pop(cid, None))

    def cancel(self, order: Order) -> None:
        self.track(order)
        self._spawn(self._cancel(order), f"cancel {order.client_order_id}")

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self.track(order)
        if not self.capabilities.modify:
            self._emit_now(OrderModifyRejected, order, reason=f"{self.family.name} has no native amend")
            return
        self._spawn(self._amend(order, price, quantity), f"amend {order.client_order_id}")

    def cancel_all(self, instrument_id: InstrumentId) -> None:
        self._spawn(self._cancel_all(instrument_id), f"cancel all {instrument_id}")

    def cancel_unknown(self, order: VenueOrder) -> None:
        self._spawn(self._cancel_unknown(order), f"cancel unknown {order.venue_order_id}")

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

    # --- requests -----------------------------------------------------------------------------------
    async def _request(self, bucket: str, request: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        return await self.gate.call(self.family, bucket, request)

    async def _place(self, order: Order) -> None:
        cid = order.client_order_id
        symbol = self._symbols[order.instrument_id]
        try:
            args = self.family.order_args(order, self.venue_client_id(cid))
        except VenueError as exc:
            self._reject(order, "unsupported", str(exc))
            return
        try:
            answer = await self._request(
                "orders",
                lambda: self._ex.create_order(
                    symbol, args.type, args.side, args.amount, args.price, args.params
                ),
            )
        except Exception as exc:
            failure, reason = self.family.classify(exc)
            if failure is Failure.UNKNOWN:
                self._log.warning("order %s: no answer (%s); asking the venue what became of it", cid, exc)
                await self._settle_unknown(
                    order, f"the request failed without a clear answer ({type(exc).__name__})"
                )
            else:
                self._reject(order, reason, str(exc)[:300])
            return
        if self._hooks.after_send is not None:
            self._hooks.after_send(order)
        venue_id = self.family.placed_id(answer)
        if venue_id and order.venue_order_id is None:
            self._emit_now(OrderAccepted, order, venue_order_id=VenueOrderId(venue_id))
        if not self.user_stream_ready():  # no pushes to rely on: ask
            await self._settle_by_query(order, cancel_refused="")

    async def _cancel(self, order: Order) -> None:
        cid = order.client_order_id
        placing = self._placing.get(cid)
        if placing is not None:  # a cancel must not overtake its order
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(placing)
        if order.status.is_terminal:
            return
        symbol = self._symbols[order.instrument_id]
        venue_cid = self.venue_client_id(cid)
        for attempt, pause_s in enumerate((0.0, 0.25, 1.0, 2.0)):
            if pause_s:
                await asyncio.sleep(pause_s)
            try:
                await self._request("cancels", lambda: self.family.cancel(self._ex, symbol, order, venue_cid))
            except Exception as exc:
                failure, reason = self.family.classify(exc)
                if failure is Failure.UNKNOWN:
                    self._log.warning("cancel of %s: no answer (%s), attempt %d", cid, exc, attempt + 1)
                    continue
                if failure in (Failure.NOT_FOUND, Failure.REJECTED):
                    # not working (any more, or yet): look it up
                    await self._settle_by_query(order, cancel_refused=f"{reason}: {str(exc)[:200]}")
                    return
                self._emit_now(OrderCancelRejected, order, reason=f"{reason}: {str(exc)[:200]}")
                return
            await self._settle_by_query(order, cancel_refused="")
            return
        self._log.error("cancel of %s: no answer after retries; reconciliation will send it again", cid)

    async def _amend(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        symbol = self._symbols[order.instrument_id]
        venue_cid = self.venue_client_id(order.client_order_id)
        try:
            await self._request(
                "orders", lambda: self.family.amend(self._ex, symbol, order, venue_cid, price, quantity)
            )
        except Exception as exc:
            failure, reason = self.family.classify(exc)
            if failure is Failure.UNKNOWN:  # it may have been amended: the venue's view decides
                await self._settle_by_query(order, cancel_refused="", after_amend=True)
                return
            self._emit_now(OrderModifyRejected, order, reason=f"{reason}: {str(exc)[:200]}")
            return
        self._emit_now(
            OrderUpdated, order, quantity=quantity if quantity is not None else order.quantity, price=price,
            venue_order_id=order.venue_order_id,
        )  # fmt: skip

    async def _cancel_all(self, instrument_id: InstrumentId) -> None:
        symbol = self._symbols[instrument_id]
        await self._request("cancels", lambda: self.family.cancel_all(self._ex, symbol))
        for order in [o for o in self._orders.values() if o.instrument_id == instrument_id and o.is_open]:
            await self._settle_by_query(order, cancel_refused="")

    async def _cancel_unknown(self, order: VenueOrder) -> None:
        symbol = self._symbols[order.instrument_id]
        try:
            await self._request("cancels", lambda: self._ex.cancel_order(order.venue_order_id, symbol))
        except Exception as exc:
            self._log.warning("cancel of unknown order %s failed: %s", order.venue_order_id, exc)

    # --- settling -----------------------------------------------------------------------------------
    async def _settle_unknown(self, order: Order, why: str) -> None:
        """Re-query an order whose request had no answer until the venue knows or denies it (it is
        marked rejected only when two queries in a row say "unknown": one still in flight shows up)."""
        not_found_in_a_row = 0
        for pause_s in _UNKNOWN_RETRIES_S:
            await asyncio.sleep(pause_s)
            try:
                view = await self.query_order(order.instrument_id, order.client_order_id)
            except Exception as exc:
                if self.family.classify(exc)[0] not in (Failure.UNKNOWN, Failure.RATE_LIMITED):
                    raise
                self._log.warning("order %s: query failed (%s)", order.client_order_id, exc)
                not_found_in_a_row = 0
                continue
            if view is not None:
                await self._settle(order, view)
                return
            not_found_in_a_row += 1
        if not_found_in_a_row >= 2:
            self._reject(
                order, NOT_FOUND, f"order {order.client_order_id}: {why}; the venue does not know it"
            )
            return
        self._log.error(
            "order %s: the venue could not be asked; reconciliation will resolve it", order.client_order_id
        )

    async def _settle_by_query(self, order: Order, *, cancel_refused: str, after_amend: bool = False) -> None:
        try:
            view = await self.query_order(order.instrument_id, order.client_order_id)
        except Exception as exc:
            self._log.warning(
                "order %s: query failed (%s); reconciliation will resolve it", order.client_order_id, exc
            )
            return
        if view is None:
            if order.venue_order_id is None:
                self._reject(
                    order,
                    NOT_FOUND,
                    f"order {order.client_order_id}: unknown at the venue ({cancel_refused})",
                )
            elif cancel_refused:
                self._emit_now(OrderCanceled, order, reason=f"{NOT_FOUND}: {cancel_refused}")
            return
        if (
            after_amend
            and view.status.is_open
            and (view.price != order.price or view.quantity != order.quantity)
        ):
            self._emit_now(
                OrderUpdated,
                order,
                quantity=view.quantity,
                price=view.price,
                venue_order_id=view.venue_order_id,
            )
        if view.status.is_open and cancel_refused:
            self._emit_now(OrderCancelRejected, order, reason=cancel_refused)
        await self._settle(order, view)

    async def _settle(self, order: Order, view: VenueOrder) -> None:
        """Bring the order up to the venue's view: its ack, any fills not delivered yet, then its end."""
        now = self._hooks.clock.now_ns()
        if order.venue_order_id is None and view.venue_order_id:
            self._hooks.emit(OrderAccepted(
                client_order_id=order.client_order_id, instrument_id=order.instrument_id,
                venue_order_id=view.venue_order_id, ts_event=view.ts_ns, ts_init=now,
            ))  # fmt: skip
        if view.filled_qty > order.filled_qty:
            for fill in await self.order_fills(view):
                self._hooks.emit(fill)
        end = _end_event(view, order, self._hooks.clock.now_ns())
        if end is None:
            return
        if order.filled_qty < view.filled_qty:
            self._log.error(
                "order %s ended at the venue with %s filled but %s delivered here; left for reconciliation",
                order.client_order_id, view.filled_qty, order.filled_qty,
            )  # fmt: skip
            return
        self._hooks.emit(end)

    def _reject(self, order: Order, reason: str, message: str) -> None:
        self._log.info("order %s rejected: %s %s", order.client_order_id, reason, message)
        self._emit_now(OrderRejected, order, reason=reason, message=message)

    def _emit_now(self, kind: type[OrderEvent], order: Order, **fields: Any) -> None:
        now = self._hooks.clock.now_ns()
        self._hooks.emit(
            kind(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_event=now,
                ts_init=now,
                **fields,
            )
        )

    # --- the user stream ----------------------------------------------------------------------------
    def on_raw(self, client: Any, message: Any) -> None:
        """Every raw WebSocket message (from the tapped exchange): queue the order updates it holds."""
        if not isinstance(message, dict | list):
            return
        try:
            views = self.family.pushes(message, self._iid_by_market, self._hooks.clock.now_ns())
        except (VenueError, KeyError, TypeError, ValueError, ArithmeticError, msgspec.ValidationError) as exc:
            self.malformed += 1
            self._log.warning(
                "%s: skipped a malformed order update (%s): %s", self.family.name, exc, str(message)[:300]
            )
            return
        for view in views:
            self.stream_updates += 1
            self._updates.put_nowait(view)

    def user_stream_ready(self) -> bool:
        return self.family.user_stream_ready(self._ex)

    async def wait_user_stream(self, timeout_s: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if self.user_stream_ready():
                return True
            await asyncio.sleep(0.02)
        return False

    async def run_user_stream(self, on_reconnect: Callable[[], None] | None = None) -> None:
        """Keep the private subscription alive and apply its updates in order, until cancelled. After a
        reconnect `on_reconnect` is called: what the stream missed only a reconciliation recovers."""
        worker = asyncio.get_running_loop().create_task(
            self._process_updates(), name=f"{self.family.name} updates"
        )
        backoff = Backoff(0.2, 30.0)
        try:
            while True:
                try:
                    await self.family.watch_private(self._ex)
                    backoff.reset()
                except Exception as exc:
                    failure, _ = self.family.classify(exc)
                    if failure is Failure.AUTH:
                        raise VenueError(
                            f"{self.family.name}: the venue refused the API keys on the user stream: {str(exc)[:200]}"
                        ) from None
                    delay = backoff.next_delay_s()
                    self._log.warning(
                        "%s user stream: %s; reconnecting in %.2f s", self.family.name, str(exc)[:200], delay
                    )
                    await asyncio.sleep(delay)
                    if on_reconnect is not None:
                        self._spawn(self._when_connected(on_reconnect), "user stream resync")
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _when_connected(self, then: Callable[[], None]) -> None:
        if await self.wait_user_stream(timeout_s=30.0):
            self._log.info("%s user stream connected again", self.family.name)
            then()

    async def _process_updates(self) -> None:
        while True:
            view = await self._updates.get()
            try:
                await self._on_update(view)
            except VenueError as exc:
                self.malformed += 1
                self._log.warning("skipped an order update: %s", exc)

    async def _on_update(self, view: OrderView) -> None:
        cid = self._ours.get(view.client_id)
        order = None if cid is None else self._orders.get(cid)
        if order is None:
            self._log.debug("update for %s, not ours or not open here", view.client_id)
            return
        venue_order = None if view.order is None else _with_cid(view.order, order.client_order_id)
        venue_id = (
            venue_order.venue_order_id
            if venue_order is not None
            else view.fill.venue_order_id
            if view.fill is not None
            else None
        )
        if order.venue_order_id is None and venue_id:
            self._emit_now(OrderAccepted, order, venue_order_id=venue_id)
        if view.fill is not None:
            self._hooks.emit(msgspec.structs.replace(view.fill, client_order_id=order.client_order_id))
        if venue_order is not None and (
            venue_order.status is not VenueOrderStatus.OPEN or venue_order.filled_qty > order.filled_qty
        ):
            await self._settle(order, venue_order)

    # --- VenueStatePort -----------------------------------------------------------------------------
    def _view(self, raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
        view = self.family.order_view(raw, iid)
        cid = self._ours.get(view.client_order_id)
        return view if cid is None else _with_cid(view, cid)

    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        symbol = self._symbols[instrument_id]
        raws = await self._request("queries", lambda: self.family.open_orders(self._ex, symbol))
        return [self._view(r, instrument_id) for r in raws]

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        symbol = self._symbols[instrument_id]
        venue_cid = self.venue_client_id(client_order_id)
        raw = await self._request("queries", lambda: self.family.query(self._ex, symbol, venue_cid))
        return None if raw is None else self._view(raw, instrument_id)

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        symbol = self._symbols[order.instrument_id]
        raws = await self._request(
            "queries", lambda: self.family.fills(self._ex, symbol, str(order.venue_order_id))
        )
        now = self._hooks.clock.now_ns()
        fills = [self.family.fill_of(r, order.instrument_id, now) for r in raws]
        ours = [
            msgspec.structs.replace(f, client_order_id=order.client_order_id)
            for f in fills
            if f.venue_order_id == order.venue_order_id
        ]
        return sorted(ours, key=lambda f: (f.ts_event, f.trade_id))

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        wanted = {self._symbols[i]: self._instruments[i] for i in instrument_ids}
        result: AccountSnapshot = await self._request(
            "queries", lambda: self.family.account(self._ex, wanted)
        )
        return result

    # --- tasks --------------------------------------------------------------------------------------
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
            self._log.exception("%s: %s failed", self.family.name, name)


def _with_cid(view: VenueOrder, cid: ClientOrderId) -> VenueOrder:
    if view.client_order_id == cid:
        return view
    return VenueOrder(
        cid,
        view.venue_order_id,
        view.instrument_id,
        view.side,
        view.status,
        view.quantity,
        view.filled_qty,
        view.price,
        view.ts_ns,
    )


def _end_event(view: VenueOrder, order: Order, ts_init: int) -> OrderEvent | None:
    """The event that ends an order the venue reports as ended (a filled order ends by its fills)."""
    common: dict[str, Any] = {
        "client_order_id": order.client_order_id,
        "instrument_id": order.instrument_id,
        "ts_event": view.ts_ns,
        "ts_init": ts_init,
    }
    if view.status is VenueOrderStatus.CANCELED:
        return OrderCanceled(reason="canceled at the venue", **common)
    if view.status is VenueOrderStatus.EXPIRED:
        return OrderExpired(**common)
    if view.status is VenueOrderStatus.REJECTED:
        return OrderRejected(reason="rejected", message="rejected by the venue", **common)
    return None
