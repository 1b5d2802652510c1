"""WebSocket faces: market streams (raw ``/ws`` and combined ``/stream``), listen-key user streams and
the WebSocket API (``/ws-api/v3`` spot, ``/ws-fapi/v1`` USD-M).

Market connections answer ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS``/``SET_PROPERTY``/
``GET_PROPERTY`` with ``{"result": ..., "id": ...}`` and errors with ``{"error": {"code", "msg"}, "id"}``.
WebSocket API answers are ``{"id", "status", "result" | "error", "rateLimits"}``; user data subscribed
there arrives as ``{"subscriptionId": n, "event": {...}}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tradewright.emulator.appkey import SERVER_KEY
from tradewright.emulator.auth import ws_payload
from tradewright.emulator.errors import BinanceError
from tradewright.emulator.grammar import json_value
from tradewright.emulator.routes import Security
from tradewright.emulator.streams import Conn

if TYPE_CHECKING:
    from tradewright.emulator.server import EmulatorServer

__all__ = ["market_ws", "ws_api"]

log = logging.getLogger(__name__)
_METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"


async def _serve(conn: Conn, server: EmulatorServer, request: web.Request, on_text: Any) -> None:
    writer = asyncio.create_task(conn.run_writer())
    server.connections.add(conn)
    try:
        async for msg in conn.ws:
            if msg.type == WSMsgType.TEXT:
                await on_text(msg.data)
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        server.connections.discard(conn)
        server.market_hub.unsubscribe(conn)
        server.user_hub.detach(conn)
        conn.finish()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        if conn.closing is not None:  # let the close handshake finish before the handler returns
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(conn.closing, 5)


def _streams_of(request: web.Request) -> list[str]:
    names: list[str] = []
    if "streams" in request.query:
        names += [n for n in request.query["streams"].split("/") if n]
    tail = request.match_info.get("tail", "")
    if tail:
        names += [n for n in tail.split("/") if n]
    if "listenKey" in request.query:
        names.append(request.query["listenKey"])
    return names


def _attach(server: EmulatorServer, conn: Conn, names: list[str]) -> None:
    market: list[str] = []
    for name in names:
        owner = server.exchange.listen_keys.get(name)
        if owner is not None:
            server.user_hub.attach_listen_key(conn, owner[0], name, conn.combined)
        elif "@" in name:
            market.append(name)
    server.market_hub.subscribe(conn, market)


async def market_ws(request: web.Request) -> web.WebSocketResponse:
    server: EmulatorServer = request.app[SERVER_KEY]
    ws = web.WebSocketResponse(heartbeat=server.ws_heartbeat_s)
    await ws.prepare(request)
    conn = Conn(ws, "market", server.faults, combined="/stream" in request.path)
    _attach(server, conn, _streams_of(request))

    async def on_text(text: str) -> None:
        _market_request(server, conn, text)

    await _serve(conn, server, request, on_text)
    return ws


def _market_request(server: EmulatorServer, conn: Conn, text: str) -> None:
    try:
        msg = json_value(text)
    except ValueError as exc:
        conn.send_json({"error": {"code": 3, "msg": f"Invalid JSON: {exc}"}, "id": None}, data=False)
        return
    if not isinstance(msg, dict):
        conn.send_json(
            {"error": {"code": 2, "msg": "Invalid request: expected an object"}, "id": None}, data=False
        )
        return
    req_id = msg.get("id")
    method = msg.get("method")
    params = msg.get("params", [])

    def error(text: str) -> None:
        conn.send_json({"error": {"code": 2, "msg": f"Invalid request: {text}"}, "id": req_id}, data=False)

    if method is None:
        return error("missing field `method`")
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return error("property name must be a string")
        if method == "SUBSCRIBE":
            _attach(server, conn, params)
        else:
            server.market_hub.unsubscribe(conn, params)
        result: Any = None
    elif method == "LIST_SUBSCRIPTIONS":
        result = sorted(conn.subs.values()) + sorted(conn.listen_keys)
    elif method == "SET_PROPERTY":
        if not (isinstance(params, list) and len(params) == 2 and params[0] == "combined"):
            conn.send_json({"error": {"code": 0, "msg": "Unknown property"}, "id": req_id}, data=False)
            return None
        if not isinstance(params[1], bool):
            conn.send_json(
                {"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": req_id},
                data=False,
            )
            return None
        conn.combined = params[1]
        result = None
    elif method == "GET_PROPERTY":
        result = conn.combined
    else:
        return error(f"unknown variant `{method}`, expected one of {_METHODS}")
    conn.send_json({"result": result, "id": req_id}, data=False)
    return None


async def ws_api(request: web.Request) -> web.WebSocketResponse:
    server: EmulatorServer = request.app[SERVER_KEY]
    ws = web.WebSocketResponse(heartbeat=server.ws_heartbeat_s)
    await ws.prepare(request)
    conn = Conn(ws, "api", server.faults)
    session: dict[str, Any] = {"key": None, "next_sub": 0}

    async def on_text(text: str) -> None:
        await _api_request(server, conn, session, text)

    await _serve(conn, server, request, on_text)
    return ws


async def _api_request(server: EmulatorServer, conn: Conn, session: dict[str, Any], text: str) -> None:
    limiter = server.limiter
    try:
        msg = json_value(text)
        if not isinstance(msg, dict):
            raise ValueError("not an object")
    except ValueError:
        body = {"id": None, "status": 400, "error": {"code": -1102, "msg": "Malformed request."}}
        conn.send_json(body | {"rateLimits": limiter.ws_rate_limits()}, data=False)
        return
    req_id = msg.get("id")
    method = str(msg.get("method", ""))
    params = msg.get("params") or {}
    errors = server.exchange.errors
    try:
        if not isinstance(params, dict):
            raise errors.invalid_value("params")
        server.catch_up()
        failure = server.faults.http_failure()
        if failure is not None and not failure[1]:
            raise errors.server_error(failure[0])
        result = await _api_call(server, conn, session, method, params)
        if failure is not None:
            raise errors.server_error(failure[0])
        reply: dict[str, Any] = {"id": req_id, "status": 200, "result": result}
    except BinanceError as exc:
        reply = {"id": req_id, "status": exc.status, "error": exc.body()}
    except Exception:  # a request boundary: log it, answer as Binance does for internal errors
        log.exception("emulator: WebSocket API %s failed", method)
        reply = {"id": req_id, "status": 500, "error": errors.unknown_error().body()}
    conn.send_json(reply | {"rateLimits": limiter.ws_rate_limits()}, data=False)


async def _api_call(
    server: EmulatorServer, conn: Conn, session: dict[str, Any], method: str, params: dict[str, Any]
) -> Any:
    signer = server.signer
    if method in ("userDataStream.subscribe.signature", "session.logon"):
        server.limiter.charge(2)
        payload, signature = ws_payload(params)
        signed_key = signer.check(params.get("apiKey"), payload, signature, params)
        if method == "session.logon":
            session["key"] = signed_key
            return {"apiKey": signed_key, "authorizedSince": server.wall_ms(), "serverTime": server.wall_ms()}
        return _subscribe_user(server, conn, session, signed_key)
    if method == "userDataStream.subscribe":
        if session["key"] is None:
            raise BinanceError(-1002, "You are not authorized to execute this request.", 401)
        return _subscribe_user(server, conn, session, session["key"])
    if method == "userDataStream.unsubscribe":
        sub = params.get("subscriptionId")
        if sub is not None and not isinstance(sub, int):
            raise server.exchange.errors.invalid_value("subscriptionId")
        server.user_hub.detach(conn, sub)
        return {}
    route = server.ws_routes.get(method)
    if route is None:
        raise BinanceError(-1020, f"Unknown method: {method}")
    server.limiter.charge(route.weight(params))
    key: str | None = None
    if route.security is Security.SIGNED:
        if session["key"] is not None and "signature" not in params:
            key = session["key"]  # a logged-on session signs nothing more
        else:
            payload, signature = ws_payload(params)
            key = signer.check(params.get("apiKey"), payload, signature, params)
    elif route.security is Security.API_KEY:
        key = signer.check_key(params.get("apiKey") or session["key"])
    if route.is_order:
        server.limiter.charge_order()
    return await route.handler(key, params)


def _subscribe_user(server: EmulatorServer, conn: Conn, session: dict[str, Any], key: str) -> dict[str, int]:
    sub_id = int(session["next_sub"])
    session["next_sub"] = sub_id + 1
    server.user_hub.attach_wsapi(conn, key, sub_id)
    return {"subscriptionId": sub_id}
