"""Bybit v5 (linear) on the generic replay server.

WebSocket ``/v5/public/linear`` (``orderbook.500.<symbol>`` snapshot + deltas, ``publicTrade``; a
(re)subscription starts with a snapshot of the server's book at its current ``u``), ``/v5/private``
(``auth``, then ``order``, ``execution``, ``wallet``, ``position``) and ``/v5/trade``; ``ping`` ops are
answered, subscribe/unsubscribe acknowledged. REST: the instrument list (fixture + XRPUSDT), server
time, and signed orders under ``/v5/order`` (create, amend, cancel, batch, cancel-all, realtime,
history), executions, wallet balance and positions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tradewright.servers._core.accounts import Account, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.exchange import OrderChange, OrderRefused, SimOrder
from tradewright.servers._core.protocol import RateRule, VenueProtocol
from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.text import dumps, num
from tradewright.servers._core.timeline import MarketEvent
from tradewright.servers._core.ws import Session
from tradewright.servers.bybit import private as P
from tradewright.servers.bybit.public import (
    apply_frame,
    bybit_events,
    bybit_markets,
    corrupt_frame,
    load_sources,
    snapshot_frame,
)

__all__ = ["BybitProtocol"]


def _on_topic(text: str, recorded: str, wire: str) -> str:
    """A recorded frame under the topic the client subscribed (the same stream)."""
    return text if wire == recorded else text.replace(f'"topic":"{recorded}"', f'"topic":"{wire}"', 1)


_TIF = {"GTC": "GTC", "PostOnly": "POST_ONLY", "IOC": "IOC", "FOK": "FOK"}


class BybitProtocol(VenueProtocol):
    name = "bybit"
    ws_paths = ("/v5/public/linear", "/v5/private", "/v5/trade")
    # documented per-UID limits: create/amend/cancel 10 requests per second per symbol (linear)
    rate_rules = (
        RateRule(
            "orders",
            ("/v5/order/create", "/v5/order/amend", "/v5/order/cancel"),
            10,
            1.0,
            frozenset({"POST"}),
        ),
    )

    def __init__(self, frames_path: Path | str, instruments_path: Path | str) -> None:
        super().__init__()
        frames, self.instruments = load_sources(frames_path, instruments_path)
        self._events = bybit_events(frames)
        self._markets = bybit_markets(self.instruments, self._events)
        self.books: dict[str, StringBook] = {m.symbol: StringBook() for m in self._markets}
        self._topics = {ev.topic for ev in self._events}

    def markets(self) -> Sequence[SimMarket]:
        return self._markets

    def events(self) -> Sequence[MarketEvent]:
        return self._events

    def default_accounts(self) -> list[Account]:
        acc = Account("local-bybit-key", "local-bybit-secret")
        acc.balance("USDT").total = Decimal(100_000)
        return [acc]

    def _now(self) -> int:
        return self.server.now_ms()

    def not_found(self, request: RestRequest) -> RestAnswer:
        return RestAnswer.of({"retCode": 10404, "retMsg": f"{request.path} not found", "result": {}}, 404)

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        return P.envelope({}, self._now(), "10006", "Too many visits!")  # documented: HTTP 200, retCode 10006

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return RestAnswer.of({"retCode": 10016, "retMsg": "Internal server error.", "result": {}}, status)

    # --- market data -------------------------------------------------------------------------------
    async def on_event(self, event: MarketEvent) -> None:
        msg, text = event.payload
        if event.topic.startswith("orderbook."):
            book = self.books.get(str(msg["data"]["s"]))
            if book is not None:
                apply_frame(book, msg)
            await self.server.publish_book(
                event.topic,
                lambda sub: _on_topic(text, event.topic, sub.options.get("wire", event.topic)),
                snapshot=msg.get("type") == "snapshot",
                corrupt=corrupt_frame,
                bad_checksum=corrupt_frame,
            )
        else:
            await self.server.publish(event.topic, text)

    async def on_message(self, session: Session, text: str) -> None:
        try:
            msg = json.loads(text)
            op = str(msg["op"])
        except (json.JSONDecodeError, KeyError, TypeError):
            await session.send(dumps({"success": False, "ret_msg": "Invalid request", "op": ""}))
            return
        base = {"conn_id": str(session.id), "req_id": msg.get("req_id", "")}
        if op == "ping":
            await session.send(dumps(base | {"success": True, "ret_msg": "pong", "op": "ping"}))
            return
        await self.server.ack_delay()
        if op == "auth":
            try:
                acc = P.check_auth(list(msg.get("args") or []), self.server.exchange.accounts, self._now())
            except P.BybitAuthError as exc:
                await session.send(
                    dumps(
                        {
                            "op": "auth",
                            "success": False,
                            "retCode": int(exc.code),
                            "retMsg": exc.msg,
                            "connId": str(session.id),
                        }
                    )
                )
                return
            session.state["account"] = acc.api_key
            await session.send(
                dumps({"op": "auth", "success": True, "retCode": 0, "retMsg": "", "connId": str(session.id)})
            )
            return
        if op not in ("subscribe", "unsubscribe"):
            await session.send(dumps(base | {"success": False, "ret_msg": f"unknown op {op}", "op": op}))
            return
        for topic in [str(t) for t in msg.get("args") or []]:
            if not await self._topic_op(session, op, topic, base):
                return
        await session.send(dumps(base | {"success": True, "ret_msg": "", "op": op}))

    async def _topic_op(self, session: Session, op: str, topic: str, base: dict[str, Any]) -> bool:
        private = topic in ("order", "execution", "wallet", "position")
        if private and "account" not in session.state:
            await session.send(
                dumps(base | {"success": False, "ret_msg": "Request not authorized", "op": op})
            )
            return False
        wire = topic
        if topic.startswith("orderbook.1000."):
            # the recording is Bybit's depth-500 stream: a depth-1000 subscription gets it (500 levels)
            topic = topic.replace("orderbook.1000.", "orderbook.500.", 1)
        if not private and topic not in self._topics:
            await session.send(
                dumps(base | {"success": False, "ret_msg": f"Invalid topic: {wire}", "op": op})
            )
            return False
        key = f"{topic}:{session.state['account']}" if private else topic
        if op == "unsubscribe":
            self.server.hub.remove(session, key)
            return True
        book = self.books.get(topic.split(".")[-1]) if topic.startswith("orderbook.") else None
        sub = self.server.hub.add(session, key, awaiting_snapshot=book is not None, wire=wire)
        if not private:
            self.server.market_started()
        if book is not None and book.synced:
            self.server.post(session, snapshot_frame(wire, topic.split(".")[-1], book))
            sub.awaiting_snapshot = False
        return True

    # --- private pushes ----------------------------------------------------------------------------
    def on_order_change(self, change: OrderChange) -> None:
        order = change.order
        now = self.server.exchange.now_ms()
        for sub in self.server.hub.subscribers(f"order:{order.account}"):
            self.server.post(
                sub.session,
                dumps(
                    {"topic": "order", "id": f"o{now}", "creationTime": now, "data": [P.order_json(order)]}
                ),
            )
        if change.fill is not None:
            for sub in self.server.hub.subscribers(f"execution:{order.account}"):
                self.server.post(sub.session, dumps({"topic": "execution", "id": f"e{now}", "creationTime": now,
                                                     "data": [P.execution_json(change.fill, order)]}))  # fmt: skip

    # --- REST --------------------------------------------------------------------------------------
    def routes(self, router: RestRouter) -> None:
        body = dumps(self.instruments)
        router.add("GET", "/v5/market/instruments-info", self._instruments(body))
        router.add("GET", "/v5/market/time", self._time)
        signed = {
            ("POST", "/v5/order/create"): self._create,
            ("POST", "/v5/order/create-batch"): self._create_batch,
            ("POST", "/v5/order/amend"): self._amend,
            ("POST", "/v5/order/cancel"): self._cancel,
            ("POST", "/v5/order/cancel-batch"): self._cancel_batch,
            ("POST", "/v5/order/cancel-all"): self._cancel_all,
            ("GET", "/v5/order/realtime"): self._realtime,
            ("GET", "/v5/order/history"): self._history,
            ("GET", "/v5/execution/list"): self._executions,
            ("GET", "/v5/account/wallet-balance"): self._wallet,
            ("GET", "/v5/position/list"): self._positions,
        }
        for (method, path), handler in signed.items():
            router.add(method, path, self._signed(handler))

    def _instruments(self, body: str) -> Any:
        async def handler(req: RestRequest) -> RestAnswer:
            if req.params.get("category") != "linear":
                return P.envelope({"category": req.params.get("category", ""), "list": []}, self._now())
            return RestAnswer(200, body)

        return handler

    async def _time(self, req: RestRequest) -> RestAnswer:
        now = self._now()
        return P.envelope({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}, now)

    def _signed(self, handler: Any) -> Any:
        async def wrapped(req: RestRequest) -> RestAnswer:
            try:
                acc = P.check_rest(req, self.server.exchange.accounts, self._now())
            except P.BybitAuthError as exc:
                return RestAnswer.of(
                    {
                        "retCode": int(exc.code),
                        "retMsg": exc.msg,
                        "result": {},
                        "retExtInfo": {},
                        "time": self._now(),
                    },
                    401,
                )
            try:
                answer: RestAnswer = await handler(req, acc)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
                return P.envelope({}, self._now(), "10001", f"params error: {exc}")
            return answer

        return wrapped

    def _place(self, acc: Account, body: dict[str, Any]) -> SimOrder:
        market = body.get("orderType") == "Market"
        price = body.get("price")
        return self.server.exchange.place(
            acc.api_key, str(body["symbol"]), "buy" if body["side"] == "Buy" else "sell", "market" if market else "limit",
            Decimal(str(body["qty"])), None if market or price in (None, "") else Decimal(str(price)),
            tif="IOC" if market else _TIF.get(str(body.get("timeInForce", "GTC")), "GTC"),
            client_id=str(body.get("orderLinkId", "")), reduce_only=bool(body.get("reduceOnly", False)),
            injected=self.server.faults.order_rejection(),
        )  # fmt: skip

    def _lookup(self, acc: Account, body: dict[str, Any]) -> SimOrder | None:
        return self.server.exchange.find(acc.api_key, order_id=str(body.get("orderId", "")) or None,
                                         client_id=str(body.get("orderLinkId", "")) or None)  # fmt: skip

    async def _create(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        try:
            order = self._place(acc, req.json())
        except OrderRefused as exc:
            return P.refusal(exc, self._now())
        return P.envelope({"orderId": order.order_id, "orderLinkId": order.client_id}, self._now())

    async def _create_batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        results, infos = [], []
        for body in req.json().get("request", []):
            try:
                order = self._place(acc, body)
                results.append(
                    {
                        "category": "linear",
                        "symbol": order.symbol,
                        "orderId": order.order_id,
                        "orderLinkId": order.client_id,
                    }
                )
                infos.append({"code": 0, "msg": "OK"})
            except OrderRefused as exc:
                answer = json.loads(P.refusal(exc, 0).body)
                results.append(
                    {
                        "category": "linear",
                        "symbol": body.get("symbol", ""),
                        "orderId": "",
                        "orderLinkId": body.get("orderLinkId", ""),
                    }
                )
                infos.append({"code": answer["retCode"], "msg": answer["retMsg"]})
        return RestAnswer.of(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": {"list": results},
                "retExtInfo": {"list": infos},
                "time": self._now(),
            }
        )

    async def _amend(self, req: RestRequest, acc: Account) -> RestAnswer:
        body = req.json()
        order = self._lookup(acc, body)
        try:
            if order is None:
                raise OrderRefused("order_not_found", "order not found")
            px, qty = body.get("price"), body.get("qty")
            self.server.exchange.amend(order, Decimal(str(px)) if px not in (None, "") else None,
                                       Decimal(str(qty)) if qty not in (None, "") else None)  # fmt: skip
        except OrderRefused as exc:
            return P.refusal(exc, self._now())
        return P.envelope({"orderId": order.order_id, "orderLinkId": order.client_id}, self._now())

    def _cancel_one(self, acc: Account, body: dict[str, Any]) -> SimOrder:
        order = self._lookup(acc, body)
        if order is None:
            raise OrderRefused("order_not_found", "order not found")
        return self.server.exchange.cancel(order)

    async def _cancel(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        try:
            order = self._cancel_one(acc, req.json())
        except OrderRefused as exc:
            return P.refusal(exc, self._now())
        return P.envelope({"orderId": order.order_id, "orderLinkId": order.client_id}, self._now())

    async def _cancel_batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        results, infos = [], []
        for body in req.json().get("request", []):
            try:
                order = self._cancel_one(acc, body)
                results.append(
                    {
                        "category": "linear",
                        "symbol": order.symbol,
                        "orderId": order.order_id,
                        "orderLinkId": order.client_id,
                    }
                )
                infos.append({"code": 0, "msg": "OK"})
            except OrderRefused as exc:
                results.append(
                    {
                        "category": "linear",
                        "symbol": body.get("symbol", ""),
                        "orderId": body.get("orderId", ""),
                        "orderLinkId": body.get("orderLinkId", ""),
                    }
                )
                infos.append({"code": int(json.loads(P.refusal(exc, 0).body)["retCode"]), "msg": exc.message})
        return RestAnswer.of(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": {"list": results},
                "retExtInfo": {"list": infos},
                "time": self._now(),
            }
        )

    async def _cancel_all(self, req: RestRequest, acc: Account) -> RestAnswer:
        done = self.server.exchange.cancel_all(acc.api_key, req.json().get("symbol"))
        return P.envelope(
            {"list": [{"orderId": o.order_id, "orderLinkId": o.client_id} for o in done], "success": "1"},
            self._now(),
        )

    def _list(self, orders: list[SimOrder]) -> RestAnswer:
        return P.envelope(
            {"category": "linear", "list": [P.order_json(o) for o in reversed(orders)], "nextPageCursor": ""},
            self._now(),
        )

    async def _realtime(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        wanted = self._lookup(acc, dict(req.params))
        if req.params.get("orderId") or req.params.get("orderLinkId"):  # one order, open or recently closed
            return self._list([] if wanted is None else [wanted])
        return self._list(ex.open_orders(acc.api_key, req.params.get("symbol")))

    async def _history(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        wanted = self._lookup(acc, dict(req.params))
        if req.params.get("orderId") or req.params.get("orderLinkId"):
            return self._list([] if wanted is None else [wanted])
        return self._list([o for o in ex.orders_of(acc.api_key, req.params.get("symbol")) if not o.is_open])

    async def _executions(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        fills = ex.fills_of(acc.api_key, req.params.get("symbol"), req.params.get("orderId"))
        rows = [P.execution_json(f, ex.orders[f.order_id]) for f in reversed(fills)]
        return P.envelope({"category": "linear", "list": rows, "nextPageCursor": ""}, self._now())

    async def _wallet(self, req: RestRequest, acc: Account) -> RestAnswer:
        coins = [{"coin": ccy, "walletBalance": num(b.total), "equity": num(b.total), "locked": num(b.locked),
                  "availableToWithdraw": num(b.free), "unrealisedPnl": "0", "cumRealisedPnl": "0", "usdValue": num(b.total)}
                 for ccy, b in sorted(acc.balances.items())]  # fmt: skip
        row = {"accountType": "UNIFIED", "totalEquity": "", "totalWalletBalance": "", "coin": coins}
        return P.envelope({"list": [row]}, self._now())

    async def _positions(self, req: RestRequest, acc: Account) -> RestAnswer:
        rows = [
            {"positionIdx": 0, "symbol": s, "side": "Buy" if p.qty > 0 else "Sell", "size": num(abs(p.qty)),
             "avgPrice": num(p.entry_px), "leverage": str(acc.leverage), "updatedTime": str(p.updated_ms),
             "createdTime": str(p.updated_ms), "cumRealisedPnl": num(p.realized), "unrealisedPnl": "0",
             "positionValue": num(abs(p.qty) * p.entry_px), "markPrice": "", "liqPrice": "", "tradeMode": 0,
             "positionStatus": "Normal", "seq": p.updated_ms}
            for s, p in acc.positions.items() if p.qty and (not req.params.get("symbol") or req.params["symbol"] == s)
        ]  # fmt: skip
        return P.envelope({"category": "linear", "list": rows, "nextPageCursor": ""}, self._now())
