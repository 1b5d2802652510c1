"""The generic replay server: one aiohttp application on 127.0.0.1 (an ephemeral port unless told) that
serves a venue protocol module's REST routes and WebSockets, plays the recording on one market clock,
matches orders with the simulated venue, injects faults and logs every request.

Admin endpoints (loopback clients only; the server never listens beyond 127.0.0.1 anyway):

| endpoint | what it does |
|---|---|
| ``GET /_admin/status`` | venue, replay position and clock, pacing, subscribed topics, sessions, rate-limit violations |
| ``GET/POST/DELETE /_admin/faults`` | show / change (JSON object of settings) / clear the faults |
| ``POST /_admin/step`` ``{"count": 1, "topic": ""}`` | step mode: play events until `count` of `topic` went out |
| ``POST /_admin/replay`` ``{"paused": bool, "start": bool}`` | pause or resume the market; start it now |
| ``POST /_admin/close`` | close every WebSocket now (a disconnect mid-stream) |
| ``GET /_admin/requests`` (``?clear=1``) | the request log |
| ``GET /_admin/orders`` | every order the venue holds |
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tradewright.core.errors import ConfigError, GridError, TradewrightError
from tradewright.model.columnar import KIND_CLEAR, KIND_DELTA, KIND_TRADE, MarketStream, StreamBuilder
from tradewright.servers._core.accounts import Account
from tradewright.servers._core.exchange import Exchange, OrderChange
from tradewright.servers._core.faults import Faults, FaultSettings
from tradewright.servers._core.protocol import RateRule, VenueProtocol
from tradewright.servers._core.rest import LoggedRequest, RequestLog, RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.timeline import MarketEvent, Pacing, Timeline
from tradewright.servers._core.ws import Hub, Session, Subscription

__all__ = ["HOST", "AccountSpec", "ReplayServer", "ServerOptions"]

log = logging.getLogger("tradewright.servers")
HOST = "127.0.0.1"
_KINDS = {"clear": KIND_CLEAR, "level": KIND_DELTA, "trade": KIND_TRADE}


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """An account to open: its key and secrets (never shown) and starting balances."""

    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    balances: Mapping[str, Decimal] = field(default_factory=dict)
    leverage: int = 10


@dataclass(frozen=True, slots=True)
class ServerOptions:
    port: int = 0
    pacing: Pacing = Pacing.RECORDED
    speed: float = 1.0
    start_on: str = "subscribe"  # or "now"
    strict: bool = True  # unknown requests: 404 and logged as unknown
    faults: FaultSettings = field(default_factory=FaultSettings)
    accounts: tuple[AccountSpec, ...] = ()
    enforce_limits: bool = True  # answer requests beyond the venue's documented limits with its 429


# A stopping server closes every WebSocket itself first; a handler still running after this long (a
# client that never answers the close) is cut off rather than holding the port for aiohttp's 60 s default.
_SHUTDOWN_TIMEOUT_S = 2.0


class _Limiter:
    """Sliding windows of the protocol's documented limits; counts what went over them."""

    def __init__(self, rules: tuple[RateRule, ...]) -> None:
        self.rules = rules
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self.violations: dict[str, int] = {}

    def over(self, method: str, path: str, who: str) -> RateRule | None:
        now = time.monotonic()
        for rule in self.rules:
            if method not in rule.methods or not path.startswith(rule.prefixes):
                continue
            hits = self._hits.setdefault((rule.name, who), deque())
            while hits and hits[0] <= now - rule.window_s:
                hits.popleft()
            if len(hits) >= rule.limit:
                self.violations[rule.name] = self.violations.get(rule.name, 0) + 1
                return rule
            hits.append(now)
        return None


