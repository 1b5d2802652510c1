"""Kraken spot on the generic replay server: WebSocket v2 (transcoded from the v1 recording) and REST.

WebSocket ``/v2`` (public and private share it here, as the path does on Kraken's two hosts):
``book`` (each subscriber's depth window, snapshot first, checksums recomputed), ``trade``,
``executions`` (with a token from ``GetWebSocketsToken``); ``ping`` -> ``pong``; every subscribe and
unsubscribe acknowledged. REST: the recorded ``/0/public/AssetPairs``, server time, and signed
(form-encoded, nonce-checked) ``/0/private`` AddOrder, AmendOrder, CancelOrder, CancelAll, OpenOrders,
ClosedOrders, QueryOrders, TradesHistory, QueryTrades, Balance, BalanceEx and GetWebSocketsToken.
"""

from __future__ import annotations

import json
import re
import secrets
import time
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
from tradewright.servers._core.ws import Session, Subscription
from tradewright.servers.kraken import private as P
from tradewright.servers.kraken.public import (
    BookWindow,
    apply_v1,
    book_frame,
    checksum,
    kraken_events,
    kraken_markets,
    pairs,
)

__all__ = ["KrakenProtocol"]

_DEPTHS = (10, 25, 100, 500, 1000)
_PRIVATE = "/0/private/"


