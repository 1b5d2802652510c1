"""Orders on Polymarket: the kernel's `ExecutionClient` and the reconciliation reads (`VenueStatePort`).

- Submits arriving together are posted together (`POST /orders`, at most 15; one alone goes to
  `POST /order`); a batch leg the venue refused comes back with an empty id and its reason.
- Every order is signed offline for the order version the venue runs (`GET /version`); an answer
  saying `order_version_mismatch` refreshes the version and re-signs and re-posts that order once.
- The venue's order id is the order's EIP-712 hash, computed before sending and reproducible from
  the stored order (see `orders.py`), so a request whose outcome is unknown (no answer, 5xx) is never
  sent again: the order is looked up (live orders, then trades) until the venue says what became of it.
- Fills come from the user channel's trades (see `user.py`), booked at MATCHED on the side of *our*
  order even when it was matched against the other outcome's token; later statuses only move the
  trade towards settlement (`SettlementLedger`).
- Heartbeats keep the session's orders alive; while they fail, new orders are refused (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, Protocol

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue, VenueOrderId
from tradewright.engine.venue_state import VenueOrder, VenueOrderStatus
from tradewright.model.enums import OrderSide, OrderType, TimeInForce
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
)
from tradewright.model.orders import Order
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.ports import VenueHealth, VenueHooks, VenueStatus
from tradewright.venues.polymarket.catalog import Catalog
from tradewright.venues.polymarket.fills import UserEvents
from tradewright.venues.polymarket.http import ClobHttp, PolymarketApiError
from tradewright.venues.polymarket.orders import OrderFactory, SignedOrder
from tradewright.venues.polymarket.parsing import VENUE, decode
from tradewright.venues.polymarket.schemas import (
    CancelAnswer,
    PostOrderAnswer,
)
from tradewright.venues.polymarket.settlement import SettlementLedger
from tradewright.venues.polymarket.state import StateReads, snap

__all__ = ["CAPABILITIES", "PolymarketExecution", "reject_reason"]

CAPABILITIES = VenueCapabilities(
    modify=False,
    post_only=True,
    query_by_client_order_id=True,  # through the reproducible order hash
    user_stream=True,
    max_client_order_id_len=64,
    order_types=frozenset({OrderType.LIMIT, OrderType.MARKET}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK}),
    batch_submit=15,
    batch_cancel=3000,
    cancel_all=True,
)
_BATCH = 15
_END_CURSOR = "LTE="
_UNKNOWN_RETRIES_S = (0.25, 0.5, 1.0, 2.0, 4.0)
_LOT = Decimal("0.01")


class _UserStream(Protocol):
    connected: asyncio.Event

    async def run(self, on_reconnect: Callable[[], None] | None = None) -> None: ...


def reject_reason(text: str) -> str:
    """A machine reason for the venue's error text (Polymarket sends sentences, not codes)."""
    t = text.lower()
    if "order_version_mismatch" in t:
        return "order_version_mismatch"
    if "post only" in t or "post-only" in t or "would cross" in t or "crosses the book" in t:
        return "post_only_would_take"
    if "fully filled or killed" in t or "couldn't be fully filled" in t:
        return "fok_not_filled"
    if "not enough balance" in t or "allowance" in t:
        return "insufficient_balance"
    if "min size" in t or "invalid amount" in t or "minimum" in t:
        return "order_size_below_min"
    if "tick" in t:
        return "off_grid"
    if "cancel-only" in t or "trading is currently disabled" in t:
        return "venue_closed"
    if "duplicate" in t or "already exists" in t:
        return "duplicate_order"
    return "polymarket_rejected"


