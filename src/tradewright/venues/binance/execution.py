"""Orders on Binance USD-M through CCXT: the kernel's `ExecutionClient` and the `VenueStatePort` that
reconciliation reads.

The kernel calls `submit`/`cancel` synchronously; each starts a task that talks to the venue, and every
answer comes back as an `OrderEvent` through `emit` (the live node hands it to the kernel, which drops
repeats). Our client order id is Binance's `newClientOrderId`, so every request is traceable and an
order can always be looked up by it.

Answers are handled so that no order is ever sent twice and no fill is lost:

- a request that failed in a way that leaves its outcome unknown (timeout, connection lost, 5xx, 429)
  is never repeated: the order is re-queried by client order id until the venue says what became of it;
- an order is ended here (cancelled, expired) only once every fill the venue counts for it has been
  delivered: if the end arrives first, the order's fills are fetched and delivered before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

import ccxt

from tradewright.core.clock import Clock
from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder
from tradewright.model.enums import OrderType, TimeInForce
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
from tradewright.venues.binance.parsing import (
    account_snapshot,
    decode,
    end_event,
    excerpt,
    fill_from_trade,
    order_update,
    update_facts,
    venue_order,
)
from tradewright.venues.binance.schemas import AccountInfo, RestOrder, UserTrade

__all__ = ["BINANCE_USDM_CAPABILITIES", "BinanceExecutionClient", "outcome_unknown", "reject_reason"]

# Modify is native: PUT /fapi/v1/order changes a resting LIMIT order's price and size, keeping its id.
BINANCE_USDM_CAPABILITIES = VenueCapabilities(
    modify=True,
    post_only=True,
    query_by_client_order_id=True,
    user_stream=True,
    max_client_order_id_len=36,
    reduce_only=True,
)

NOT_FOUND = "not_found_at_venue"
_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')
_REASONS = {
    -5022: "post_only_would_take",
    -2019: "insufficient_margin",
    -2022: "reduce_only_rejected",
    -4116: "duplicate_client_order_id",
    -5021: "fok_not_filled",
    -1013: "filter_failure",
    -4164: "min_notional",
    -5027: "nothing_to_modify",
    -5026: "too_many_modifications",
    -2013: "order_not_found",
}
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
_STREAM_BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0)
# Re-query an order whose request ended without an answer: wait, then ask again (seconds).
_UNKNOWN_RETRIES_S = (0.25, 0.5, 1.0, 2.0, 4.0)


# Binance: "the request may or may not have been executed" — internal error, disconnected, unexpected
# response, backend timeout ("execution status unknown"), server busy; sent with an HTTP 5xx.
_OUTCOME_UNKNOWN_CODES = frozenset({-1000, -1001, -1006, -1007, -1008})


def _code(exc: BaseException) -> int | None:
    match = _CODE.search(str(exc))
    return int(match.group(1)) if match else None


def reject_reason(exc: BaseException) -> tuple[str, str]:
    """(machine reason, message) for an error the venue answered with."""
    code = _code(exc)
    reason = _REASONS.get(code, f"binance_{code}") if code is not None else type(exc).__name__
    return reason, str(exc)[:300]


def outcome_unknown(exc: BaseException) -> bool:
    """True when a failed request may still have been carried out (no answer, or a 5xx saying so)."""
    return isinstance(exc, ccxt.NetworkError) or _code(exc) in _OUTCOME_UNKNOWN_CODES


class BinanceExecutionClient:
    """Send, cancel and look up our orders on Binance USD-M; turn the user stream into events."""

    def __init__(
        self,
        exchange: Any,
        instrument: Instrument,
        market_symbol: str,
        clock: Clock,
        emit: Callable[[OrderEvent], None],
        *,
        log: logging.Logger | None = None,
        after_send: Callable[[Order], None] | None = None,
        amend: bool = True,
    ) -> None:
        self._ex = exchange
        self._capabilities = dataclasses.replace(BINANCE_USDM_CAPABILITIES, modify=amend)
        self.instrument = instrument
        self._symbol = market_symbol
        self._clock = clock
        self._emit = emit
        self._log = log or logging.getLogger("tradewright.venues.binance")
        self._after_send = after_send
        self._orders: dict[ClientOrderId, Order] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._placing: dict[ClientOrderId, asyncio.Task[None]] = {}
        self._updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._venue_symbol = ""
        self.malformed = 0

    # --- ExecutionClient --------------------------------------------------------------------
    @property
    def venue(self) -> Venue:
        return self.instrument.id.venue

    def track(self, order: Order) -> None:
        """Follow an order this client did not send in this life (restored after a restart)."""
        self._orders[order.client_order_id] = order

    def submit(self, order: Order) -> None:
        cid = order.client_order_id
        self._orders[cid] = order
        task = self._spawn(self._place(order), f"place {cid}")
        self._placing[cid] = task
        task.add_done_callback(lambda _: self._placing.pop(cid, None))

    def cancel(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._spawn(self._cancel(order), f"cancel {order.client_order_id}")

    @property
    def capabilities(self) -> VenueCapabilities:
        """Binance's, with `modify` off when the config asks for cancel-then-replace (`venue.amend`)."""
        return self._capabilities

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        """Amend a resting LIMIT order in place (PUT /fapi/v1/order: both price and size are sent)."""
        self._orders[order.client_order_id] = order
        self._spawn(self._amend(order, price, quantity), f"amend {order.client_order_id}")

    async def drain(self, timeout_s: float) -> bool:
        """Wait for the requests in flight (True if they all finished in time)."""
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

    # --- placing and cancelling -------------------------------------------------------------
    async def _place(self, order: Order) -> None:
        cid = order.client_order_id
        params: dict[str, Any] = {"newClientOrderId": cid}
        if order.reduce_only:
            params["reduceOnly"] = True
        if order.order_type is OrderType.LIMIT:
            kind = "limit"
            if order.post_only:
                params["timeInForce"] = "GTX"
            elif order.time_in_force in _TIF:
                params["timeInForce"] = _TIF[order.time_in_force]
            else:
                self._reject(
                    order, "unsupported", f"time in force {order.time_in_force} is not supported here"
                )
                return
        elif order.order_type is OrderType.MARKET:
            kind = "market"
        else:
            self._reject(order, "unsupported", f"{order.order_type} orders are not supported here")
            return
        price = None if order.price is None else str(order.price)
        try:
            answer = await self._ex.create_order(
                self._symbol, kind, order.side.value.lower(), str(order.quantity), price, params
            )
        except ccxt.BaseError as exc:
            if outcome_unknown(exc):
                # It may or may not have been carried out: never send it again, ask what became of it.
                self._log.warning("order %s: no answer (%s); asking the venue what became of it", cid, exc)
                await self._settle_unknown(
                    order, f"the request failed without a clear answer ({type(exc).__name__})"
                )
                return
            reason, message = reject_reason(exc)
            self._reject(order, reason, message)
            return
        if self._after_send is not None:
            self._after_send(order)
        await self._settle(order, self._view(answer))

    async def _cancel(self, order: Order) -> None:
        cid = order.client_order_id
        placing = self._placing.get(cid)
        if placing is not None:
            # A cancel must not overtake its order (it would be refused, and the order then placed
            # unseen): wait for the venue's answer to the order first.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(placing)
            if order.status.is_terminal:
                return
        for attempt, pause_s in enumerate((0.0, 0.25, 1.0, 2.0)):
            if pause_s:
                await asyncio.sleep(pause_s)
            try:
                answer = await self._ex.cancel_order(
                    order.venue_order_id, self._symbol, {"origClientOrderId": cid}
                )
            except ccxt.BaseError as exc:
                if outcome_unknown(exc):
                    self._log.warning("cancel of %s: no answer (%s), attempt %d", cid, exc, attempt + 1)
                    continue
                if isinstance(exc, ccxt.OrderNotFound | ccxt.OperationRejected | ccxt.InvalidOrder):
                    # -2011 "Unknown order sent": not working (any more, or yet): look it up.
                    self._log.info(
                        "cancel of %s refused (%s); looking the order up", cid, reject_reason(exc)[0]
                    )
                    await self._settle_by_query(order, cancel_refused=reject_reason(exc)[1])
                    return
                reason, message = reject_reason(exc)
                self._emit_now(OrderCancelRejected, order, reason=f"{reason}: {message}")
                return
            await self._settle(order, self._view(answer))
            return
        self._log.error("cancel of %s: no answer after retries; reconciliation will send it again", cid)

    async def _amend(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        """Send the amendment; its answer (the order as it now is) updates it here.

        Binance cancels instead of amending when a partly filled order's new size is not above what has
        filled, or a post-only order's new price would take: the answer then shows the order ended, and
        it ends here the same way. An amendment without a clear answer is settled by looking the order up.
        """
        cid = order.client_order_id
        placing = self._placing.get(cid)
        if placing is not None:  # an amendment must not overtake its order
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(placing)
        if order.status.is_terminal:
            return
        new_price = order.price if price is None else price
        new_qty = order.quantity if quantity is None else quantity
        if new_price is None or order.order_type is not OrderType.LIMIT:
            self._emit_now(OrderModifyRejected, order, reason="unsupported: only LIMIT orders can be amended")
            return
        try:
            # Sent by our client order id alone (CCXT's edit_order always sends an orderId).
            answer = await self._ex.fapiPrivatePutOrder({
                "symbol": self._ex.market(self._symbol)["id"], "origClientOrderId": cid,
                "side": order.side.value, "quantity": f"{new_qty:f}", "price": f"{new_price:f}",
            })  # fmt: skip
        except ccxt.BaseError as exc:
            if not outcome_unknown(exc) and _code(exc) != -2013:
                reason, message = reject_reason(exc)
                self._emit_now(OrderModifyRejected, order, reason=f"{reason}: {message}")
                return
            # No answer, or the order is no longer working: the venue's view decides.
            self._log.info("amend of %s: %s; looking the order up", cid, reject_reason(exc)[0])
            try:
                view = await self.query_order(order.instrument_id, cid)
            except ccxt.BaseError as query_exc:
                self._log.warning(
                    "amend of %s: query failed (%s); reconciliation resolves it", cid, query_exc
                )
                return
            if view is None:
                self._emit_now(OrderModifyRejected, order, reason=f"{NOT_FOUND}: {reject_reason(exc)[1]}")
                return
        else:
            view = venue_order(decode(RestOrder, answer, "amend answer"), self.instrument.id)
        if view.status.is_open:
            self._emit_now(
                OrderUpdated,
                order,
                quantity=view.quantity,
                price=view.price,
                venue_order_id=view.venue_order_id,
            )
            if view.filled_qty > order.filled_qty:
                await self._settle(order, view)
            return
        await self._settle(order, view)

    async def _settle_unknown(self, order: Order, why: str) -> None:
        """After a request without an answer: re-query the order until the venue knows or denies it.

        It is marked rejected only when the venue said "unknown" on the last two queries (a request
        still in flight shows up on a later one); if the venue cannot be asked, reconciliation decides.
        """
        cid = order.client_order_id
        not_found_in_a_row = 0
        for pause_s in _UNKNOWN_RETRIES_S:
            await asyncio.sleep(pause_s)
            try:
                view = await self.query_order(order.instrument_id, cid)
            except ccxt.BaseError as exc:
                if not outcome_unknown(exc):
                    raise
                self._log.warning("order %s: query failed (%s)", cid, exc)
                not_found_in_a_row = 0
                continue
            if view is not None:
                await self._settle(order, view)
                return
            not_found_in_a_row += 1
        if not_found_in_a_row >= 2:
            self._reject(
                order,
                NOT_FOUND,
                f"order {cid}: {why}; re-queried by its client order id, the venue does not know it",
            )
            return
        self._log.error("order %s: the venue could not be asked; reconciliation will resolve it", cid)

    async def _settle_by_query(self, order: Order, *, cancel_refused: str) -> None:
        cid = order.client_order_id
        try:
            view = await self.query_order(order.instrument_id, cid)
        except ccxt.BaseError as exc:
            if not outcome_unknown(exc):
                raise
            self._log.warning("order %s: query failed (%s); reconciliation will resolve it", cid, exc)
            return
        if view is None:
            if order.venue_order_id is None:
                self._reject(order, NOT_FOUND, f"order {cid}: unknown at the venue ({cancel_refused})")
            else:
                self._emit_now(OrderCanceled, order, reason=f"{NOT_FOUND}: {cancel_refused}")
        elif view.status.is_open:
            self._emit_now(OrderCancelRejected, order, reason=cancel_refused)
        else:
            await self._settle(order, view)

    async def _settle(self, order: Order, view: VenueOrder) -> None:
        """Bring the order up to the venue's view: its ack, any fills not delivered yet, then its end."""
        now = self._clock.now_ns()
        if order.venue_order_id is None and view.venue_order_id:
            self._emit(
                OrderAccepted(
                    client_order_id=order.client_order_id,
                    instrument_id=order.instrument_id,
                    venue_order_id=view.venue_order_id,
                    ts_event=view.ts_ns,
                    ts_init=now,
                )
            )
        if view.filled_qty > order.filled_qty:
            for fill in await self.order_fills(view):
                self._emit(fill)
        end = end_event(view, self._clock.now_ns())
        if end is None:
            return
        if order.filled_qty < view.filled_qty:
            self._log.error(
                "order %s ended at the venue with %s filled but %s delivered here; left open for "
                "reconciliation",
                order.client_order_id,
                view.filled_qty,
                order.filled_qty,
            )
            return
        self._emit(end)

    def _view(self, answer: Any) -> VenueOrder:
        info = answer.get("info") if isinstance(answer, dict) else None
        return venue_order(decode(RestOrder, info, "order answer"), self.instrument.id)

    def _reject(self, order: Order, reason: str, message: str) -> None:
        self._log.info("order %s rejected: %s %s", order.client_order_id, reason, message)
        self._emit_now(OrderRejected, order, reason=reason, message=message)

    def _emit_now(self, kind: type[OrderEvent], order: Order, **fields: Any) -> None:
        now = self._clock.now_ns()
        self._emit(
            kind(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_event=now,
                ts_init=now,
                **fields,
            )
        )

    # --- the user stream --------------------------------------------------------------------
    def on_raw_update(self, message: dict[str, Any]) -> None:
        """Called by the exchange object for every ORDER_TRADE_UPDATE, in order (never blocks)."""
        self._updates.put_nowait(message)

    async def run_user_stream(
        self,
        on_reconnect: Callable[[], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
    ) -> None:
        """Keep the user-data subscription alive (the messages arrive through `on_raw_update`).

        A dropped connection is re-opened with backoff; `on_disconnect` is told each failure, and
        `on_reconnect` is called once it is connected again, because updates sent while it was down are
        lost and only a reconciliation recovers them.
        """
        failures = 0
        while True:
            try:
                await self._ex.watch_orders(self._symbol)
            except ccxt.NetworkError as exc:
                failures += 1
                pause = _STREAM_BACKOFF_S[min(failures, len(_STREAM_BACKOFF_S)) - 1]
                self._log.warning("user stream: %s; reconnecting in %.1f s", exc, pause)
                if on_disconnect is not None:
                    on_disconnect(str(exc)[:200])
                await asyncio.sleep(pause)
                if on_reconnect is not None:
                    self._spawn(self._when_connected(on_reconnect), "user stream resync")
                continue
            failures = 0

    async def _when_connected(self, then: Callable[[], None]) -> None:
        if await self.wait_user_stream(timeout_s=30.0):
            self._log.info("user stream connected again")
            then()

    async def wait_user_stream(self, timeout_s: float) -> bool:
        """Wait until the user-data WebSocket is connected (True), or `timeout_s` passes (False)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            for url, client in list(getattr(self._ex, "clients", {}).items()):
                connected = getattr(client, "connected", None)
                if (
                    "listenKey" in url
                    and connected is not None
                    and connected.done()
                    and not connected.exception()
                ):
                    return True
            await asyncio.sleep(0.02)
        return False

    async def process_updates(self, on_malformed: Callable[[], None] | None = None) -> None:
        """Apply user-stream updates one at a time, in the order the venue sent them.

        An update that cannot be decoded or applied is counted, logged with the venue message itself
        (truncated), and skipped; `on_malformed` is then called, because whatever it reported is only
        recovered by reconciling with the venue. No message can end this task.
        """
        while True:
            message = await self._updates.get()
            try:
                await self._on_update(message)
            except asyncio.CancelledError:
                raise
            except VenueError as exc:
                self._bad_update(message, str(exc), on_malformed)
            except Exception as exc:  # the task's boundary: one message never stops the user stream
                self._bad_update(message, f"{type(exc).__name__}: {exc}", on_malformed)

    def _bad_update(self, message: Any, why: str, on_malformed: Callable[[], None] | None) -> None:
        self.malformed += 1
        self._log.warning(
            "skipped a malformed ORDER_TRADE_UPDATE from the venue (%s); venue message: %s",
            excerpt(why, 300),
            excerpt(message, 400),
        )
        if on_malformed is not None:
            on_malformed()

    async def _on_update(self, message: dict[str, Any]) -> None:
        update = order_update(message)
        if not self._venue_symbol:
            self._venue_symbol = str(self._ex.market(self._symbol)["id"])
        if update.event != "ORDER_TRADE_UPDATE":
            raise VenueError(f"binance: an order update whose event is {excerpt(update.event, 40)}")
        if update.order.symbol != self._venue_symbol:
            return
        facts = update_facts(update, self.instrument.id, self._clock.now_ns(), self.instrument.settle)
        order = self._orders.get(facts.client_order_id)
        if order is None:
            self._log.debug("update for %s, which is not ours or not open here", facts.client_order_id)
            return
        if facts.ack is not None and order.venue_order_id is None:
            self._emit(facts.ack)
        if facts.fill is not None:
            self._emit(facts.fill)
        if facts.end is not None or facts.venue_order.filled_qty > order.filled_qty:
            await self._settle(order, facts.venue_order)

    def cancel_unknown(self, order: VenueOrder) -> None:
        """Cancel an order working at the venue that this node does not have open (reconciliation)."""
        self._spawn(self._cancel_unknown(order), f"cancel unknown {order.client_order_id}")

    async def _cancel_unknown(self, order: VenueOrder) -> None:
        try:
            await self._ex.cancel_order(order.venue_order_id, self._symbol)
        except ccxt.BaseError as exc:
            self._log.warning("cancel of unknown order %s failed: %s", order.client_order_id, exc)

    # --- VenueStatePort ---------------------------------------------------------------------
    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        answers = await self._ex.fetch_open_orders(self._symbol)
        return [self._view(a) for a in answers]

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        try:
            answer = await self._ex.fetch_order(None, self._symbol, {"origClientOrderId": client_order_id})
        except ccxt.OrderNotFound:
            return None
        return self._view(answer)

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        trades = await self._ex.fetch_my_trades(self._symbol, None, None, {"orderId": order.venue_order_id})
        now = self._clock.now_ns()
        fills = []
        for t in trades:
            trade = decode(UserTrade, t.get("info"), "userTrades row")
            if str(trade.orderId) != order.venue_order_id:
                continue
            fills.append(fill_from_trade(trade, order.client_order_id, order.instrument_id, now))
        return sorted(fills, key=lambda f: int(f.trade_id))

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        payload = await self._ex.fapiprivatev2_get_account()
        info = decode(AccountInfo, payload, "account")
        venue_symbol = self._ex.market(self._symbol)["id"]
        return account_snapshot(info, {venue_symbol: self.instrument})

    # --- tasks ------------------------------------------------------------------------------
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
            self._log.exception("%s failed", name)
