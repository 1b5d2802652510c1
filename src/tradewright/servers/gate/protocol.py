"""Gate v4 USDT futures on the generic replay server.

WebSocket ``/v4/ws/usdt``: ``futures.order_book_update`` (diffs with ``U``/``u``, verbatim),
``futures.book_ticker``, ``futures.trades``; private ``futures.orders`` and ``futures.usertrades``
(signed in the subscribe message); ``futures.ping`` answered with ``futures.pong``; every subscribe and
unsubscribe acknowledged with the request's id. REST under ``/api/v4/futures/usdt``: the recorded contract
list (``btc`` settle: none, documented empty), the order book at the server's current update id, and
signed orders (place, batch, amend, cancel, cancel-all, query by id or ``text``), trades, account and
positions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewright.servers._core.accounts import ZERO, Account, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.exchange import OrderChange, OrderRefused, SimOrder
from tradewright.servers._core.protocol import RateRule, VenueProtocol
from tradewright.servers._core.recording import Recording
from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.text import dumps, num
from tradewright.servers._core.timeline import MarketEvent
from tradewright.servers._core.ws import Session
from tradewright.servers.gate import private as P
from tradewright.servers.gate.public import (
    apply_update,
    book_body,
    corrupt_update,
    gate_events,
    gate_markets,
    seed_books,
)

__all__ = ["GateProtocol"]

_BASE = "/api/v4/futures/usdt"
_TIF = {"gtc": "GTC", "poc": "POST_ONLY", "ioc": "IOC", "fok": "FOK"}


class GateProtocol(VenueProtocol):
    name = "gate"
    ws_paths = ("/v4/ws/usdt",)
    # documented: futures order placement 100 requests / 1 s, cancels 200 / 1 s per user
    rate_rules = (
        RateRule(
            "orders", (f"{_BASE}/orders", f"{_BASE}/batch_orders"), 100, 1.0, frozenset({"POST", "PUT"})
        ),
        RateRule("cancels", (f"{_BASE}/orders",), 200, 1.0, frozenset({"DELETE"})),
    )

    def __init__(self, recording: Recording) -> None:
        super().__init__()
        self.recording = recording
        self._events = gate_events(recording)
        self._markets = gate_markets(recording, self._events)
        self.books: dict[str, StringBook] = seed_books(recording, [m.symbol for m in self._markets])

    def markets(self) -> Sequence[SimMarket]:
        return self._markets

    def events(self) -> Sequence[MarketEvent]:
        return self._events

    def default_accounts(self) -> list[Account]:
        acc = Account("local-gate-key", "local-gate-secret", uid="1")
        acc.balance("USDT").total = Decimal(100_000)
        return [acc]

    def not_found(self, request: RestRequest) -> RestAnswer:
        return P.error(404, "NOT_FOUND", f"{request.method} {request.path} not found")

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        return P.error(429, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded")

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return P.error(status, "SERVER_ERROR", "Internal server error")

    # --- market data -------------------------------------------------------------------------------
    async def on_event(self, event: MarketEvent) -> None:
        if event.payload is None:  # a recorded REST snapshot: it only seeds the matching engine
            return
        msg, text = event.payload
        if msg["channel"] == "futures.order_book_update":
            book = self.books.get(msg["result"]["s"])
            if book is not None:
                apply_update(book, msg["result"])
            await self.server.publish_book(
                event.topic, text, corrupt=corrupt_update, bad_checksum=corrupt_update
            )
        else:
            await self.server.publish(event.topic, text)

    async def on_message(self, session: Session, text: str) -> None:
        try:
            msg = json.loads(text)
            channel, ev = str(msg["channel"]), str(msg.get("event", ""))
        except (json.JSONDecodeError, KeyError, TypeError):
            await session.send(
                dumps({"time": int(time.time()), "error": {"code": 1, "message": "invalid request"}})
            )
            return
        now = time.time()
        base = {
            "time": int(now),
            "time_ms": int(now * 1000),
            "id": msg.get("id"),
            "channel": channel,
            "event": ev,
        }
        if channel == "futures.ping":
            await session.send(
                dumps(
                    {
                        "time": int(now),
                        "time_ms": int(now * 1000),
                        "channel": "futures.pong",
                        "event": "",
                        "result": None,
                    }
                )
            )
            return
        await self.server.ack_delay()
        payload = [str(p) for p in msg.get("payload") or []]
        if channel in ("futures.orders", "futures.usertrades", "futures.balances", "futures.positions"):
            try:
                acc = P.check_ws(msg, self.server.exchange.accounts)
            except P.GateAuthError as exc:
                err = {"label": exc.label, "message": exc.message}
                await session.send(
                    dumps(base | {"error": {"code": 4, "message": dumps(err)}, "result": None})
                )
                return
            topic = f"{channel}:{acc.api_key}"
        elif channel == "futures.order_book_update" and payload:
            topic = f"{channel}:{payload[0]}"
            self.server.market_started()
        elif channel in ("futures.book_ticker", "futures.trades", "futures.candlesticks", "futures.tickers"):
            for contract in payload:
                name = contract if "_" in contract else ""
                if name:
                    await self._sub(session, f"{channel}:{name}", ev)
            self.server.market_started()
            await session.send(dumps(base | {"result": {"status": "success"}}))
            return
        else:
            await session.send(
                dumps(base | {"error": {"code": 2, "message": f"unknown channel {channel}"}, "result": None})
            )
            return
        await self._sub(session, topic, ev)
        await session.send(dumps(base | {"result": {"status": "success"}}))

    async def _sub(self, session: Session, topic: str, ev: str) -> None:
        if ev == "unsubscribe":
            self.server.hub.remove(session, topic)
        else:
            self.server.hub.add(session, topic)

    # --- private pushes ----------------------------------------------------------------------------
    def on_order_change(self, change: OrderChange) -> None:
        order = change.order
        market = self.server.exchange.markets[order.symbol]
        now = time.time()
        head = {"time": int(now), "time_ms": int(now * 1000), "event": "update"}
        for sub in self.server.hub.subscribers(f"futures.orders:{order.account}"):
            self.server.post(
                sub.session,
                dumps(head | {"channel": "futures.orders", "result": [P.order_json(order, market)]}),
            )
        if change.fill is not None:
            for sub in self.server.hub.subscribers(f"futures.usertrades:{order.account}"):
                self.server.post(
                    sub.session,
                    dumps(head | {"channel": "futures.usertrades", "result": [P.trade_json(change.fill)]}),
                )

    # --- REST --------------------------------------------------------------------------------------
    def routes(self, router: RestRouter) -> None:
        for r in self.recording.http_matching("/api/v4/futures/usdt/contracts"):
            router.add_recorded("GET", r.path, r.query, r.body)
        router.add_recorded(
            "GET", "/api/v4/futures/btc/contracts", "", "[]"
        )  # documented: no BTC-settled contracts here
        router.add("GET", f"{_BASE}/order_book", self._order_book)
        signed = {
            ("POST", f"{_BASE}/orders"): self._place,
            ("POST", f"{_BASE}/batch_orders"): self._batch,
            ("GET", f"{_BASE}/orders"): self._list,
            ("DELETE", f"{_BASE}/orders"): self._cancel_all,
            ("GET", f"{_BASE}/my_trades"): self._trades,
            ("GET", f"{_BASE}/my_trades_timerange"): self._trades,
            ("GET", f"{_BASE}/accounts"): self._accounts,
            ("GET", f"{_BASE}/positions"): self._positions,
        }
        for (method, path), handler in signed.items():
            router.add(method, path, self._signed(handler))
        for method, handler in (("GET", self._get), ("DELETE", self._cancel), ("PUT", self._amend)):
            router.add_prefix(method, f"{_BASE}/orders/", self._signed(handler))

    def _signed(self, handler: Any) -> Any:
        async def wrapped(req: RestRequest) -> RestAnswer:
            try:
                acc = P.check_rest(req, self.server.exchange.accounts, self.server.now_ms() / 1000)
            except P.GateAuthError as exc:
                return P.error(401, exc.label, exc.message)
            try:
                answer: RestAnswer = await handler(req, acc)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
                return P.error(400, "INVALID_PARAM_VALUE", f"invalid parameter: {exc}")
            return answer

        return wrapped

    async def _order_book(self, req: RestRequest) -> RestAnswer:
        book = self.books.get(req.params.get("contract", ""))
        if book is None:
            return P.error(400, "CONTRACT_NOT_FOUND", "Contract not found")
        limit = int(req.params.get("limit", "10"))
        return RestAnswer(200, book_body(book, limit, time.time()))

    def _place_one(self, acc: Account, body: dict[str, Any]) -> SimOrder:
        size = Decimal(str(body["size"]))
        price = Decimal(str(body.get("price", "0")))
        tif = _TIF.get(str(body.get("tif", "gtc")), "GTC")
        text = str(body.get("text", ""))
        return self.server.exchange.place(
            acc.api_key, str(body["contract"]), "buy" if size > 0 else "sell",
            "market" if price == 0 else "limit", abs(size), None if price == 0 else price,
            tif="IOC" if price == 0 else tif, client_id=text if text.startswith("t-") else "",
            reduce_only=bool(body.get("reduce_only", False)), injected=self.server.faults.order_rejection(),
        )  # fmt: skip

    def _order(self, order: SimOrder) -> dict[str, Any]:
        return P.order_json(order, self.server.exchange.markets[order.symbol])

    async def _place(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        try:
            return RestAnswer.of(self._order(self._place_one(acc, req.json())), 201)
        except OrderRefused as exc:
            return P.refusal(exc)

    async def _batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        out = []
        for body in req.json():
            try:
                out.append(self._order(self._place_one(acc, body)) | {"succeeded": True})
            except OrderRefused as exc:
                answer = json.loads(P.refusal(exc).body)
                out.append(
                    {
                        "succeeded": False,
                        "label": answer["label"],
                        "detail": answer["message"],
                        "text": body.get("text", ""),
                    }
                )
        return RestAnswer.of(out)

    def _find(self, acc: Account, path: str) -> SimOrder | None:
        ident = path.rsplit("/", 1)[-1]
        ex = self.server.exchange
        return (
            ex.find(acc.api_key, client_id=ident)
            if ident.startswith("t-")
            else ex.find(acc.api_key, order_id=ident)
        )

    async def _get(self, req: RestRequest, acc: Account) -> RestAnswer:
        order = self._find(acc, req.path)
        return (
            RestAnswer.of(self._order(order))
            if order is not None
            else P.error(404, "ORDER_NOT_FOUND", "Order not found")
        )

    async def _cancel(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        order = self._find(acc, req.path)
        if order is None:
            return P.error(404, "ORDER_NOT_FOUND", "Order not found")
        try:
            self.server.exchange.cancel(order)
        except OrderRefused as exc:
            return P.refusal(exc)
        return RestAnswer.of(self._order(order))

    async def _amend(self, req: RestRequest, acc: Account) -> RestAnswer:
        order = self._find(acc, req.path)
        if order is None:
            return P.error(404, "ORDER_NOT_FOUND", "Order not found")
        body = req.json()
        size = body.get("size")
        price = body.get("price")
        try:
            self.server.exchange.amend(
                order, Decimal(str(price)) if price not in (None, "") else None,
                abs(Decimal(str(size))) if size not in (None, "") else None,
            )  # fmt: skip
        except OrderRefused as exc:
            return P.refusal(exc)
        return RestAnswer.of(self._order(order))

    async def _list(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        contract = req.params.get("contract")
        orders = ex.open_orders(acc.api_key, contract) if req.params.get("status", "open") == "open" else [
            o for o in ex.orders_of(acc.api_key, contract) if not o.is_open
        ]  # fmt: skip
        return RestAnswer.of([self._order(o) for o in reversed(orders)])

    async def _cancel_all(self, req: RestRequest, acc: Account) -> RestAnswer:
        done = self.server.exchange.cancel_all(acc.api_key, req.params.get("contract"))
        return RestAnswer.of([self._order(o) for o in done])

    async def _trades(self, req: RestRequest, acc: Account) -> RestAnswer:
        fills = self.server.exchange.fills_of(
            acc.api_key, req.params.get("contract"), req.params.get("order")
        )
        return RestAnswer.of([P.trade_json(f) for f in reversed(fills)])

    async def _accounts(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        order_margin = sum(
            ((o.price or ZERO) * (o.qty - o.filled) * ex.markets[o.symbol].instrument.multiplier / acc.leverage
             for o in ex.open_orders(acc.api_key)), ZERO,
        )  # fmt: skip
        position_margin = sum(
            (
                abs(p.qty) * p.entry_px * ex.markets[s].instrument.multiplier / acc.leverage
                for s, p in acc.positions.items()
            ),
            ZERO,
        )
        return RestAnswer.of(P.account_json(acc, "USDT", order_margin, position_margin))

    async def _positions(self, req: RestRequest, acc: Account) -> RestAnswer:
        rows = [
            {"contract": s, "size": num(p.qty), "entry_price": num(p.entry_px), "leverage": str(acc.leverage),
             "mode": "single", "realised_pnl": num(p.realized), "update_time": p.updated_ms // 1000, "value": "0",
             "margin": "0", "unrealised_pnl": "0", "liq_price": "0", "mark_price": "0", "user": 1}
            for s, p in acc.positions.items() if p.qty
        ]  # fmt: skip
        return RestAnswer.of(rows)
