"""REST face (Binance's paths and envelopes) and the loopback-only admin endpoints under ``/_admin``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from tradewright.core.errors import ConfigError
from tradewright.emulator.appkey import SERVER_KEY
from tradewright.emulator.auth import rest_total_params
from tradewright.emulator.errors import BinanceError
from tradewright.emulator.grammar import json_value
from tradewright.emulator.http_guard import read_body
from tradewright.emulator.routes import Security

if TYPE_CHECKING:
    from tradewright.emulator.server import EmulatorServer

__all__ = ["admin_routes", "rest_handler"]

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_JSON = "application/json"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=_encode(body), status=status, content_type=_JSON, headers=headers)


def _params(raw_query: str, raw_body: str) -> dict[str, str]:
    """The request's parameters (query, then form body); a name sent twice is refused, as Binance does
    (`dict` would keep the last: a signed ``quantity=0.002&quantity=5`` must not place 5)."""
    pairs = parse_qsl(raw_query, keep_blank_values=True) + parse_qsl(raw_body, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise BinanceError(-1101, "Duplicate values for a parameter detected.")
    return params


async def rest_handler(request: web.Request) -> web.StreamResponse:
    server: EmulatorServer = request.app[SERVER_KEY]
    route = server.rest_routes.get((request.method, request.path))
    if route is None:
        body = {"code": -5000, "msg": f"Path {request.path[:200]}, Method {request.method} is invalid"}
        return _json(body, 404)
    errors = server.exchange.errors
    headers: dict[str, str] = {}
    try:
        raw_query = request.rel_url.raw_query_string
        raw_body = await read_body(request, server.config.header_timeout_s) if request.can_read_body else ""
        params = _params(raw_query, raw_body)
        server.requests.append(f"{request.method} {request.path}")
        server.catch_up()
        if server.faults.throttle():
            raise errors.weight_exceeded(server.limiter.config.weight_per_minute, 60)
        failure = server.faults.http_failure()
        if failure is not None and not failure[1]:
            raise errors.server_error(failure[0])
        headers |= server.limiter.charge(route.weight(params))
        key: str | None = None
        if route.security is Security.SIGNED:
            payload, signature = rest_total_params(raw_query, raw_body)
            key = server.signer.check(request.headers.get("X-MBX-APIKEY"), payload, signature, params)
        elif route.security is Security.API_KEY:
            key = server.signer.check_key(request.headers.get("X-MBX-APIKEY"))
        if route.is_order:
            headers |= server.limiter.charge_order()
        result = await route.handler(key, params)
        if failure is not None:  # executed, but the client is told the status is unknown
            raise errors.server_error(failure[0])
        return _json(result, 200, headers)
    except BinanceError as exc:
        headers |= server.limiter.headers()
        if exc.retry_after_s is not None:
            headers["Retry-After"] = str(exc.retry_after_s)
        return _json(exc.body(), exc.status, headers)
    except Exception:  # a request boundary: log it, answer as Binance does for internal errors
        log.exception("emulator: %s %s failed", request.method, request.path)
        return _json(errors.unknown_error().body(), 500, headers)


# --- admin ---------------------------------------------------------------------------------------------
def _loopback_only(request: web.Request) -> None:
    if request.remote not in ("127.0.0.1", "::1"):
        raise web.HTTPForbidden(text="the admin endpoints answer loopback clients only")


async def _admin_body(request: web.Request) -> Any:
    """The admin request's JSON body, or None when it is not JSON (too large, not UTF-8, nested too deep)."""
    server: EmulatorServer = request.app[SERVER_KEY]
    try:
        return json_value(await read_body(request, server.config.header_timeout_s) or "{}")
    except (BinanceError, ValueError):
        return None


async def _status(request: web.Request) -> web.Response:
    _loopback_only(request)
    server: EmulatorServer = request.app[SERVER_KEY]
    return _json(server.status())


async def _faults_get(request: web.Request) -> web.Response:
    _loopback_only(request)
    server: EmulatorServer = request.app[SERVER_KEY]
    return _json({"settings": msgspec.to_builtins(server.faults.settings), "fired": server.faults.fired})


async def _faults_post(request: web.Request) -> web.Response:
    _loopback_only(request)
    server: EmulatorServer = request.app[SERVER_KEY]
    body = await _admin_body(request)
    if not isinstance(body, dict):
        return _json({"error": "the body must be a JSON object"}, 400)
    close = body.pop("close_ws", None)
    try:
        settings = server.faults.update(body)
    except ConfigError as exc:
        return _json({"error": str(exc)}, 400)
    closed = 0
    if close:
        closed = server.close_websockets(None if close is True else str(close))
    return _json({"settings": msgspec.to_builtins(settings), "closed": closed})


async def _faults_delete(request: web.Request) -> web.Response:
    _loopback_only(request)
    server: EmulatorServer = request.app[SERVER_KEY]
    server.faults.clear()
    return _json({"settings": msgspec.to_builtins(server.faults.settings)})


async def _order(request: web.Request) -> web.Response:
    _loopback_only(request)
    server: EmulatorServer = request.app[SERVER_KEY]
    try:
        order_id = int(request.match_info["order_id"])
    except ValueError:
        return _json({"error": "order id must be an integer"}, 400)
    info = server.order_info(order_id)
    return _json(info, 200 if info is not None else 404)


async def _replay(request: web.Request) -> web.Response:
    _loopback_only(request)
    server: EmulatorServer = request.app[SERVER_KEY]
    body = await _admin_body(request)
    paused = body.get("paused") if isinstance(body, dict) else None
    if not isinstance(paused, bool):
        return _json({"error": 'send {"paused": true|false}'}, 400)
    server.set_paused(paused)
    return _json(server.status())


def admin_routes() -> list[web.RouteDef]:
    return [
        web.get("/_admin/status", _status),
        web.get("/_admin/faults", _faults_get),
        web.post("/_admin/faults", _faults_post),
        web.delete("/_admin/faults", _faults_delete),
        web.get("/_admin/orders/{order_id}", _order),
        web.post("/_admin/replay", _replay),
    ]
