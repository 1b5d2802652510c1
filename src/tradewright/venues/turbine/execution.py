"""Orders on Turbine: the kernel's `ExecutionClient` and the reconciliation reads (`VenueStatePort`).

Turbine has no private stream: fills are found by polling. Every `poll_interval_ms` the client reads
our open orders and the market's recent trades; each trade in which our wallet is the buyer or the
seller is a fill of one of our orders on that market, outcome and side (the earliest with room, at
its price when it rested, within its limit when it took). An order that left the open list has been
filled or cancelled: its own record says which, and any filled size no trade accounted for is booked
at the order's price (logged).

Orders are signed deterministically from the stored order — the nonce from the wallet and the client
order id, the expiry from the order's creation time — so the venue's hash of an order whose request
got no answer can be recomputed and looked up, and the order is never sent twice. A BUY carries a
USDC permit (EIP-2612) for its cost, signed with a locally tracked permit nonce that is re-read from
the venue after any permit failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import VenueOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
)
from tradewright.model.orders import Order
from tradewright.model.prediction import BinaryMarket
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.turbine.client import TurbineApiError, TurbineHttp
from tradewright.venues.turbine.parsing import VENUE, decode, from_micro, to_micro
from tradewright.venues.turbine.schemas import (
    Nonce,
    OrdersAnswer,
    PostAnswer,
    Trade,
)
from tradewright.venues.turbine.schemas import (
    Order as VOrder,
)
from tradewright.venues.turbine.signing import (
    ChainConfig,
    TurbineOrder,
    order_hash,
    sign_order,
    sign_permit,
    wallet_address,
)
from tradewright.venues.turbine.state import StateReads

__all__ = ["CAPABILITIES", "TurbineExecution", "TurbineMarket"]

CAPABILITIES = VenueCapabilities(
    modify=False,
    post_only=False,
    query_by_client_order_id=True,  # through the reproducible order hash
    user_stream=False,
    max_client_order_id_len=64,
    order_types=frozenset({OrderType.LIMIT}),
    time_in_force=frozenset({TimeInForce.GTC}),
    cancel_all=True,
)
_OUTCOMES = ("YES", "NO")


@dataclass(frozen=True, slots=True)
class TurbineMarket:
    """A tradable Turbine market: its binary model and the contract that settles its orders."""

    market: BinaryMarket
    settlement: str
    contract: str = ""


def reject_reason(text: str) -> str:
    t = text.lower()
    if "permit" in t or "nonce" in t:
        return "permit_rejected"
    if "balance" in t or "allowance" in t or "insufficient" in t:
        return "insufficient_balance"
    if "expir" in t:
        return "expired_signature"
    if "price" in t:
        return "invalid_price"
    if "minimum" in t or "$1" in t:
        return "order_size_below_min"
    if "resolved" in t or "closed" in t:
        return "market_closed"
    return "turbine_rejected"


class TurbineExecution(StateReads):
    def __init__(
        self,
        http: TurbineHttp,
        private_key: str,
        chain: ChainConfig,
        hooks: VenueHooks,
        *,
        permit: str = "per_order",
        permit_lifetime_s: int = 3600,
        order_lifetime_s: int = 300,
        poll_interval_s: float = 1.0,
        collateral: str = "USDC",
    ) -> None:
        self.http = http
        self._key = private_key
        self.trader = wallet_address(private_key)
        self.chain = chain
        self._hooks = hooks
        self._emit = hooks.emit
        self._permit = permit
        self._permit_lifetime = permit_lifetime_s
        self._order_lifetime = order_lifetime_s
        self._poll_s = poll_interval_s
        self.collateral = collateral
        self.markets: dict[str, TurbineMarket] = {}
        self._orders: dict[ClientOrderId, Order] = {}
        self._hashes: dict[ClientOrderId, str] = {}
        self._by_hash: dict[str, ClientOrderId] = {}
        self._delivered: dict[ClientOrderId, Decimal] = {}
        self._seen_trades: set[int] = set()
        self._permit_nonce: int | None = None
        self._immediate: dict[ClientOrderId, int] = {}
        self._in_flight: set[ClientOrderId] = set()  # posted, not answered: its trades wait for the answer
        self._nonce_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.polls = 0
        self.polling = asyncio.Event()

    # --- markets --------------------------------------------------------------------------------
    def add_market(self, tm: TurbineMarket) -> None:
        self.markets[tm.market.market_id] = tm

    def _market(self, instrument_id: InstrumentId) -> tuple[TurbineMarket, int]:
        market_id, _, outcome = instrument_id.symbol.rpartition("-")
        tm = self.markets.get(market_id)
        if tm is None or outcome not in _OUTCOMES:
            raise VenueError(f"{instrument_id} is not a Turbine market this connection trades")
        return tm, _OUTCOMES.index(outcome)

    # --- ExecutionClient -----------------------------------------------------------------------------
    @property
    def venue(self) -> Venue:
        return VENUE

    @property
    def capabilities(self) -> VenueCapabilities:
        return CAPABILITIES

    def track(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        with contextlib.suppress(VenueError):
            self._remember(order, order.venue_order_id or self.signed(order)[1])

    def submit(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._spawn(self._place(order), f"place {order.client_order_id}")

    def cancel(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._spawn(self._cancel(order), f"cancel {order.client_order_id}")

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        now = self._hooks.clock.now_ns()
        self._emit(
            OrderModifyRejected(
                client_order_id=order.client_order_id, instrument_id=order.instrument_id,
                reason="Turbine has no amend: cancel and submit anew", ts_event=now, ts_init=now,
            )
        )  # fmt: skip

    def cancel_all(self, instrument_id: InstrumentId) -> None:
        tm, _ = self._market(instrument_id)
        self._spawn(self._cancel_market(tm.market.market_id), f"cancel all {instrument_id}")

    def cancel_unknown(self, order: VenueOrder) -> None:
        tm, _index = self._market(order.instrument_id)
        self._spawn(self._delete(order.venue_order_id, tm.market.market_id, order.side), "cancel unknown")

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

    # --- signing -------------------------------------------------------------------------------------
    def nonce(self, client_order_id: str) -> int:
        digest = hashlib.sha256(f"{self.trader.lower()}:{client_order_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def signed(self, order: Order) -> tuple[TurbineOrder, str, str]:
        """(order as signed, its hash, its signature): a pure function of the stored order."""
        tm, outcome = self._market(order.instrument_id)
        if order.price is None:
            raise VenueError(f"order {order.client_order_id}: Turbine takes limit orders only")
        struct = TurbineOrder(
            market_id=tm.market.market_id,
            trader=self.trader,
            side=0 if order.side is OrderSide.BUY else 1,
            outcome=outcome,
            price=to_micro(order.price, "price"),
            size=to_micro(order.quantity, "size"),
            nonce=self.nonce(order.client_order_id),
            expiration=order.ts_init // 1_000_000_000 + self._order_lifetime,
        )
        if not 1 <= struct.price <= 999_999:
            raise VenueError(f"order {order.client_order_id}: price {order.price} is outside (0, 1)")
        return (
            struct,
            order_hash(struct, self.chain.chain_id, tm.settlement),
            sign_order(struct, self._key, self.chain.chain_id, tm.settlement),
        )

    async def _next_permit_nonce(self) -> int:
        """The next USDC permit nonce: read from the venue when unknown, then counted here (the caller
        holds `_nonce_lock`)."""
        if self._permit_nonce is None:
            raw = await self.http.request(
                "GET",
                f"/api/v1/contracts/nonce/{self.chain.usdc}/{self.trader}",
                params={"chain_id": str(self.chain.chain_id)},
            )
            self._permit_nonce = int(decode(Nonce, raw, "nonce").nonce)
        nonce = self._permit_nonce
        self._permit_nonce += 1
        return nonce

    def _remember(self, order: Order, order_hash_: str) -> None:
        self._hashes[order.client_order_id] = order_hash_
        self._by_hash[order_hash_] = order.client_order_id

    # --- placing and cancelling ------------------------------------------------------------------------
    async def _place(self, order: Order) -> None:
        try:
            struct, hash_, signature = self.signed(order)
        except VenueError as exc:
            self._end(OrderRejected, order, reason="invalid_order", message=str(exc))
            return
        self._remember(order, hash_)
        self._in_flight.add(order.client_order_id)
        try:
            await self._post(order, struct, hash_, signature)
        finally:
            self._in_flight.discard(order.client_order_id)

    async def _post(self, order: Order, struct: TurbineOrder, hash_: str, signature: str) -> None:
        body: dict[str, Any] = {"order": struct.to_json(), "signature": signature}
        needs_permit = self._permit == "per_order" and struct.side == 0
        # Permit nonces are used in order: a BUY carrying one is signed and sent before the next one.
        async with self._nonce_lock if needs_permit else contextlib.nullcontext():
            if needs_permit:
                tm, _ = self._market(order.instrument_id)
                cost = order.price * order.quantity if order.price is not None else Decimal(0)
                fee = tm.market.fees.fee_bound(order.price or Decimal(0), order.quantity)
                value = to_micro(
                    (cost + fee).quantize(Decimal("0.000001"), rounding=ROUND_CEILING), "permit value"
                )
                deadline = self._hooks.clock.now_ns() // 1_000_000_000 + self._permit_lifetime
                permit = sign_permit(
                    self._key, self.chain, tm.settlement, value, await self._next_permit_nonce(), deadline
                )
                body["permitSignature"] = permit.to_json()
            try:
                raw = await self.http.request("POST", "/api/v1/orders", body=body, auth=True)
                answer: PostAnswer = decode(PostAnswer, raw, "order answer")
            except TurbineApiError as exc:
                if exc.outcome_unknown:
                    await self._settle_unknown(order, hash_)
                    return
                reason = reject_reason(exc.error_text)
                if reason == "permit_rejected" or needs_permit:
                    self._permit_nonce = None  # not used: re-read it before the next permit
                self._end(OrderRejected, order, reason=reason, message=exc.error_text[:300])
                return
        if self._hooks.after_send is not None:
            self._hooks.after_send(order)
        venue_hash = answer.orderHash or hash_
        if venue_hash != hash_:
            self._hooks.log.warning(
                "turbine order %s: venue hash %s, ours %s", order.client_order_id, venue_hash, hash_
            )
            self._remember(order, venue_hash)
        self._immediate[order.client_order_id] = answer.matches  # these first fills took liquidity
        self._accept(order, venue_hash)

    async def _settle_unknown(self, order: Order, hash_: str) -> None:
        for pause in (0.25, 0.5, 1.0, 2.0):
            await asyncio.sleep(pause)
            try:
                row = await self._get_order(hash_)
            except TurbineApiError:
                continue
            if row is not None:
                self._accept(order, hash_)
                return
        self._end(
            OrderRejected,
            order,
            reason="not_found_at_venue",
            message=f"order {hash_}: the venue does not know it",
        )

    async def _cancel(self, order: Order) -> None:
        hash_ = self._hashes.get(order.client_order_id) or order.venue_order_id
        if hash_ is None:
            return
        tm, _ = self._market(order.instrument_id)
        try:
            await self._delete(hash_, tm.market.market_id, order.side)
        except TurbineApiError as exc:
            self._hooks.log.info(
                "turbine cancel of %s refused (%s); the next poll settles it", order.client_order_id, exc
            )
        await self.poll_once()  # the order's own record says whether it ended filled or cancelled

    async def _delete(self, hash_: str, market_id: str, side: OrderSide) -> None:
        await self.http.request(
            "DELETE",
            f"/api/v1/orders/{hash_}",
            params={"marketId": market_id, "side": side.value.lower()},
            auth=True,
        )

    async def _cancel_market(self, market_id: str) -> None:
        with contextlib.suppress(TurbineApiError):
            await self.http.request("DELETE", "/api/v1/orders", params={"marketId": market_id}, auth=True)
        await self.poll_once()

    # --- polling: fills and ends -------------------------------------------------------------------------
    async def run_user_stream(self, on_reconnect: Callable[[], None] | None = None) -> None:
        failed = False
        while True:
            try:
                await self.poll_once()
                self.polling.set()
                if failed and on_reconnect is not None:
                    on_reconnect()  # the venue answered again after a gap: reconcile
                failed = False
            except (TurbineApiError, VenueError) as exc:
                self._hooks.log.warning("turbine poll failed: %s", exc)
                failed = True
                self.polling.clear()
            await asyncio.sleep(self._poll_s)

    async def wait_user_stream(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self.polling.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def poll_once(self) -> None:
        """Read open orders and recent trades; deliver new fills, then the ends of orders that left."""
        self.polls += 1
        working = {cid: o for cid, o in self._orders.items() if o.status.is_open and cid in self._hashes}
        if not working:
            return
        raw = await self.http.request(
            "GET", "/api/v1/orders", params={"trader": self.trader, "status": "open"}, auth=True
        )
        open_now = {o.orderHash for o in decode(OrdersAnswer, raw, "orders").orders}
        markets = {self._market(o.instrument_id)[0].market.market_id for o in working.values()}
        for market_id in markets:
            trades = await self.http.request("GET", f"/api/v1/trades/{market_id}", params={"limit": "100"})
            for trade in sorted((decode(Trade, t, "trade") for t in trades or []), key=lambda t: t.id):
                self._on_trade(trade)
        for cid, order in working.items():
            hash_ = self._hashes[cid]
            if hash_ in open_now or not order.status.is_open:
                continue
            row = await self._get_order(hash_)
            if row is not None:
                self._finish(order, row)

    def _on_trade(self, trade: Trade) -> None:
        if trade.id in self._seen_trades:
            return
        me = self.trader.lower()
        buyer, seller = trade.buyer.lower() == me, trade.seller.lower() == me
        if buyer == seller:
            self._seen_trades.add(trade.id)
            return
        side = OrderSide.BUY if buyer else OrderSide.SELL
        price = from_micro(trade.price)
        size = from_micro(trade.size)
        candidates = [
            o for o in self._orders.values()
            if o.side is side and o.price is not None and o.client_order_id in self._hashes
            and o.client_order_id not in self._in_flight
            and self._market(o.instrument_id)[0].market.market_id == trade.marketId
            and self._market(o.instrument_id)[1] == trade.outcome
            and self._delivered.get(o.client_order_id, Decimal(0)) + size <= o.quantity
            and (o.price >= price if side is OrderSide.BUY else o.price <= price)
        ]  # fmt: skip
        if not candidates:
            return  # not ours (yet): an order placed by another session; reconciliation sees it
        self._seen_trades.add(trade.id)
        # An order's first fills are the matches the venue made when it arrived (its POST answer counts
        # them): those took liquidity; later ones were made against it while it rested.
        takers = [o for o in candidates if self._immediate.get(o.client_order_id, 0) > 0]
        at_price = [o for o in candidates if o.price == price]
        order = min(takers or at_price or candidates, key=lambda o: o.ts_init)
        maker = self._immediate.get(order.client_order_id, 0) == 0
        if not maker:
            self._immediate[order.client_order_id] -= 1
        self._fill(order, TradeId(str(trade.id)), price, size, maker, trade.timestamp * 1_000_000_000)

    def _fill(
        self, order: Order, trade_id: TradeId, price: Decimal, size: Decimal, maker: bool, ts_ns: int
    ) -> None:
        tm, _ = self._market(order.instrument_id)
        self._delivered[order.client_order_id] = self._delivered.get(order.client_order_id, Decimal(0)) + size
        self._emit(
            OrderFilled(
                client_order_id=order.client_order_id, instrument_id=order.instrument_id,
                venue_order_id=VenueOrderId(self._hashes[order.client_order_id]), trade_id=trade_id, side=order.side,
                last_px=price, last_qty=size, liquidity=LiquiditySide.MAKER if maker else LiquiditySide.TAKER,
                fee=tm.market.fees.fee(price, size, taker=not maker), fee_currency=self.collateral,
                ts_event=ts_ns, ts_init=self._hooks.clock.now_ns(),
            )
        )  # fmt: skip

    def _finish(self, order: Order, row: VOrder) -> None:
        filled = from_micro(row.filledSize)
        missing = filled - self._delivered.get(order.client_order_id, Decimal(0))
        if missing > 0 and order.price is not None:
            self._hooks.log.warning(
                "turbine order %s: %s filled without a trade found; booked at the order's price",
                order.client_order_id,
                missing,
            )
            self._fill(
                order,
                TradeId(f"{row.orderHash}:rest"),
                order.price,
                missing,
                True,
                self._hooks.clock.now_ns(),
            )
        if row.status.lower() in ("cancelled", "canceled", "expired") and filled < order.quantity:
            self._end(OrderCanceled, order, reason=row.status.lower())

    async def _get_order(self, hash_: str) -> VOrder | None:
        try:
            raw = await self.http.request("GET", f"/api/v1/orders/{hash_}", auth=True)
        except TurbineApiError as exc:
            if exc.status == 404:
                return None
            raise
        return None if not raw else decode(VOrder, raw, "order")  # type: ignore[no-any-return]

    # --- helpers -------------------------------------------------------------------------------------------
    def _accept(self, order: Order, hash_: str) -> None:
        if order.venue_order_id is None:
            now = self._hooks.clock.now_ns()
            self._emit(
                OrderAccepted(
                    client_order_id=order.client_order_id, instrument_id=order.instrument_id,
                    venue_order_id=VenueOrderId(hash_), ts_event=now, ts_init=now,
                )
            )  # fmt: skip

    def _end(self, kind: type[OrderEvent], order: Order, **fields: Any) -> None:
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

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # a task boundary: logged; the next poll or reconciliation settles it
            self._hooks.log.exception("turbine: %s failed", name)