class PolymarketExecution(UserEvents, StateReads):
    """Send, cancel and look up our orders; turn the user channel into events (see the module docstring)."""

    def __init__(
        self,
        http: ClobHttp,
        catalog: Catalog,
        factory: OrderFactory,
        hooks: VenueHooks,
        *,
        version: int = 2,
        auto_version: bool = True,
        collateral: str = "pUSD",
        signature_type: int = 0,
        fee_rates_bps: dict[str, int] | None = None,
    ) -> None:
        self.http = http
        self.catalog = catalog
        self.factory = factory
        self._hooks = hooks
        self._emit = hooks.emit
        self.version = version
        self._auto_version = auto_version
        self.collateral = collateral
        self._signature_type = signature_type
        self._fee_rates = fee_rates_bps or {}
        self._orders: dict[ClientOrderId, Order] = {}
        self._by_hash: dict[str, ClientOrderId] = {}
        self._pending_submit: list[Order] = []
        self._pending_cancel: list[Order] = []
        self._flush_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._expect_fill: dict[ClientOrderId, Decimal] = {}  # IOC/FOK: what the venue matched at once
        self._cancel_heard: dict[ClientOrderId, asyncio.Event] = {}
        self.ledger = SettlementLedger()
        self.heartbeat_ok = True
        self.heartbeat_reason = ""
        self.malformed = 0
        self.resubmitted_for_version = 0
        self.user_stream: _UserStream | None = None  # set by the factory (user.UserChannel)

    # --- ExecutionClient ----------------------------------------------------------------------
    @property
    def venue(self) -> Venue:
        return VENUE

    @property
    def capabilities(self) -> VenueCapabilities:
        return CAPABILITIES

    def track(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        if order.venue_order_id is not None:
            self._by_hash[order.venue_order_id] = order.client_order_id
        else:
            for version in (self.version, 3 - self.version):
                with contextlib.suppress(VenueError):
                    self._by_hash[self._expected_id(order, version)] = order.client_order_id

    def submit(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        if not self.heartbeat_ok:
            self._reject(
                order, "heartbeat_lost", f"heartbeats are failing ({self.heartbeat_reason}): no new orders"
            )
            return
        self._pending_submit.append(order)
        self._schedule_flush()

    def cancel(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._pending_cancel.append(order)
        self._schedule_flush()

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        now = self._hooks.clock.now_ns()
        self._emit(
            OrderModifyRejected(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                reason="Polymarket has no amend: cancel and submit anew",
                ts_event=now,
                ts_init=now,
            )
        )

    def cancel_all(self, instrument_id: InstrumentId) -> None:
        token = self.catalog.token_of(instrument_id)
        self._spawn(self._cancel_market(token), f"cancel all {instrument_id}")

    def cancel_unknown(self, order: VenueOrder) -> None:
        async def cancel() -> None:
            await self._cancel_ids([order.venue_order_id])

        self._spawn(cancel(), f"cancel unknown {order.venue_order_id}")

    async def run_user_stream(self, on_reconnect: Callable[[], None] | None = None) -> None:
        if self.user_stream is None:
            raise VenueError("the Polymarket user channel was not set up (no API credentials)")
        await self.user_stream.run(on_reconnect)

    async def wait_user_stream(self, timeout_s: float) -> bool:
        if self.user_stream is None:
            return False
        try:
            await asyncio.wait_for(self.user_stream.connected.wait(), timeout_s)
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

    # --- version ------------------------------------------------------------------------------
    async def refresh_version(self) -> int:
        """Ask the venue which order version it runs (the official clients fall back to 2)."""
        try:
            answer = await self.http.request("GET", "/version")
            self.version = int(answer["version"]) if isinstance(answer, dict) else 2
        except (PolymarketApiError, KeyError, TypeError, ValueError) as exc:
            self._hooks.log.warning("polymarket: GET /version failed (%s); signing version 2", exc)
            self.version = 2
        if self.version not in (1, 2):
            raise VenueError(f"Polymarket runs order version {self.version}, which this adapter cannot sign")
        return self.version

    # --- sending ------------------------------------------------------------------------------
    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        submits, self._pending_submit = self._pending_submit, []
        for k in range(0, len(submits), _BATCH):
            chunk = submits[k : k + _BATCH]
            self._spawn(self._place(chunk), f"place {len(chunk)}")
        cancels, self._pending_cancel = self._pending_cancel, []
        if cancels:
            self._spawn(self._cancel(cancels), f"cancel {len(cancels)}")

    def _sign(self, order: Order) -> SignedOrder:
        market, index = self.catalog.market_of(order.instrument_id)
        signed = self.factory.build(
            order, market, index, version=self.version, fee_rate_bps=self._fee_rates.get(market.market_id, 0)
        )
        self._by_hash[signed.order_id] = order.client_order_id
        return signed

    async def _place(self, orders: list[Order], *, retry_version: bool = True) -> None:
        signed: list[tuple[Order, SignedOrder]] = []
        for order in orders:
            try:
                signed.append((order, self._sign(order)))
            except VenueError as exc:
                self._reject(order, "invalid_order", str(exc))
        if not signed:
            return
        body: Any = signed[0][1].body if len(signed) == 1 else [s.body for _, s in signed]
        path = "/order" if len(signed) == 1 else "/orders"
        try:
            answer = await self.http.request("POST", path, body=body, auth="l2")
        except PolymarketApiError as exc:
            if exc.outcome_unknown:
                self._hooks.log.warning("polymarket %s: %s; asking what became of the orders", path, exc)
                for order, s in signed:
                    self._spawn(self._settle_unknown(order, s), f"settle {order.client_order_id}")
                return
            answers = [PostOrderAnswer(success=False, errorMsg=exc.error_text) for _ in signed]
        else:
            rows = answer if isinstance(answer, list) else [answer]
            try:
                answers = [decode(PostOrderAnswer, row, "order answer") for row in rows]
            except VenueError as exc:
                self.malformed += 1
                self._hooks.log.warning("polymarket: %s; settling each order by query", exc)
                for order, s in signed:
                    self._spawn(self._settle_unknown(order, s), f"settle {order.client_order_id}")
                return
        if self._hooks.after_send is not None:
            for order, _ in signed:
                self._hooks.after_send(order)
        retry: list[Order] = []
        for (order, s), ans in zip(signed, answers, strict=False):
            if retry_version and reject_reason(ans.errorMsg) == "order_version_mismatch":
                retry.append(order)
                continue
            self._on_post_answer(order, s, ans)
        if retry:
            old = self.version
            await self.refresh_version()
            self.resubmitted_for_version += len(retry)
            self._hooks.log.warning(
                "polymarket: order version changed (%d -> %d): re-signing %d order(s)",
                old,
                self.version,
                len(retry),
            )
            await self._place(retry, retry_version=False)

    def _on_post_answer(self, order: Order, signed: SignedOrder, ans: PostOrderAnswer) -> None:
        if not ans.success or not ans.orderID:
            reason = reject_reason(ans.errorMsg)
            if reason == "fok_not_filled":
                self._emit_now(OrderExpired, order)
            else:
                self._reject(order, reason, ans.errorMsg or "refused without a reason")
            return
        if ans.orderID != signed.order_id:
            self._hooks.log.warning(
                "polymarket order %s: venue id %s differs from the signed hash %s",
                order.client_order_id,
                ans.orderID,
                signed.order_id,
            )
            self._by_hash[ans.orderID] = order.client_order_id
        self._accept(order, ans.orderID)
        if order.order_type is OrderType.MARKET or order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            taken = ans.takingAmount if order.side is OrderSide.BUY else ans.makingAmount
            matched = snap(Decimal(taken or "0")) if ans.status.lower() == "matched" else Decimal(0)
            self._expect_fill[order.client_order_id] = matched
            self._check_ioc_done(order)

    def _check_ioc_done(self, order: Order) -> None:
        """An IOC/FOK order ends once the fills the venue matched at once are all here."""
        expected = self._expect_fill.get(order.client_order_id)
        if expected is None or order.filled_qty < expected or order.status.is_terminal:
            return
        del self._expect_fill[order.client_order_id]
        if order.filled_qty < order.quantity:
            self._emit_now(OrderExpired, order)

    def _accept(self, order: Order, order_id: str) -> None:
        if order.venue_order_id is None:
            now = self._hooks.clock.now_ns()
            self._emit(
                OrderAccepted(
                    client_order_id=order.client_order_id,
                    instrument_id=order.instrument_id,
                    venue_order_id=VenueOrderId(order_id),
                    ts_event=now,
                    ts_init=now,
                )
            )

    async def _settle_unknown(self, order: Order, signed: SignedOrder) -> None:
        """The order may or may not be at the venue: look it up by its hash until the venue knows."""
        misses = 0
        for pause in _UNKNOWN_RETRIES_S:
            await asyncio.sleep(pause)
            try:
                view = await self._lookup(order, signed.order_id)
            except PolymarketApiError as exc:
                self._hooks.log.warning("polymarket order %s: lookup failed (%s)", order.client_order_id, exc)
                misses = 0
                continue
            if view is not None:
                await self._settle(order, view)
                return
            misses += 1
        if misses >= 2:
            self._reject(order, "not_found_at_venue", f"order {signed.order_id}: the venue does not know it")
            return
        self._hooks.log.error(
            "polymarket order %s: unknown; reconciliation will resolve it", order.client_order_id
        )

    async def _settle(self, order: Order, view: VenueOrder) -> None:
        """Bring an order up to the venue's view: its ack, the fills not delivered, then its end."""
        self._accept(order, view.venue_order_id)
        if view.filled_qty > order.filled_qty:
            for fill in await self.order_fills(view):
                self._deliver(fill)
        if view.status is VenueOrderStatus.OPEN or order.status.is_terminal:
            return
        if order.filled_qty < view.filled_qty:
            self._hooks.log.error(
                "polymarket order %s: fills missing; left to reconciliation", order.client_order_id
            )
            return
        if view.status is VenueOrderStatus.CANCELED:
            self._emit_now(OrderCanceled, order, reason="canceled at the venue")
        elif view.status is VenueOrderStatus.REJECTED:
            self._reject(order, "polymarket_rejected", "the venue marked the order invalid")
        elif view.status is VenueOrderStatus.FILLED and order.filled_qty < order.quantity:
            self._emit_now(OrderExpired, order)

    def _deliver(self, fill: OrderFilled) -> None:
        self._emit(fill)
        order = self._orders.get(fill.client_order_id)
        if order is not None:
            self._check_ioc_done(order)

    # --- cancelling ---------------------------------------------------------------------------
    async def _cancel(self, orders: list[Order]) -> None:
        ids = []
        for order in orders:
            oid = order.venue_order_id or self._expected_id(order, self.version)
            ids.append((order, oid))
        answer = await self._cancel_ids([oid for _, oid in ids])
        if answer is None:
            return
        for order, oid in ids:
            if oid in answer.canceled:
                self._spawn(self._confirm_cancel(order, oid), f"confirm cancel {order.client_order_id}")
            elif oid in answer.not_canceled:
                text = answer.not_canceled[oid]
                self._spawn(self._cancel_refused(order, oid, text), f"cancel refused {order.client_order_id}")

    async def _cancel_ids(self, ids: list[str]) -> CancelAnswer | None:
        if not ids:
            return None
        try:
            raw = (
                await self.http.request("DELETE", "/order", body={"orderID": ids[0]}, auth="l2")
                if len(ids) == 1
                else await self.http.request("DELETE", "/orders", body=ids, auth="l2")
            )
            return decode(CancelAnswer, raw, "cancel answer")  # type: ignore[no-any-return]
        except (PolymarketApiError, VenueError) as exc:
            self._hooks.log.warning("polymarket cancel of %d order(s) failed: %s", len(ids), exc)
            return None

    async def _confirm_cancel(self, order: Order, order_id: str) -> None:
        """Canceled at the venue: wait briefly for the user channel's word (it carries the matched size)
        and otherwise read the order's fills before ending it."""
        heard = self._cancel_heard.setdefault(order.client_order_id, asyncio.Event())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(heard.wait(), 1.0)
        if order.status.is_terminal:
            return
        view = VenueOrder(
            order.client_order_id, VenueOrderId(order_id), order.instrument_id, order.side,
            VenueOrderStatus.CANCELED, order.quantity, order.filled_qty, order.price, self._hooks.clock.now_ns(),
        )  # fmt: skip
        for fill in await self.order_fills(view):
            self._deliver(fill)
        if not order.status.is_terminal:
            self._emit_now(OrderCanceled, order, reason="canceled")

    async def _cancel_refused(self, order: Order, order_id: str, text: str) -> None:
        try:
            view = await self._lookup(order, order_id)
        except PolymarketApiError as exc:
            self._hooks.log.warning("polymarket order %s: lookup failed (%s)", order.client_order_id, exc)
            return
        if view is None:
            self._emit_now(OrderCanceled, order, reason=f"not_found_at_venue: {text}")
        elif view.status.is_open:
            self._emit_now(OrderCancelRejected, order, reason=text)
        else:
            await self._settle(order, view)

    async def _cancel_market(self, token: str) -> None:
        try:
            raw = await self.http.request(
                "DELETE", "/cancel-market-orders", body={"asset_id": token}, auth="l2"
            )
            answer = decode(CancelAnswer, raw, "cancel answer")
        except (PolymarketApiError, VenueError) as exc:
            self._hooks.log.warning("polymarket cancel-all on %s failed: %s", token[:12], exc)
            return
        for oid in answer.canceled:
            cid = self._by_hash.get(oid)
            order = self._orders.get(cid) if cid is not None else None
            if order is not None and not order.status.is_terminal:
                self._spawn(self._confirm_cancel(order, oid), f"confirm cancel {cid}")

    # --- helpers --------------------------------------------------------------------------------
    def _expected_id(self, order: Order, version: int) -> str:
        market, index = self.catalog.market_of(order.instrument_id)
        return self.factory.expected_id(order, market, index, version=version)

    def _reject(self, order: Order, reason: str, message: str) -> None:
        self._hooks.log.info("polymarket order %s rejected: %s %s", order.client_order_id, reason, message)
        self._emit_now(OrderRejected, order, reason=reason, message=message[:300])

    def _emit_now(self, kind: type[OrderEvent], order: Order, **fields: Any) -> None:
        now = self._hooks.clock.now_ns()
        self._emit(
            kind(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_event=now,
                ts_init=now,
                **fields,
            )
        )

    def _status(self, health: VenueHealth, reason: str) -> None:
        self._hooks.on_status(VenueStatus(VENUE, health, reason, self._hooks.clock.now_ns()))

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
        except Exception:  # a task boundary: logged; reconciliation resolves what it left
            self._hooks.log.exception("polymarket: %s failed", name)
