"""OKX v5 on the generic replay server: the recorded market verbatim, a stateful private side.

WebSocket: ``/ws/v5/public`` (``books``, ``trades``, ``tickers``), ``/ws/v5/private`` (``login``, then
``orders``, ``account``, ``positions``) and ``/ws/v5/business``; ops ``subscribe``/``unsubscribe`` are
acknowledged (ccxt waits for the unsubscribe ack before it resubscribes), text ``ping`` gets ``pong``.
REST: the recorded instrument lists, server time, trade fees, and under ``/api/v5/trade`` and
``/api/v5/account`` orders (single and batch place/cancel/amend, query, pending, history, fills),
balances and positions, all signed and checked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewright.servers._core.accounts import Account, MarketKind, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.exchange import OrderChange, OrderRefused, SimOrder
from tradewright.servers._core.protocol import RateRule, VenueProtocol
from tradewright.servers._core.recording import Recording
from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.text import dumps
from tradewright.servers._core.timeline import MarketEvent
from tradewright.servers._core.ws import Session
from tradewright.servers.okx import private as P
from tradewright.servers.okx.public import (
    BOOK_CHANNELS,
    apply_book,
    bad_checksum,
    corrupt_frame,
    okx_events,
    okx_markets,
    snapshot_frame,
)

__all__ = ["OkxProtocol"]

_ORD_TYPES = {"limit": ("limit", "GTC"), "post_only": ("limit", "POST_ONLY"), "ioc": ("limit", "IOC"),
              "fok": ("limit", "FOK"), "market": ("market", "IOC")}  # fmt: skip


class OkxProtocol(VenueProtocol):
    name = "okx"
    ws_paths = ("/ws/v5/public", "/ws/v5/private", "/ws/v5/business")
    # documented per-key limits (https://www.okx.com/docs-v5/en/#order-book-trading-trade)
    rate_rules = (
        RateRule("place", ("/api/v5/trade/order", "/api/v5/trade/batch-orders"), 60, 2.0, frozenset({"POST"})),
        RateRule("cancel", ("/api/v5/trade/cancel-order", "/api/v5/trade/cancel-batch-orders"), 60, 2.0, frozenset({"POST"})),
        RateRule("amend", ("/api/v5/trade/amend-order", "/api/v5/trade/amend-batch-orders"), 60, 2.0, frozenset({"POST"})),
        RateRule("orders", ("/api/v5/trade/order", "/api/v5/trade/orders-pending"), 60, 2.0, frozenset({"GET"})),
        RateRule("account", ("/api/v5/account/balance", "/api/v5/account/positions"), 10, 2.0, frozenset({"GET"})),
    )  # fmt: skip

    def __init__(self, recording: Recording) -> None:
        super().__init__()
        self.recording = recording
        self._events = okx_events(recording)
        self._markets = okx_markets(recording, self._events)
        self.books: dict[str, StringBook] = {m.symbol: StringBook() for m in self._markets}
        self._topics = {ev.topic for ev in self._events}

    def markets(self) -> Sequence[SimMarket]:
        return self._markets

    def events(self) -> Sequence[MarketEvent]:
        return self._events

    def default_accounts(self) -> list[Account]:
        acc = Account("local-okx-key", "local-okx-secret", "local-okx-passphrase")
        for ccy, amount in self.default_balances().items():
            acc.balance(ccy).total = amount
        return [acc]

    def default_balances(self) -> dict[str, Decimal]:
        return {"USDT": Decimal(100_000), "BTC": Decimal(2), "USD": Decimal(100_000)}

    # --- errors ------------------------------------------------------------------------------------
    def not_found(self, request: RestRequest) -> RestAnswer:
        return P.error("404", f"Not Found: {request.method} {request.path}", 404)

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        # documented: HTTP 429 with code 50011
        return P.error(
            "50011",
            "Rate limit reached. Please refer to API documentation and throttle requests accordingly.",
            429,
        )

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return P.error("50001", "Service temporarily unavailable. Please try again later.", status)

    # --- market data -------------------------------------------------------------------------------
    async def on_event(self, event: MarketEvent) -> None:
        msg, text = event.payload
        channel = msg["arg"].get("channel", "")
        if channel in BOOK_CHANNELS:
            book = self.books.get(msg["arg"]["instId"])
            if book is None:
                return
            apply_book(book, msg)
            await self.server.publish_book(
                event.topic,
                text,
                snapshot=msg.get("action") == "snapshot",
                corrupt=lambda t: corrupt_frame(t, book),
                bad_checksum=bad_checksum,
            )
        else:
            await self.server.publish(event.topic, text)

    # --- WebSocket -----------------------------------------------------------------------------------
    async def on_message(self, session: Session, text: str) -> None:
        if text == "ping":
            await session.send("pong")
            return
        try:
            msg = json.loads(text)
            op, args = msg["op"], msg.get("args", [])
        except (json.JSONDecodeError, KeyError, TypeError):
            await session.send(
                dumps({"event": "error", "code": "60012", "msg": f"Invalid request: {text[:200]}"})
            )
            return
        await self.server.ack_delay()
        if op == "login":
            await self._login(session, args)
        elif op == "subscribe":
            for arg in args:
                await self._subscribe(session, arg)
        elif op == "unsubscribe":
            for arg in args:
                self.server.hub.remove(session, self._topic(session, arg))
                await session.send(dumps({"event": "unsubscribe", "arg": arg, "connId": str(session.id)}))
        else:
            await session.send(
                dumps({"event": "error", "code": "60012", "msg": f"Invalid request: {text[:200]}"})
            )

    async def _login(self, session: Session, args: list[dict[str, Any]]) -> None:
        try:
            acc = P.check_login(args[0] if args else {}, self.server.exchange.accounts, self.server.now_ms())
        except P.OkxAuthError as exc:
            await session.send(
                dumps({"event": "error", "code": exc.code, "msg": exc.msg, "connId": str(session.id)})
            )
            return
        session.state["account"] = acc.api_key
        await session.send(dumps({"event": "login", "code": "0", "msg": "", "connId": str(session.id)}))

    def _topic(self, session: Session, arg: dict[str, Any]) -> str:
        channel = str(arg.get("channel", ""))
        if channel in ("orders", "account", "positions", "balance_and_position"):
            return f"{channel}:{session.state.get('account', '')}"
        return f"{channel}:{arg.get('instId', '')}"

    async def _subscribe(self, session: Session, arg: dict[str, Any]) -> None:
        channel, inst = str(arg.get("channel", "")), str(arg.get("instId", ""))
        private = channel in ("orders", "account", "positions", "balance_and_position")
        if private and "account" not in session.state:
            await session.send(
                dumps({"event": "error", "code": "60011", "msg": "Please log in", "connId": str(session.id)})
            )
            return
        known = (
            private
            or f"{channel}:{inst}" in self._topics
            or (channel in BOOK_CHANNELS and inst in self.books)
        )
        if not known:
            await session.send(dumps({
                "event": "error", "code": "60018",
                "msg": f"Wrong URL or channel:{channel},instId:{inst} doesn't exist", "connId": str(session.id),
            }))  # fmt: skip
            return
        topic = self._topic(session, arg)
        book = self.books.get(inst) if channel in BOOK_CHANNELS else None
        sub = self.server.hub.add(session, topic, awaiting_snapshot=book is not None, arg=arg)
        await session.send(dumps({"event": "subscribe", "arg": arg, "connId": str(session.id)}))
        if not private:
            self.server.market_started()
        if book is not None and book.synced:
            await session.send(snapshot_frame(channel, inst, book))
            sub.awaiting_snapshot = False

    # --- private pushes ----------------------------------------------------------------------------
    def on_order_change(self, change: OrderChange) -> None:
        order = change.order
        market = self.server.exchange.markets[order.symbol]
        payload = P.order_json(order, market, change.fill)
        for sub in self.server.hub.subscribers(f"orders:{order.account}"):
            arg = dict(sub.options.get("arg", {"channel": "orders", "instType": "ANY"})) | {"uid": "1"}
            self.server.post(sub.session, dumps({"arg": arg, "data": [payload]}))
        if change.fill is not None:
            acc = self.server.exchange.accounts[order.account]
            now = self.server.exchange.now_ms()
            for sub in self.server.hub.subscribers(f"account:{order.account}"):
                self.server.post(
                    sub.session,
                    dumps({"arg": {"channel": "account", "uid": "1"}, "data": [P.balance_details(acc, now)]}),
                )

    # --- REST ----------------------------------------------------------------------------------------
    def routes(self, router: RestRouter) -> None:
        for r in self.recording.http:
            router.add_recorded("GET", r.path, r.query, r.body)
        router.add("GET", "/api/v5/public/time", self._time)
        signed = {
            ("GET", "/api/v5/account/trade-fee"): self._trade_fee,
            ("POST", "/api/v5/trade/order"): self._place_one,
            ("POST", "/api/v5/trade/batch-orders"): self._place_batch,
            ("POST", "/api/v5/trade/cancel-order"): self._cancel_one,
            ("POST", "/api/v5/trade/cancel-batch-orders"): self._cancel_batch,
            ("POST", "/api/v5/trade/amend-order"): self._amend_one,
            ("POST", "/api/v5/trade/amend-batch-orders"): self._amend_batch,
            ("GET", "/api/v5/trade/order"): self._get_order,
            ("GET", "/api/v5/trade/orders-pending"): self._pending,
            ("GET", "/api/v5/trade/orders-history"): self._history,
            ("GET", "/api/v5/trade/fills"): self._fills,
            ("GET", "/api/v5/trade/fills-history"): self._fills,
            ("GET", "/api/v5/account/balance"): self._balance,
            ("GET", "/api/v5/account/positions"): self._positions,
        }
        for (method, path), handler in signed.items():
            router.add(method, path, self._signed(handler))

    def _signed(self, handler: Any) -> Any:
        async def wrapped(req: RestRequest) -> RestAnswer:
            try:
                acc = P.check_rest_signature(req, self.server.exchange.accounts, self.server.now_ms())
            except P.OkxAuthError as exc:
                return P.error(exc.code, exc.msg, 401)
            try:
                answer: RestAnswer = await handler(req, acc)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
                return P.error("50014", f"Parameter error: {exc}", 400)
            return answer

        return wrapped

    async def _time(self, req: RestRequest) -> RestAnswer:
        return RestAnswer.of({"code": "0", "msg": "", "data": [{"ts": str(self.server.now_ms())}]})

    async def _trade_fee(self, req: RestRequest, acc: Account) -> RestAnswer:
        inst_type = req.params.get("instType", "SPOT")
        market = next((m for m in self._markets if m.symbol == req.params.get("instId")), None)
        inst = market.instrument if market is not None else self._markets[0].instrument
        return RestAnswer.of({"code": "0", "msg": "", "data": [{
            "category": "1", "delivery": "", "exercise": "", "instType": inst_type, "level": "Lv1",
            "maker": str(-inst.maker_fee), "taker": str(-inst.taker_fee), "ts": str(self.server.now_ms()), "uly": "",
        }]})  # fmt: skip

    # orders
    def _place(self, acc: Account, body: dict[str, Any]) -> dict[str, Any]:
        cl = str(body.get("clOrdId", ""))
        try:
            order_type, tif = _ORD_TYPES[str(body.get("ordType", ""))]
            px = body.get("px")
            order = self.server.exchange.place(
                acc.api_key, str(body["instId"]), str(body["side"]), order_type, Decimal(str(body["sz"])),
                Decimal(str(px)) if px not in (None, "") and order_type == "limit" else None,
                tif=tif, client_id=cl, reduce_only=str(body.get("reduceOnly", "false")).lower() == "true",
                injected=self.server.faults.order_rejection(),
            )  # fmt: skip
        except KeyError as exc:
            return {"clOrdId": cl, "ordId": "", "tag": "", "sCode": "51000", "sMsg": f"Parameter {exc} error"}
        except OrderRefused as exc:
            code, msg = P.refusal_code(exc, "place")
            return {"clOrdId": cl, "ordId": "", "tag": "", "sCode": code, "sMsg": msg}
        return {
            "clOrdId": cl,
            "ordId": order.order_id,
            "tag": "",
            "ts": str(order.created_ms),
            "sCode": "0",
            "sMsg": "Order placed",
        }

    async def _place_one(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        return P.op_result([self._place(acc, req.json())], self.server.now_ms())

    async def _place_batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        items = req.json()
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            return P.error("51000", "Parameter error: 1 to 20 orders a batch")
        return P.op_result([self._place(acc, it) for it in items], self.server.now_ms())

    def _lookup(self, acc: Account, body: dict[str, Any]) -> SimOrder | None:
        order = self.server.exchange.find(acc.api_key, order_id=str(body.get("ordId", "")) or None,
                                          client_id=str(body.get("clOrdId", "")) or None)  # fmt: skip
        if order is not None and body.get("instId") and order.symbol != body["instId"]:
            return None
        return order

    def _cancel(self, acc: Account, body: dict[str, Any]) -> dict[str, Any]:
        order = self._lookup(acc, body)
        base = {"clOrdId": str(body.get("clOrdId", "")), "ordId": str(body.get("ordId", ""))}
        try:
            if order is None:
                raise OrderRefused("order_not_found", "order does not exist")
            self.server.exchange.cancel(order)
        except OrderRefused as exc:
            code, msg = P.refusal_code(exc, "cancel")
            return base | {"sCode": code, "sMsg": msg}
        return {"clOrdId": order.client_id, "ordId": order.order_id, "sCode": "0", "sMsg": ""}

    async def _cancel_one(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        return P.op_result([self._cancel(acc, req.json())], self.server.now_ms())

    async def _cancel_batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        items = req.json()
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            return P.error("51000", "Parameter error: 1 to 20 orders a batch")
        return P.op_result([self._cancel(acc, it) for it in items], self.server.now_ms())

    def _amend(self, acc: Account, body: dict[str, Any]) -> dict[str, Any]:
        order = self._lookup(acc, body)
        base = {
            "clOrdId": str(body.get("clOrdId", "")),
            "ordId": str(body.get("ordId", "")),
            "reqId": str(body.get("reqId", "")),
        }
        try:
            if order is None:
                raise OrderRefused("order_not_found", "order does not exist")
            new_px, new_sz = body.get("newPx"), body.get("newSz")
            self.server.exchange.amend(
                order, Decimal(str(new_px)) if new_px not in (None, "") else None,
                Decimal(str(new_sz)) if new_sz not in (None, "") else None,
            )  # fmt: skip
        except OrderRefused as exc:
            code, msg = P.refusal_code(exc, "amend")
            return base | {"sCode": code, "sMsg": msg}
        return base | {"clOrdId": order.client_id, "ordId": order.order_id, "sCode": "0", "sMsg": ""}

    async def _amend_one(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        return P.op_result([self._amend(acc, req.json())], self.server.now_ms())

    async def _amend_batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        items = req.json()
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            return P.error("51000", "Parameter error: 1 to 20 orders a batch")
        return P.op_result([self._amend(acc, it) for it in items], self.server.now_ms())

    def _ok(self, data: list[dict[str, Any]]) -> RestAnswer:
        return RestAnswer.of({"code": "0", "msg": "", "data": data})

    async def _get_order(self, req: RestRequest, acc: Account) -> RestAnswer:
        order = self._lookup(acc, dict(req.params))
        if order is None:
            return P.error("51603", "Order does not exist")
        return self._ok([P.order_json(order, self.server.exchange.markets[order.symbol])])

    def _orders(self, acc: Account, req: RestRequest, open_: bool) -> list[dict[str, Any]]:
        inst = req.params.get("instId")
        ex = self.server.exchange
        orders = (
            ex.open_orders(acc.api_key, inst)
            if open_
            else [o for o in ex.orders_of(acc.api_key, inst) if not o.is_open]
        )
        return [P.order_json(o, ex.markets[o.symbol]) for o in reversed(orders)]

    async def _pending(self, req: RestRequest, acc: Account) -> RestAnswer:
        return self._ok(self._orders(acc, req, True))

    async def _history(self, req: RestRequest, acc: Account) -> RestAnswer:
        return self._ok(self._orders(acc, req, False))

    async def _fills(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        fills = ex.fills_of(acc.api_key, req.params.get("instId"), req.params.get("ordId"))
        return self._ok([P.fill_json(f, ex.markets[f.symbol]) for f in reversed(fills)])

    async def _balance(self, req: RestRequest, acc: Account) -> RestAnswer:
        return self._ok([P.balance_details(acc, self.server.now_ms())])

    async def _positions(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        rows = []
        for symbol, pos in acc.positions.items():
            market = ex.markets[symbol]
            if market.kind is MarketKind.SPOT or not pos.qty:
                continue
            book = self.books.get(symbol)
            bid, ask = (book.best(1), book.best(-1)) if book is not None else (None, None)
            mark = (bid + ask) / 2 if bid is not None and ask is not None else None
            rows.append(P.position_json(symbol, acc, market, mark))
        return self._ok(rows)