class KrakenProtocol(VenueProtocol):
    name = "kraken"
    ws_paths = ("/v2",)
    # documented: the order-placement counter allows bursts of about 60 per minute for a new account
    rate_rules = (
        RateRule(
            "orders",
            (f"{_PRIVATE}AddOrder", f"{_PRIVATE}AmendOrder", f"{_PRIVATE}CancelOrder"),
            60,
            60.0,
            frozenset({"POST"}),
        ),
    )

    def __init__(self, recording: Recording) -> None:
        super().__init__()
        self.recording = recording
        self.pairs = pairs(recording)
        self._events = kraken_events(recording)
        self._markets = kraken_markets(self.pairs, self._events)
        self.books: dict[str, StringBook] = {m.symbol: StringBook() for m in self._markets}
        self._by_alt = {p.altname: s for s, p in self.pairs.items()} | {
            p.key: s for s, p in self.pairs.items()
        }
        self._assets = {m.base: self.pairs[m.symbol].base for m in self._markets} | {
            m.quote: self.pairs[m.symbol].quote for m in self._markets
        }
        self._nonces = P.NonceBook()
        self._tokens: dict[str, str] = {}
        self._seq = 0

    def markets(self) -> Sequence[SimMarket]:
        return self._markets

    def events(self) -> Sequence[MarketEvent]:
        return self._events

    def default_accounts(self) -> list[Account]:
        acc = Account("local-kraken-key", "bG9jYWwta3Jha2VuLXNlY3JldC1mb3ItdGVzdHM=")
        for ccy, amount in {"USD": 100_000, "EUR": 100_000, "XMR": 1_000, "BTC": 2}.items():
            acc.balance(ccy).total = Decimal(amount)
        return [acc]

    def not_found(self, request: RestRequest) -> RestAnswer:
        return P.error("EGeneral:Unknown method", 404)

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        return P.error("EAPI:Rate limit exceeded")  # documented: HTTP 200 with this error

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return P.error("EService:Unavailable", status)

    # --- market data -------------------------------------------------------------------------------
    async def on_event(self, event: MarketEvent) -> None:
        symbol = event.symbol or ""
        if event.topic.startswith("book:"):
            book, pair = self.books.get(symbol), self.pairs.get(symbol)
            if book is None or pair is None:
                return
            snapshot = apply_v1(book, event.payload)
            crc = checksum(book, pair)

            def render(sub: Subscription) -> str | None:
                window: BookWindow = sub.options["window"]
                if snapshot or sub.awaiting_snapshot:
                    return book_frame(symbol, pair, "snapshot", window.snapshot(book), crc, book.ts_ms)
                changes = window.diff(book)
                if not changes[1] and not changes[-1]:
                    return None  # nothing in this subscriber's window changed
                return book_frame(symbol, pair, "update", changes, crc, book.ts_ms)

            await self.server.publish_book(
                event.topic, render, snapshot=snapshot, corrupt=_corrupt, bad_checksum=_bad_checksum
            )
        elif event.topic.startswith("trade:"):
            trades = [{"symbol": symbol, "side": "buy" if t[3] == "b" else "sell", "price": float(Decimal(t[0])),
                       "qty": float(Decimal(t[1])), "ord_type": "market" if t[4] == "m" else "limit",
                       "trade_id": int(Decimal(t[2]) * 1_000_000), "timestamp": _iso(Decimal(t[2]))} for t in event.payload[1]]  # fmt: skip
            await self.server.publish(
                event.topic, dumps({"channel": "trade", "type": "update", "data": trades})
            )

    async def on_message(self, session: Session, text: str) -> None:
        try:
            msg = json.loads(text)
            method, params = str(msg["method"]), dict(msg.get("params") or {})
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            await session.send(dumps({"error": "EGeneral:Invalid arguments", "success": False}))
            return
        now = _iso(Decimal(time.time()))
        base = {"method": method, "time_in": now, "time_out": now} | (
            {"req_id": msg["req_id"]} if "req_id" in msg else {}
        )
        if method == "ping":
            await session.send(dumps(base | {"method": "pong"}))
            return
        await self.server.ack_delay()
        if method not in ("subscribe", "unsubscribe"):
            await session.send(dumps(base | {"success": False, "error": f"Method not supported: {method}"}))
            return
        channel = str(params.get("channel", ""))
        if channel == "executions":
            await self._executions(session, method, params, base)
            return
        for symbol in params.get("symbol") or []:
            await self._market_sub(session, method, channel, str(symbol), params, base)

    async def _market_sub(
        self,
        session: Session,
        method: str,
        channel: str,
        symbol: str,
        params: dict[str, Any],
        base: dict[str, Any],
    ) -> None:
        topic = f"{channel}:{symbol}"
        depth = int(params.get("depth", 10))
        if (
            symbol not in self.books
            or channel not in ("book", "trade")
            or (channel == "book" and depth not in _DEPTHS)
        ):
            await session.send(
                dumps(
                    base
                    | {"success": False, "error": f"Currency pair not supported {symbol}", "symbol": symbol}
                )
            )
            return
        result = {"channel": channel, "symbol": symbol} | (
            {"depth": depth, "snapshot": True} if channel == "book" else {}
        )
        if method == "unsubscribe":
            self.server.hub.remove(session, topic)
            await session.send(dumps(base | {"result": result, "success": True}))
            return
        book = self.books[symbol] if channel == "book" else None
        sub = self.server.hub.add(
            session, topic, awaiting_snapshot=book is not None, window=BookWindow(depth)
        )
        await session.send(dumps(base | {"result": result, "success": True}))
        self.server.market_started()
        if book is not None and book.synced:
            pair = self.pairs[symbol]
            await session.send(
                book_frame(
                    symbol,
                    pair,
                    "snapshot",
                    sub.options["window"].snapshot(book),
                    checksum(book, pair),
                    book.ts_ms,
                )
            )
            sub.awaiting_snapshot = False

    async def _executions(
        self, session: Session, method: str, params: dict[str, Any], base: dict[str, Any]
    ) -> None:
        api_key = self._tokens.get(str(params.get("token", "")))
        if api_key is None:
            await session.send(dumps(base | {"success": False, "error": "EAccount:Invalid permissions"}))
            return
        topic = f"executions:{api_key}"
        result = {"channel": "executions", "snapshot": True}
        if method == "unsubscribe":
            self.server.hub.remove(session, topic)
            await session.send(dumps(base | {"result": result, "success": True}))
            return
        self.server.hub.add(session, topic)
        await session.send(dumps(base | {"result": result, "success": True}))
        ex = self.server.exchange
        rows = [P.execution(o, o.symbol, "new", None) for o in ex.open_orders(api_key)]
        self._seq += 1
        await session.send(
            dumps({"channel": "executions", "type": "snapshot", "data": rows, "sequence": self._seq})
        )

    # --- private pushes ----------------------------------------------------------------------------
    def on_order_change(self, change: OrderChange) -> None:
        order = change.order
        exec_type = {
            "new": "new",
            "fill": "trade",
            "amended": "amended",
            "canceled": "canceled",
            "expired": "expired",
        }.get(change.kind, change.kind)
        row = P.execution(order, order.symbol, exec_type, change.fill)
        for sub in self.server.hub.subscribers(f"executions:{order.account}"):
            self._seq += 1
            self.server.post(
                sub.session,
                dumps({"channel": "executions", "type": "update", "data": [row], "sequence": self._seq}),
            )

    # --- REST --------------------------------------------------------------------------------------
    def routes(self, router: RestRouter) -> None:
        for r in self.recording.http_matching("/0/public/AssetPairs"):
            router.add_recorded("GET", r.path, r.query, r.body)
        router.add("GET", "/0/public/Time", self._time)
        handlers = {
            "AddOrder": self._add, "AmendOrder": self._amend, "CancelOrder": self._cancel, "CancelAll": self._cancel_all,
            "OpenOrders": self._open, "ClosedOrders": self._closed, "QueryOrders": self._query, "TradesHistory": self._trades,
            "AddOrderBatch": self._add_batch, "CancelOrderBatch": self._cancel_batch,
            "QueryTrades": self._trades, "Balance": self._balance, "BalanceEx": self._balance_ex, "GetWebSocketsToken": self._token,
        }  # fmt: skip
        for name, handler in handlers.items():
            router.add("POST", f"{_PRIVATE}{name}", self._signed(handler))

    async def _time(self, req: RestRequest) -> RestAnswer:
        now = time.time()
        return P.ok(
            {"unixtime": int(now), "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}
        )

    def _signed(self, handler: Any) -> Any:
        async def wrapped(req: RestRequest) -> RestAnswer:
            try:
                acc = P.check_rest(req, self.server.exchange.accounts, self._nonces)
            except P.KrakenAuthError as exc:
                return P.error(str(exc))
            try:
                answer: RestAnswer = await handler(req, acc)
            except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
                return P.error(f"EGeneral:Invalid arguments:{exc}")
            return answer

        return wrapped

    def _symbol(self, pair_name: str) -> str:
        symbol = self._by_alt.get(pair_name) or (pair_name if pair_name in self.pairs else None)
        if symbol is None:
            raise OrderRefused("unknown_symbol", f"unknown pair {pair_name}")
        return symbol

    def _find(self, acc: Account, params: dict[str, str]) -> SimOrder | None:
        ex = self.server.exchange
        if params.get("cl_ord_id"):
            return ex.find(acc.api_key, client_id=params["cl_ord_id"])
        ident = params.get("txid", "")
        return ex.find(acc.api_key, order_id=P.order_id(ident)) if ident else None

    async def _add(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        p = req.params
        try:
            symbol = self._symbol(p["pair"])
            market = p["ordertype"] == "market"
            tif = (
                "POST_ONLY"
                if "post" in p.get("oflags", "")
                else {"IOC": "IOC", "GTC": "GTC"}.get(p.get("timeinforce", "GTC"), "GTC")
            )
            order = self.server.exchange.place(
                acc.api_key, symbol, p["type"], "market" if market else "limit", Decimal(p["volume"]),
                None if market else Decimal(p["price"]), tif="IOC" if market else tif, client_id=p.get("cl_ord_id", ""),
                injected=self.server.faults.order_rejection(),
            )  # fmt: skip
        except OrderRefused as exc:
            return P.refusal(exc)
        pair = self.pairs[symbol]
        descr = f"{order.side} {pair.qty(order.qty)} {pair.altname} @ {order.type} {num(order.price, '0')}"
        return P.ok({"descr": {"order": descr}, "txid": [P.txid(order)]})

    async def _add_batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        """AddOrderBatch (documented): JSON ``{"pair", "orders": [...]}`` -> one result per order."""
        body = req.json()
        out: list[dict[str, Any]] = []
        for item in body.get("orders", []):
            params = {k: str(v) for k, v in item.items()} | {"pair": str(body.get("pair", ""))}
            answer = json.loads(
                (await self._add(RestRequest("POST", req.path, "", "", req.headers, params), acc)).body
            )
            out.append(
                answer["result"] | {"txid": answer["result"]["txid"][0]}
                if not answer["error"]
                else {"error": answer["error"][0]}
            )
        return P.ok({"orders": out})

    async def _cancel_batch(self, req: RestRequest, acc: Account) -> RestAnswer:
        """CancelOrderBatch (documented): JSON ``{"orders": [txid or cl_ord_id, ...]}``."""
        count = 0
        for ident in req.json().get("orders", []):
            ident = str(ident["txid"] if isinstance(ident, dict) else ident)
            key = "txid" if ident.startswith("O") and "-" in ident else "cl_ord_id"
            order = self._find(acc, {key: ident})
            if order is not None and order.is_open:
                self.server.exchange.cancel(order)
                count += 1
        return P.ok({"count": count})

    async def _amend(self, req: RestRequest, acc: Account) -> RestAnswer:
        order = self._find(acc, req.params)
        try:
            if order is None:
                raise OrderRefused("order_not_found", "unknown order")
            qty, price = req.params.get("order_qty"), req.params.get("limit_price")
            self.server.exchange.amend(
                order, Decimal(price) if price else None, Decimal(qty) if qty else None
            )
        except OrderRefused as exc:
            return P.refusal(exc)
        return P.ok({"amend_id": f"A{order.order_id}-{order.amends}"})

    async def _cancel(self, req: RestRequest, acc: Account) -> RestAnswer:
        await self.server.ack_delay()
        order = self._find(acc, req.params)
        try:
            if order is None:
                raise OrderRefused("order_not_found", "unknown order")
            self.server.exchange.cancel(order)
        except OrderRefused as exc:
            return P.refusal(exc)
        return P.ok({"count": 1, "pending": False})

    async def _cancel_all(self, req: RestRequest, acc: Account) -> RestAnswer:
        return P.ok({"count": len(self.server.exchange.cancel_all(acc.api_key))})

    def _orders(self, orders: list[SimOrder]) -> dict[str, Any]:
        return {P.txid(o): P.order_json(o, self.pairs[o.symbol]) for o in orders}

    def _filtered(self, acc: Account, params: dict[str, str], open_: bool) -> list[SimOrder]:
        ex = self.server.exchange
        orders = (
            ex.open_orders(acc.api_key) if open_ else [o for o in ex.orders_of(acc.api_key) if not o.is_open]
        )
        if params.get("cl_ord_id"):
            orders = [o for o in orders if o.client_id == params["cl_ord_id"]]
        return list(reversed(orders))

    async def _open(self, req: RestRequest, acc: Account) -> RestAnswer:
        return P.ok({"open": self._orders(self._filtered(acc, req.params, True))})

    async def _closed(self, req: RestRequest, acc: Account) -> RestAnswer:
        orders = self._filtered(acc, req.params, False)
        return P.ok({"closed": self._orders(orders), "count": len(orders)})

    async def _query(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        found = [
            o
            for t in req.params.get("txid", "").split(",")
            if t and (o := ex.find(acc.api_key, order_id=P.order_id(t)))
        ]
        if not found:
            return P.error("EOrder:Invalid order")
        return P.ok(self._orders(found))

    async def _trades(self, req: RestRequest, acc: Account) -> RestAnswer:
        ex = self.server.exchange
        fills = ex.fills_of(acc.api_key)
        wanted = {t for t in req.params.get("txid", "").split(",") if t}
        rows = {
            P.trade_id(f): P.trade_json(f, ex.orders[f.order_id], self.pairs[f.symbol])
            for f in reversed(fills)
        }
        if wanted:
            rows = {k: v for k, v in rows.items() if k in wanted}
            return P.ok(rows)
        return P.ok({"trades": rows, "count": len(rows)})

    async def _balance(self, req: RestRequest, acc: Account) -> RestAnswer:
        return P.ok({self._assets.get(ccy, ccy): num(b.total) for ccy, b in sorted(acc.balances.items())})

    async def _balance_ex(self, req: RestRequest, acc: Account) -> RestAnswer:
        return P.ok(
            {
                self._assets.get(ccy, ccy): {"balance": num(b.total), "hold_trade": num(b.locked)}
                for ccy, b in sorted(acc.balances.items())
            }
        )

    async def _token(self, req: RestRequest, acc: Account) -> RestAnswer:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = acc.api_key
        return P.ok({"token": token, "expires": 900})


def _iso(seconds: Decimal) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(float(seconds)))
        + f".{int((seconds % 1) * 1_000_000):06d}Z"
    )


_QTY = re.compile(r'("qty":)([0-9.]+)')
_CRC = re.compile(r'"checksum":(\d+)')


def _corrupt(text: str) -> str:
    """An update whose first level's quantity is off by one unit: the checksum no longer matches."""
    return _QTY.sub(lambda m: m.group(1) + num(Decimal(m.group(2)) + 1), text, count=1)


def _bad_checksum(text: str) -> str:
    return _CRC.sub(lambda m: f'"checksum":{int(m.group(1)) ^ 1}', text, count=1)