class ReplayServer:
    """A local venue: `await start()`, then clients use `url`/`ws_url`; `await stop()` at the end."""

    def __init__(self, protocol: VenueProtocol, options: ServerOptions | None = None) -> None:
        self.protocol = protocol
        self.options = options or ServerOptions()
        self.faults = Faults(self.options.faults)
        self.requests = RequestLog()
        self.hub = Hub()
        self.router = RestRouter()
        protocol.attach(self)
        accounts = [self._account(spec) for spec in self.options.accounts] or protocol.default_accounts()
        if not accounts:
            raise ConfigError(f"{protocol.name}: the server needs at least one account")
        self.exchange = Exchange(protocol.name, protocol.markets(), accounts)
        self.exchange.listeners.append(self._on_order_change)
        events = list(protocol.events())
        self.streams: dict[str, MarketStream] = self._build_streams(events)
        self.timeline = Timeline(
            events,
            self._play,
            pacing=self.options.pacing,
            speed=self.options.speed,
            start_on=self.options.start_on,
        )
        protocol.routes(self.router)
        self._limiter = _Limiter(protocol.rate_rules if self.options.enforce_limits else ())
        self._held: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self._replay: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.off_grid_rows = 0
        self.bad_events = 0

    # --- set-up ------------------------------------------------------------------------------------
    def _account(self, spec: AccountSpec) -> Account:
        acc = Account(spec.api_key, spec.secret, spec.passphrase, leverage=spec.leverage)
        for ccy, amount in (spec.balances or self.protocol.default_balances()).items():
            acc.balance(ccy).total = Decimal(amount)
        return acc

    def _build_streams(self, events: list[MarketEvent]) -> dict[str, MarketStream]:
        """One columnar stream per market from the events' rows (what the simulated venue matches on)."""
        builders: dict[str, StreamBuilder] = {}
        for ev in events:
            if ev.symbol is None or not ev.rows or ev.symbol not in self.exchange.markets:
                continue
            inst = self.exchange.markets[ev.symbol].instrument
            b = builders.get(ev.symbol)
            if b is None:
                b = builders[ev.symbol] = StreamBuilder(inst, f"{self.protocol.name}:{ev.symbol}")
            ev.row_start = len(b)
            for row in ev.rows:
                try:
                    tick = inst.price_to_ticks(row.price) if row.kind != "clear" else 0
                    lots = inst.size_to_lots(row.size) if row.kind != "clear" else 0
                except GridError:
                    self.off_grid_rows += 1  # e.g. a dust level finer than the lot: it cannot trade with us
                    continue
                b.add(ev.ts_ns, ev.ts_ns, _KINDS[row.kind], row.side, tick, lots, 0)
            b.end_message()
            ev.row_stop = len(b)
        return {symbol: b.build() for symbol, b in builders.items()}

    # --- lifecycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    async def start(self) -> int:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        for path in self.protocol.ws_paths:
            app.router.add_get(path, self._ws)
        app.router.add_route("*", "/_admin/{action}", self._admin)
        app.router.add_route("*", "/{tail:.*}", self._http)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_TIMEOUT_S
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.options.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._replay = asyncio.get_running_loop().create_task(
            self._run_replay(), name=f"{self.protocol.name} replay"
        )
        log.info("%s replay server listening on %s", self.protocol.name, self.url)
        return self.port

    async def _run_replay(self) -> None:
        try:
            await self.timeline.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # the replay task's boundary: a protocol bug must not pass silently
            log.exception("%s: the replay stopped", self.protocol.name)

    async def stop(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay
        await self.close_connections(code=1001)
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def close_connections(self, code: int = 1011) -> int:
        sessions = list(self.hub.sessions)
        for session in sessions:
            await session.close(code=code)
        return len(sessions)

    # --- the market --------------------------------------------------------------------------------
    async def step(self, count: int = 1, topic: str = "") -> int:
        """Step mode: play events until `count` whose topic contains `topic` went out (see Timeline)."""
        return await self.timeline.step(count, topic)

    def market_started(self) -> None:
        """Called by protocols when a client subscribes to market data (starts the market clock)."""
        self.timeline.start()

    async def _play(self, event: MarketEvent) -> None:
        try:
            if event.symbol is not None and event.row_stop > event.row_start:
                self.exchange.on_rows(
                    self.streams[event.symbol], event.row_start, event.row_stop, event.ts_ns
                )
            else:
                self.exchange.clock.advance_to(event.ts_ns)
                self.exchange.scheduler.run_due(event.ts_ns)
            await self.protocol.on_event(event)
        except (
            ConnectionError,
            RuntimeError,
            ValueError,
            KeyError,
            TypeError,
            ArithmeticError,
            TradewrightError,
        ):
            # one event the server cannot play must not stop the market for every client
            self.bad_events += 1
            log.exception(
                "%s: event %d (%s) could not be played", self.protocol.name, event.index, event.topic
            )

    async def publish(self, topic: str, text: str | Callable[[Subscription], str | None]) -> None:
        """Send a market frame (trades, tickers) to every subscriber of `topic`."""
        for sub in self.hub.subscribers(topic):
            frame = text(sub) if callable(text) else text
            if frame is not None:
                await sub.session.send(frame)

    async def publish_book(
        self,
        topic: str,
        text: str | Callable[[Subscription], str | None],
        *,
        snapshot: bool = False,
        corrupt: Callable[[str], str] | None = None,
        bad_checksum: Callable[[str], str] | None = None,
    ) -> None:
        """Send a book frame to the subscribers of `topic`, applying the book faults.

        A subscription still waiting for its snapshot gets only snapshot frames. A dropped frame is
        still part of the server's own book (it is the client that misses it: a sequence gap).
        """
        action = self.faults.book_frame(topic)
        if action.drop:
            log.info("fault: dropped a %s frame", topic)
            if callable(text):  # per-subscriber state (a depth window) moves on: the client misses it
                for sub in self.hub.subscribers(topic):
                    text(sub)
            return
        if self.faults.frame_delay_s():
            await asyncio.sleep(self.faults.frame_delay_s())
        for sub in self.hub.subscribers(topic):
            if sub.awaiting_snapshot and not snapshot:
                continue
            frame = text(sub) if callable(text) else text
            if frame is None:
                continue
            if action.corrupt and corrupt is not None:
                frame = corrupt(frame)
            if action.corrupt_checksum and bad_checksum is not None:
                frame = bad_checksum(frame)
            if action.hold:
                self._held[f"{sub.session.id}|{topic}"] = frame
                continue
            await sub.session.send(frame)
            if action.duplicate:
                await sub.session.send(frame)
            held = self._held.pop(f"{sub.session.id}|{topic}", None)
            if held is not None:
                await sub.session.send(held)
            sub.awaiting_snapshot = False
        if self.faults.count_disconnect():
            log.info("fault: closing every WebSocket mid-stream")
            await self.close_connections()

    # --- private pushes ----------------------------------------------------------------------------
    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run a protocol's background work (expiries, settlement, heartbeat checks) until the server stops."""
        task = asyncio.get_running_loop().create_task(work, name=f"{self.protocol.name} {name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def post(self, session: Session, text: str) -> None:
        """Send a frame without waiting (private pushes raised inside a request); order is kept."""
        task = asyncio.get_running_loop().create_task(session.send(text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_order_change(self, change: OrderChange) -> None:
        try:
            self.protocol.on_order_change(change)
        except Exception:  # a push must never break the order it reports
            log.exception("%s: pushing an order update failed", self.protocol.name)

    async def ack_delay(self) -> None:
        delay = self.faults.ack_delay_s()
        if delay:
            await asyncio.sleep(delay)

    def now_ms(self) -> int:
        """The server's clock for signature timestamps: wall time plus any injected skew."""
        return time.time_ns() // 1_000_000 + self.faults.skew_ms()

    # --- HTTP --------------------------------------------------------------------------------------
    async def _http(self, request: web.Request) -> web.StreamResponse:
        body = await request.text() if request.can_read_body else ""
        query = request.rel_url.raw_query_string
        params = dict(parse_qsl(query, keep_blank_values=True))
        if body and request.content_type == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body, keep_blank_values=True))
        req = RestRequest(request.method, request.path, query, body, request.headers, params)
        answer, known = await self._answer(req, request.remote or "")
        self.requests.add(
            LoggedRequest(RequestLog.now(), "http", req.method, req.path, query, answer.status, known)
        )
        if not known:
            log.warning(
                "%s: unknown request %s %s (answered %d)",
                self.protocol.name,
                req.method,
                req.path_and_query,
                answer.status,
            )
        return web.Response(
            text=answer.body, status=answer.status, headers=answer.headers, content_type=answer.content_type
        )

    async def _answer(self, req: RestRequest, remote: str) -> tuple[RestAnswer, bool]:
        handler = self.router.handler(req.method, req.path)
        recorded = None if handler is not None else self.router.recorded(req.method, req.path, req.query)
        if handler is None and recorded is None:
            return self.protocol.not_found(req), not self.options.strict
        s = self.faults.settings
        if self.faults.http_429(req.path):
            return self.protocol.too_many_requests(req, s.retry_after_s), True
        rule = self._limiter.over(req.method, req.path, self._who(req, remote))
        if rule is not None:
            log.warning("%s: %s over the documented limit %s", self.protocol.name, req.path, rule.name)
            return self.protocol.too_many_requests(req, rule.window_s), True
        failure = self.faults.http_5xx(req.path)
        if failure is not None and not failure[1]:
            return self.protocol.server_error(req, failure[0]), True
        if recorded is not None:
            return recorded, True
        assert handler is not None
        try:
            answer = await handler(req)
        except Exception:  # a request's boundary: answer as the venue does for internal errors
            log.exception("%s: %s %s failed", self.protocol.name, req.method, req.path)
            return self.protocol.server_error(req, 500), True
        if failure is not None:  # carried out, but the client is told the outcome is unknown
            return self.protocol.server_error(req, failure[0]), True
        return answer, True

    @staticmethod
    def _who(req: RestRequest, remote: str) -> str:
        for header in ("OK-ACCESS-KEY", "ACCESS-KEY", "X-BAPI-API-KEY", "API-Key", "KEY", "APCA-API-KEY-ID"):
            value = req.headers.get(header)
            if value:
                return value
        return remote

    # --- WebSocket ---------------------------------------------------------------------------------
    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=8 * 1024 * 1024)
        await ws.prepare(request)
        session = Session(ws, request.path, dict(request.query))
        self.hub.sessions.add(session)
        self.requests.add(
            LoggedRequest(
                RequestLog.now(), "ws", "CONNECT", request.path, request.rel_url.raw_query_string, 101
            )
        )
        try:
            await self.protocol.on_open(session)
            async for msg in ws:
                if msg.type is WSMsgType.BINARY:
                    # Venues whose clients speak binary frames (msgpack) get them as bytes.
                    self.requests.add(
                        LoggedRequest(
                            RequestLog.now(), "ws", "SEND", request.path, detail=repr(msg.data[:500])
                        )
                    )
                    try:
                        await self.protocol.on_binary(session, msg.data)
                    except Exception:  # one bad client message never takes the connection down
                        log.exception("%s: handling a binary frame failed", self.protocol.name)
                    continue
                if msg.type is not WSMsgType.TEXT:
                    continue
                self.requests.add(
                    LoggedRequest(RequestLog.now(), "ws", "SEND", request.path, detail=msg.data[:500])
                )
                try:
                    await self.protocol.on_message(session, msg.data)
                except Exception:  # one bad client message never takes the connection down
                    log.exception("%s: handling %r failed", self.protocol.name, msg.data[:200])
        finally:
            self.hub.drop_session(session)
            await self.protocol.on_close(session)
        return ws

    # --- admin -------------------------------------------------------------------------------------
    async def _admin(self, request: web.Request) -> web.StreamResponse:
        if request.remote not in ("127.0.0.1", "::1"):
            return web.json_response(
                {"error": "the admin endpoints answer loopback clients only"}, status=403
            )
        action = request.match_info["action"]
        body: dict[str, Any] = {}
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return web.json_response({"error": "the body must be a JSON object"}, status=400)
        try:
            return web.json_response(await self._admin_action(action, request.method, body, request.query))
        except ConfigError as exc:
            return web.json_response({"error": str(exc)}, status=400)

    async def _admin_action(
        self, action: str, method: str, body: dict[str, Any], query: Mapping[str, str]
    ) -> Any:
        if action == "status":
            return self.status()
        if action == "faults":
            if method == "POST":
                self.faults.update(body)
            elif method == "DELETE":
                self.faults.clear()
            return self.faults.snapshot()
        if action == "step" and method == "POST":
            return {"position": await self.step(int(body.get("count", 1)), str(body.get("topic", "")))}
        if action == "replay" and method == "POST":
            if "paused" in body:
                self.timeline.set_paused(bool(body["paused"]))
            if body.get("start"):
                self.timeline.start()
            return self.status()
        if action == "close" and method == "POST":
            return {"closed": await self.close_connections()}
        if action == "requests":
            entries = [e.as_dict() for e in self.requests.entries]
            if query.get("clear"):
                self.requests.clear()
            return entries
        if action == "orders":
            return [
                {"orderId": o.order_id, "clientId": o.client_id, "symbol": o.symbol, "side": o.side,
                 "price": None if o.price is None else str(o.price), "qty": str(o.qty),
                 "filled": str(o.filled), "status": o.status.value}
                for o in self.exchange.orders.values()
            ]  # fmt: skip
        raise ConfigError(f"unknown admin action {method} /_admin/{action}")

    def status(self) -> dict[str, Any]:
        tl = self.timeline
        return {
            "venue": self.protocol.name,
            "url": self.url,
            "position": tl.position,
            "events": len(tl.events),
            "started": tl.started,
            "finished": tl.finished.is_set(),
            "paused": tl.paused,
            "pacing": tl.pacing.value,
            "speed": tl.speed,
            "market_time_ns": tl.now_ns,
            "topics": self.hub.topics(),
            "sessions": len(self.hub.sessions),
            "rate_limit_violations": dict(self._limiter.violations),
            "off_grid_rows": self.off_grid_rows,
            "far_levels": self.exchange.far_levels,
            "bad_events": self.bad_events,
        }

    @property
    def limit_violations(self) -> dict[str, int]:
        return dict(self._limiter.violations)
