"""Bitget v2 spot on the generic replay server (the v1 recording transcoded, see `public`).

WebSocket ``/v2/ws/public`` (``books`` with checksums, ``trade``; a (re)subscription starts with a
snapshot of the server's book) and ``/v2/ws/private`` (``login``, then ``orders`` and ``fill``); text
``ping`` gets ``pong``; subscribe and unsubscribe are acknowledged (CCXT waits for the unsubscribe ack).
REST: v2 symbols (transcoded), margin currencies (none: documented empty), and signed spot trading under
``/api/v2/spot`` (place, batch, cancel, batch-cancel, cancel-symbol, orderInfo, unfilled and history
orders, fills, assets).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewright.servers._core.accounts import Account, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.exchange import OrderChange, OrderRefused, SimOrder
from tradewright.servers._core.protocol import RateRule, VenueProtocol
from tradewright.servers._core.recording import Recording
from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.text import dumps, num
from tradewright.servers._core.timeline import MarketEvent
from tradewright.servers._core.ws import Session
from tradewright.servers.bitget import private as P
from tradewright.servers.bitget.public import (
    apply_book,
    bad_checksum,
    bitget_events,
    bitget_markets,
    corrupt_frame,
    products,
    snapshot_frame,
    symbols_body,
)

__all__ = ["BitgetProtocol"]

_SPOT = "/api/v2/spot"
_FORCE = {"gtc": "GTC", "post_only": "POST_ONLY", "ioc": "IOC", "fok": "FOK"}


class BitgetProtocol(VenueProtocol):
    name = "bitget"
    ws_paths = ("/v2/ws/public", "/v2/ws/private")
    # documented: place/cancel 10 requests per second per UID (spot)
    rate_rules = (
        RateRule(
            "orders",
            (f"{_SPOT}/trade/place-order", f"{_SPOT}/trade/cancel-order"),
            10,
            1.0,
            frozenset({"POST"}),
        ),
    )

    def __init__(self, recording: Recording) -> None:
        super().__init__()
        self.recording = recording
        self._products = products(recording)
        self._events = bitget_events(recording)
        self._markets = bitget_markets(self._products, self._events)
        self.books: dict[str, StringBook] = {m.symbol: StringBook() for m in self._markets}
        self._topics = {ev.topic for ev in self._events}

    def markets(self) -> Sequence[SimMarket]:
        return self._markets

    def events(self) -> Sequence[MarketEvent]:
        return self._events

    def default_accounts(self) -> list[Account]:
        acc = Account("local-bitget-key", "local-bitget-secret", "local-bitget-passphrase")
        for ccy, amount in {"USDT": 100_000, "EOS": 10_000}.items():
            acc.balance(ccy).total = Decimal(amount)
        return [acc]

    def _now(self) -> int:
        return self.server.now_ms()

    def not_found(self, request: RestRequest) -> RestAnswer:
        return P.error("40404", f"Request URL NOT FOUND: {request.path}", self._now(), 404)

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        return P.error("429", "Too Many Requests", self._now(), 429)

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return P.error("40010", "Request timed out", self._now(), status)

    # --- market data -------------------------------------------------------------------------------
    async def on_event(self, event: MarketEvent) -> None:
        msg = event.payload
        if event.topic.startswith("books:"):
            book = self.books.get(event.symbol or "")
            if book is None:
                return
            apply_book(book, msg)
            await self.server.publish_book(event.topic, dumps(msg), snapshot=msg.get("action") == "snapshot",
                                           corrupt=lambda t: corrupt_frame(t, book), bad_checksum=bad_checksum)  # fmt: skip
        else:
            await self.server.publish(event.topic, dumps(msg))

    async def on_message(self, session: Session, text: str) -> None:
        if text == "ping":
            await session.send("pong")
            return
        try:
            msg = json.loads(text)
            op, args = str(msg["op"]), list(msg.get("args") or [])
        except (json.JSONDecodeError, KeyError, TypeError):
            await session.send(dumps({"event": "error", "code": 30001, "msg": "Illegal request"}))
            return
        await self.server.ack_delay()
        if op == "login":
            try:
                acc = P.check_login(args[0] if args else {}, self.server.exchange.accounts, self._now())
            except P.BitgetAuthError as exc:
                await session.send(dumps({"event": "error", "code": int(exc.code), "msg": exc.msg}))
                return
            session.state["account"] = acc.api_key
            await session.send(dumps({"event": "login", "code": 0}))
            return
        for arg in args:
            channel, inst = str(arg.get("channel", "")), str(arg.get("instId", ""))
            private = channel in ("orders", "fill", "account")
            if private and "account" not in session.state:
                await session.send(
                    dumps({"event": "error", "arg": arg, "code": 30004, "msg": "User not logged in"})
                )
                continue
            topic = f"{channel}:{session.state['account']}" if private else f"{channel}:{inst}"
            if not private and topic not in self._topics:
                await session.send(
                    dumps(
                        {
                            "event": "error",
                            "arg": arg,
                            "code": 30001,
                            "msg": f"instType:SPOT,channel:{channel},instId:{inst} doesn't exist",
                        }
                    )
                )
                continue
            if op == "unsubscribe":
                self.server.hub.remove(session, topic)
                await session.send(dumps({"event": "unsubscribe", "arg": arg}))
                continue
            book = self.books.get(inst) if channel == "books" else None
            sub = self.server.hub.add(session, topic, awaiting_snapshot=book is not None, arg=arg)
            await session.send(dumps({"event": "subscribe", "arg": arg}))
            if not private:
                self.server.market_started()
            if book is not None and book.synced:
                await session.send(snapshot_frame(inst, book))
                sub.awaiting_snapshot = False

    # --- private pushes ----------------------------------------------------------------------------
    def on_order_change(self, change: OrderChange) -> None:
        order = change.order
        now = self.server.exchange.now_ms()
        for sub in self.server.hub.subscribers(f"orders:{order.account}"):
            arg = sub.options.get("arg", {"instType": "SPOT", "channel": "orders", "instId": "default"})
            self.server.post(
                sub.session,
                dumps(
                    {"action": "snapshot", "arg": arg, "data": [P.push_json(order, change.fill)], "ts": now}
                ),
            )
        if change.fill is not None:
            for sub in self.server.hub.subscribers(f"fill:{order.account}"):
                arg = sub.options.get("arg", {"instType": "SPOT", "channel": "fill", "instId": "default"})
                self.server.post(
                    sub.session,
                    dumps({"action": "snapshot", "arg": arg, "data": [P.fill_json(change.fill)], "ts": now}),
                )

    # --- REST --------------------------------------------------------------------------------------
    def routes(self, router: RestRouter) -> None:
        router.add("GET", f"{_SPOT}/public/symbols", self._symbols)
        router.add_recorded(
            "GET",
            "/api/v2/margin/currencies",
            "",
            dumps({"code": "00000", "msg": "success", "requestTime": 0, "data": []}),
        )
        signed = {
            ("POST", f"{_SPOT}/trade/place-order"): self._place,
            ("POST", f"{_SPOT}/trade/batch-orders"): self._batch,
            ("POST", f"{_SPOT}/trade/cancel-order"): self._cancel,
            ("POST", f"{_SPOT}/trade/batch-cancel-order"): self._batch_cancel,
            ("POST", f"{_SPOT}/trade/cancel-symbol-order"): self._cancel_symbol,
            ("GET", f"{_SPOT}/trade/orderInfo"): self._order_info,
            ("GET", f"{_SPOT}/trade/unfilled-orders"): self._unfilled,
            ("GET", f"{_SPOT}/trade/history-orders"): self._history,
            ("GET", f"{_SPOT}/trade/fills"): self._fills,
            ("GET", f"{_SPOT}/account/assets"): self._assets,
        }
        for (method, path), handler in signed.items():
            router.add(method, path, self._signed(handler))

    async def _symbols(self, req: RestRequest) -> RestAnswer:
        return RestAnswer(200, symbols_body(self._products, self._now()))

    def _signed(self, handler: Any) -> Any:
        async def wrapped(req: RestRequest) -> RestAnswer:
            try:
                acc = P.check_rest(req, self.server.exchange.accounts, self._now())
            except P.BitgetAuthError as exc:
                return P.error(exc.code, exc.msg, self._now(), 400)
            try:
                answer: RestAnswer = await handler(req, acc)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
                return P.error("40017", f"Parameter verification failed: {exc}", self._now())
            return answer

        return wrapped

    def _place_one(self, acc: Account, body: dict[str, Any]) -> SimOrder:
        market = body.get("orderType") == "market"
        price = body.get("price")
        return self.server.exchange.place(
            acc.api_key, str(body["symbol"]), str(body["side"]), "market" if market else "limit", Decimal(str(body["size"])),
            None if market or price in (None, "") else Decimal(str(price)),
            tif="IOC" if market else _FORCE.get(str(body.get("force", "gtc")), "GTC"), client_id=str(body.get("clientOid", "")),
            injected=self.server.faults.order_rejection(),
        )  # fmt: skip

    async def _place(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        try:
            order = self._place_one(acc, req.json())
        except OrderRefused as exc:
            return P.refusal(exc, self._now())
        return P.envelope({"orderId": order.order_id, "clientOid": order.client_id}, self._now())

    async def _batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        ok, failed = [], []
        body = req.json()
        for item in body.get("orderList", []):
            try:
                order = self._place_one(acc, {"symbol": body.get("symbol", item.get("symbol"))} | item)
                ok.append({"orderId": order.order_id, "clientOid": order.client_id})
            except OrderRefused as exc:
                answer = json.loads(P.refusal(exc, 0).body)
                failed.append(
                    {
                        "clientOid": item.get("clientOid", ""),
                        "errorMsg": answer["msg"],
                        "errorCode": answer["code"],
                    }
                )
        return P.envelope({"successList": ok, "failureList": failed}, self._now())

    def _lookup(self, acc: Account, body: dict[str, Any]) -> SimOrder | None:
        return self.server.exchange.find(acc.api_key, order_id=str(body.get("orderId", "")) or None,
                                         client_id=str(body.get("clientOid", "")) or None)  # fmt: skip

    async def _cancel(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        body = req.json()
        order = self._lookup(acc, body)
        try:
            if order is None:
                raise OrderRefused("order_not_found", "order does not exist")
            self.server.exchange.cancel(order)
        except OrderRefused as exc:
            return P.refusal(exc, self._now())
        return P.envelope({"orderId": order.order_id, "clientOid": order.client_id}, self._now())

    async def _batch_cancel(self, req: RestRequest, acc: Account) -> RestAnswer:
        ok, failed = [], []
        for item in req.json().get("orderList", []):
            order = self._lookup(acc, item)
            try:
                if order is None:
                    raise OrderRefused("order_not_found", "order does not exist")
                self.server.exchange.cancel(order)
                ok.append({"orderId": order.order_id, "clientOid": order.client_id})
            except OrderRefused as exc:
                failed.append(
                    {
                        "orderId": item.get("orderId", ""),
                        "clientOid": item.get("clientOid", ""),
                        "errorMsg": exc.message,
                    }
                )
        return P.envelope({"successList": ok, "failureList": failed}, self._now())

    async def _cancel_symbol(self, req: RestRequest, acc: Account) -> RestAnswer:
        symbol = str(req.json()["symbol"])
        self.server.exchange.cancel_all(acc.api_key, symbol)
        return P.envelope({"symbol": symbol}, self._now())

    async def _order_info(self, req: RestRequest, acc: Account) -> RestAnswer:
        order = self._lookup(acc, dict(req.params))
        if order is None:
            return P.error("43001", "The order does not exist", self._now())
        return P.envelope([P.order_json(order)], self._now())

    async def _unfilled(self, req: RestRequest, acc: Account) -> RestAnswer:
        orders = self.server.exchange.open_orders(acc.api_key, req.params.get("symbol"))
        return P.envelope([P.order_json(o) for o in reversed(orders)], self._now())

    async def _history(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        orders = [o for o in ex.orders_of(acc.api_key, req.params.get("symbol")) if not o.is_open]
        return P.envelope([P.order_json(o) for o in reversed(orders)], self._now())

    async def _fills(self, req: RestRequest, acc: Account) -> RestAnswer:
        fills = self.server.exchange.fills_of(
            acc.api_key, req.params.get("symbol"), req.params.get("orderId")
        )
        return P.envelope([P.fill_json(f) for f in reversed(fills)], self._now())

    async def _assets(self, req: RestRequest, acc: Account) -> RestAnswer:
        rows = [{"coin": ccy, "available": num(b.free), "frozen": num(b.locked), "locked": "0", "limitAvailable": "0",
                 "uTime": str(self._now())} for ccy, b in sorted(acc.balances.items())]  # fmt: skip
        return P.envelope(rows, self._now())
