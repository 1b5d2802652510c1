"""A local Alpaca: the Trading API (REST), the trade_updates stream and the market-data streams, written
from Alpaca's documentation, served by the generic replay server (`tradewright.servers._core`).

REST (``/v2/...``, authenticated by the ``APCA-API-KEY-ID``/``APCA-API-SECRET-KEY`` headers; wrong keys
get Alpaca's 403): account, clock, calendar, assets, orders (submit, list, get, by client order id,
replace, cancel one or all), positions (list, get, close). Streams: ``/stream`` (trade_updates, JSON in
binary frames), ``/v2/iex`` ``/v2/sip`` ``/v2/test`` (stocks) and ``/v1beta3/crypto/us`` (crypto), msgpack
both ways with msgpack Timestamps, one connection per key per endpoint (a second one gets 406).

The market is recorded bars per symbol, played on the server's timeline; each bar goes out as a bar
(one-minute bars on ``bars``, daily bars on ``dailyBars``) and moves the quotes, and orders fill against
it (`orders.py`). Alpaca's documented limit of 200 requests a minute per key is enforced (429).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgpack

from tradewright.model.calendar import TradingCalendar
from tradewright.model.instrument import TradingSession
from tradewright.servers._core.accounts import Account, SimMarket
from tradewright.servers._core.protocol import RateRule, VenueProtocol
from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.timeline import MarketEvent
from tradewright.servers._core.ws import Session
from tradewright.servers.alpaca import payloads
from tradewright.servers.alpaca.orders import Asset, OrderBook, Refused, TradeUpdate
from tradewright.servers.bars import ReplayMarket

__all__ = ["DATA_PATHS", "AlpacaProtocol"]

DATA_PATHS = ("/v2/iex", "/v2/sip", "/v2/test", "/v2/delayed_sip", "/v1beta3/crypto/us")
_DAY_NS = 86_400_000_000_000
_NYSE = TradingCalendar(TradingSession(name="rth", tz="America/New_York", open="09:30", close="16:00"))


class AlpacaProtocol(VenueProtocol):
    name = "alpaca"
    ws_paths = ("/stream", *DATA_PATHS)
    rate_rules = (RateRule("200 requests a minute", ("/v2/",), 200, 60.0),)

    def __init__(self, market: ReplayMarket, assets: dict[str, Asset], *, cash: Decimal) -> None:
        super().__init__()
        self.market = market
        self.assets = assets
        self.book = OrderBook(market, assets, cash=cash)
        self.book.listeners.append(self._on_trade_update)
        self._by_key = {a.key: a for a in assets.values()}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- set-up -------------------------------------------------------------------------------
    def markets(self) -> Sequence[SimMarket]:
        return []  # bars, not books: the orders are matched by `orders.OrderBook`

    def events(self) -> Sequence[MarketEvent]:
        return [
            MarketEvent(ts_ns=ts, topic=f"bars:{self._by_key[key].symbol}", payload=key)
            for ts, key in self.market.pending()
        ]

    def default_accounts(self) -> list[Account]:
        return [Account("AKTESTKEY00000000001", "test-secret-never-shown")]

    def routes(self, router: RestRouter) -> None:
        router.add("GET", "/v2/account", self._guard(self._account))
        router.add("GET", "/v2/clock", self._guard(self._clock))
        router.add("GET", "/v2/calendar", self._guard(self._calendar))
        router.add("GET", "/v2/assets", self._guard(self._assets))
        router.add_prefix("GET", "/v2/assets/", self._guard(self._asset))
        router.add("POST", "/v2/orders", self._guard(self._submit))
        router.add("GET", "/v2/orders", self._guard(self._list_orders))
        router.add("DELETE", "/v2/orders", self._guard(self._cancel_all))
        router.add("GET", "/v2/orders:by_client_order_id", self._guard(self._by_client_id))
        router.add_prefix("GET", "/v2/orders/", self._guard(self._get_order))
        router.add_prefix("PATCH", "/v2/orders/", self._guard(self._replace))
        router.add_prefix("DELETE", "/v2/orders/", self._guard(self._cancel))
        router.add("GET", "/v2/account/activities/FILL", self._guard(self._fills))
        router.add("GET", "/v2/account/activities", self._guard(self._fills))
        router.add("GET", "/v2/positions", self._guard(self._positions))
        router.add_prefix("GET", "/v2/positions/", self._guard(self._position))
        router.add_prefix("DELETE", "/v2/positions/", self._guard(self._close_position))

    # --- errors ---------------------------------------------------------------------------------
    def not_found(self, request: RestRequest) -> RestAnswer:
        return RestAnswer.of({"code": 40410000, "message": "endpoint not found"}, 404)

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        return RestAnswer.of({"code": 42910000, "message": "rate limit exceeded"}, 429)

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return RestAnswer.of({"code": 50010000, "message": "internal server error"}, status)

    def _guard(self, handler: Any) -> Any:
        async def guarded(req: RestRequest) -> RestAnswer:
            if not self._authorised(req.headers.get("APCA-API-KEY-ID", ""), req.headers.get("APCA-API-SECRET-KEY", "")):
                return RestAnswer.of({"code": 40310000, "message": "forbidden"}, 403)
            try:
                return await handler(req)  # type: ignore[no-any-return]
            except Refused as refused:
                return RestAnswer.of({"code": refused.code, "message": refused.message}, refused.status)

        return guarded

    def _authorised(self, key: str, secret: str) -> bool:
        account = self.server.exchange.accounts.get(key)
        return account is not None and bool(secret) and account.secret == secret

    # --- REST -------------------------------------------------------------------------------------
    async def _account(self, req: RestRequest) -> RestAnswer:
        key = req.headers.get("APCA-API-KEY-ID", "")
        equity = self.book.cash
        for symbol, _ in self.book.positions.items():
            qty, _avg = self.book.position(symbol)
            equity += qty * self._mark(self.assets[symbol])
        account_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-account:{key}"))
        return RestAnswer.of(payloads.account(account_id, "PA" + key[-8:], self.book.cash, equity))

    async def _clock(self, req: RestRequest) -> RestAnswer:
        now = self.market.now_ns
        is_open = _NYSE.is_open(now)
        next_open = _NYSE.next_open_ns(now if not is_open else _NYSE.next_close_ns(now))
        return RestAnswer.of(payloads.clock(now, is_open, next_open, _NYSE.next_close_ns(now)))

    async def _calendar(self, req: RestRequest) -> RestAnswer:
        start = req.params.get("start") or datetime.fromtimestamp(self.market.now_ns / 1e9, UTC).date().isoformat()
        end = req.params.get("end") or start
        days = _NYSE.days(datetime.fromisoformat(start).date(), datetime.fromisoformat(end).date())
        return RestAnswer.of(
            [
                {"date": d.isoformat(), "open": "09:30", "close": "16:00", "session_open": "0400",
                 "session_close": "2000", "settlement_date": d.isoformat()}
                for d in days
            ]
        )

    async def _assets(self, req: RestRequest) -> RestAnswer:
        wanted = req.params.get("asset_class")
        return RestAnswer.of([payloads.asset(a) for a in self.assets.values() if not wanted or a.asset_class == wanted])

    async def _asset(self, req: RestRequest) -> RestAnswer:
        symbol = req.path.removeprefix("/v2/assets/").replace("%2F", "/")
        asset = self.assets.get(symbol)
        if asset is None:
            raise Refused(404, 40410000, f"asset not found for {symbol}")
        return RestAnswer.of(payloads.asset(asset))

    async def _submit(self, req: RestRequest) -> RestAnswer:
        try:
            body = req.json()
        except ValueError:
            raise Refused(400, 40010000, "request body format is invalid") from None
        return RestAnswer.of(payloads.order(self.book.submit(body)))

    async def _list_orders(self, req: RestRequest) -> RestAnswer:
        status = req.params.get("status", "open")
        symbols = set(filter(None, req.params.get("symbols", "").split(",")))
        out = []
        for order in self.book.orders.values():
            if order.parent is not None:
                continue  # legs are listed inside their parent (nested)
            if status == "open" and not (order.is_open or any(leg.is_open for leg in order.legs)):
                continue
            if status == "closed" and order.is_open:
                continue
            if symbols and order.asset.symbol not in symbols:
                continue
            out.append(payloads.order(order))
        return RestAnswer.of(out[: int(req.params.get("limit", 500))])

    async def _get_order(self, req: RestRequest) -> RestAnswer:
        order = self.book.orders.get(req.path.removeprefix("/v2/orders/"))
        if order is None:
            raise Refused(404, 40410000, "order not found")
        return RestAnswer.of(payloads.order(order))

    async def _by_client_id(self, req: RestRequest) -> RestAnswer:
        order = self.book.by_client_id(req.params.get("client_order_id", ""))
        if order is None:
            raise Refused(404, 40410000, "order not found")
        return RestAnswer.of(payloads.order(order))

    async def _replace(self, req: RestRequest) -> RestAnswer:
        return RestAnswer.of(payloads.order(self.book.replace(req.path.removeprefix("/v2/orders/"), req.json())))

    async def _cancel(self, req: RestRequest) -> RestAnswer:
        self.book.cancel(req.path.removeprefix("/v2/orders/"))
        return RestAnswer(204, "")

    async def _cancel_all(self, req: RestRequest) -> RestAnswer:
        out = []
        for order in list(self.book.orders.values()):
            if order.is_open and order.parent is None:
                self.book.cancel(order.id)
                out.append({"id": order.id, "status": 200, "body": payloads.order(order)})
        return RestAnswer.of(out, 207)

    async def _fills(self, req: RestRequest) -> RestAnswer:
        kinds = req.params.get("activity_types", "FILL")
        if "FILL" not in kinds.split(","):
            return RestAnswer.of([])
        direction = req.params.get("direction", "desc")
        out = [payloads.activity(u) for u in self.book.executions]
        return RestAnswer.of(out if direction == "asc" else out[::-1])

    async def _positions(self, req: RestRequest) -> RestAnswer:
        out = []
        for symbol in sorted(self.book.positions):
            qty, avg = self.book.position(symbol)
            if qty:
                asset = self.assets[symbol]
                out.append(payloads.position(asset, qty, avg, self._mark(asset)))
        return RestAnswer.of(out)

    async def _position(self, req: RestRequest) -> RestAnswer:
        symbol = req.path.removeprefix("/v2/positions/").replace("%2F", "/")
        qty, avg = self.book.position(symbol)
        if symbol not in self.assets or qty == 0:
            raise Refused(404, 40410000, "position does not exist")
        return RestAnswer.of(payloads.position(self.assets[symbol], qty, avg, self._mark(self.assets[symbol])))

    async def _close_position(self, req: RestRequest) -> RestAnswer:
        symbol = req.path.removeprefix("/v2/positions/").replace("%2F", "/")
        qty, _ = self.book.position(symbol)
        if symbol not in self.assets or qty == 0:
            raise Refused(404, 40410000, "position does not exist")
        side = "sell" if qty > 0 else "buy"
        order = self.book.submit({"symbol": symbol, "qty": str(abs(qty)), "side": side, "type": "market", "time_in_force": "day"})
        return RestAnswer.of(payloads.order(order))

    def _mark(self, asset: Asset) -> Decimal:
        bar = self.market.last_bar(asset.key)
        return Decimal(0) if bar is None else bar.close * self.market.tick_size(asset.key)

    # --- streams ------------------------------------------------------------------------------------
    async def on_open(self, session: Session) -> None:
        if session.path in DATA_PATHS:
            await session.send_bytes(msgpack.packb([{"T": "success", "msg": "connected"}]))

    async def on_message(self, session: Session, text: str) -> None:
        """The trade_updates stream (JSON; answers go out as binary frames, as Alpaca's paper server does)."""
        try:
            message = json.loads(text)
        except ValueError:
            return
        action, data = message.get("action"), message.get("data") or {}
        if session.path in DATA_PATHS:
            await self._data_message(session, message)
            return
        if action == "authenticate":
            ok = self._authorised(str(data.get("key_id", "")), str(data.get("secret_key", "")))
            session.state["key"] = data.get("key_id") if ok else None
            status = "authorized" if ok else "unauthorized"
            await session.send_bytes(_json({"stream": "authorization", "data": {"status": status, "action": "authenticate"}}))
        elif action == "listen":
            if not session.state.get("key"):
                await session.send_bytes(_json({"stream": "authorization", "data": {"status": "unauthorized", "action": "listen"}}))
                return
            streams = [s for s in data.get("streams", []) if s == "trade_updates"]
            for stream in streams:
                self.server.hub.add(session, stream)
            await session.send_bytes(_json({"stream": "listening", "data": {"streams": streams}}))

    async def on_binary(self, session: Session, data: bytes) -> None:
        if session.path not in DATA_PATHS:
            return
        try:
            message = msgpack.unpackb(data)
        except (ValueError, msgpack.UnpackException):
            await session.send_bytes(msgpack.packb([{"T": "error", "code": 400, "msg": "invalid syntax"}]))
            return
        if isinstance(message, dict):
            await self._data_message(session, message)

    async def _data_message(self, session: Session, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action == "auth":
            key, secret = str(message.get("key", "")), str(message.get("secret", ""))
            if not self._authorised(key, secret):
                await session.send_bytes(msgpack.packb([{"T": "error", "code": 402, "msg": "auth failed"}]))
                return
            busy = [s for s in self.server.hub.sessions if s is not session and s.path == session.path and s.state.get("key") == key and not s.closed]
            if busy:
                await session.send_bytes(msgpack.packb([{"T": "error", "code": 406, "msg": "connection limit exceeded"}]))
                await session.close()
                return
            session.state["key"] = key
            await session.send_bytes(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
        elif action in ("subscribe", "unsubscribe"):
            if not session.state.get("key"):
                await session.send_bytes(msgpack.packb([{"T": "error", "code": 401, "msg": "not authenticated"}]))
                return
            for channel in ("bars", "dailyBars", "quotes", "trades"):
                for symbol in message.get(channel) or []:
                    topic = f"{channel}:{symbol}"
                    if action == "subscribe":
                        self.server.hub.add(session, topic)
                    else:
                        self.server.hub.remove(session, topic)
            subscribed = {c: sorted(t.split(":", 1)[1] for t in session.subscriptions if t.startswith(c + ":"))
                          for c in ("trades", "quotes", "bars", "dailyBars")}  # fmt: skip
            await session.send_bytes(msgpack.packb([{"T": "subscription", **subscribed}]))
            self.server.market_started()

    async def on_event(self, event: MarketEvent) -> None:
        key = int(event.payload)
        row = self.market.reveal(key)
        if row is None:
            return
        asset = self._by_key[key]
        tick = self.market.tick_size(key)
        daily = self.market.interval_ns(key) >= _DAY_NS
        frame = payloads.bar_frame("d" if daily else "b", asset.symbol, row, tick)
        for sub in self.server.hub.subscribers(f"{'dailyBars' if daily else 'bars'}:{asset.symbol}"):
            await sub.session.send_bytes(frame)
        quote = self.market.quote(key)
        if quote is not None:
            secs, ns = divmod(row.ts_close_ns, 1_000_000_000)
            frame = msgpack.packb([{
                "T": "q", "S": asset.symbol, "bx": "V", "bp": float(quote[0] * tick), "bs": self.market.quote_lots,
                "ax": "V", "ap": float(quote[1] * tick), "as": self.market.quote_lots, "c": ["R"], "z": "C",
                "t": msgpack.Timestamp(secs, ns),
            }])  # fmt: skip
            for sub in self.server.hub.subscribers(f"quotes:{asset.symbol}"):
                await sub.session.send_bytes(frame)

    def _on_trade_update(self, update: TradeUpdate) -> None:
        frame = payloads.trade_update(update)
        for sub in self.server.hub.subscribers("trade_updates"):
            task = asyncio.get_running_loop().create_task(sub.session.send_bytes(frame))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
