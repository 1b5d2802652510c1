"""`GET /api/v1/ws`: one WebSocket for every channel (protocol in `tradewright.live.operator_events`).

Client -> server: `{"op": "subscribe", "channels": [...]}`, `{"op": "unsubscribe", "channels": [...]}`,
`{"op": "ping"}`. Server -> client: a `snapshot` per subscribed channel, then numbered deltas;
`{"type": "pong"}`, `{"type": "heartbeat"}` every 10 s, `{"type": "error", "message": ...}`.

The Origin header must be this server's own or an allowed CORS origin (CORS does not cover WebSockets).
Credentials: `?ticket=` (one-time, from `POST /auth/ws-ticket`; what the dashboard uses) or an
`Authorization: Bearer` header (programs). A client too slow for its queue is closed with code 1013.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from tradewright.api.auth import Principal
from tradewright.api.deps import ApiState
from tradewright.live.operator import OperatorError
from tradewright.live.operator_events import Subscription

__all__ = ["origin_allowed", "router"]

log = logging.getLogger("tradewright.api.ws")
router = APIRouter()
_HEARTBEAT_S = 10.0
_MAX_MESSAGE = 4096
_clients: dict[int, int] = {}


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """True when there is no Origin (not a browser), it is this server's own, or it is allowlisted."""
    if origin is None:
        return True
    if origin in allowed:
        return True
    netloc = urlsplit(origin).netloc
    return host is not None and netloc == host


@router.websocket("/ws")
async def websocket(ws: WebSocket) -> None:
    state: ApiState = ws.app.state.api
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"), state.config.cors_origins):
        log.warning("WebSocket refused: origin %s not allowed", ws.headers.get("origin"))
        await ws.close(code=1008)
        return
    principal = await _principal(ws, state)
    if principal is None:
        await ws.close(code=1008)
        return
    app_key = id(ws.app)
    if _clients.get(app_key, 0) >= state.config.ws_max_clients:
        await ws.close(code=1013)
        return
    await ws.accept()
    _clients[app_key] = _clients.get(app_key, 0) + 1
    log.info("WebSocket opened by %s", principal.actor)
    holder: list[Subscription] = []
    writer = asyncio.create_task(_write(ws, holder))
    try:
        await _read(ws, state, holder)
    except WebSocketDisconnect:
        pass
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        for sub in holder:
            state.operator.unsubscribe(sub)
        _clients[app_key] -= 1


async def _principal(ws: WebSocket, state: ApiState) -> Principal | None:
    ticket = ws.query_params.get("ticket")
    if ticket is not None:
        return state.auth.use_ticket(ticket)
    header = ws.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential:
        return None
    principal = await state.auth.principal(credential.strip())
    if principal is None or not principal.can("viewer"):
        return None
    return principal


async def _read(ws: WebSocket, state: ApiState, holder: list[Subscription]) -> None:
    while True:
        text = await ws.receive_text()
        if len(text) > _MAX_MESSAGE:
            await _error(ws, "message too long")
            continue
        try:
            message = json.loads(text)
            op = message.get("op")
            channels = message.get("channels", [])
            if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
                raise ValueError("channels must be a list of names")
        except (ValueError, AttributeError) as exc:
            await _error(ws, f"not a valid message: {exc}")
            continue
        if op == "ping":
            await ws.send_text('{"type":"pong"}')
        elif op == "subscribe":
            try:
                if not holder:
                    holder.append(state.operator.subscribe(channels, state.config.ws_queue_size))
                else:
                    state.operator.add_channels(holder[0], channels)
            except (OperatorError, ValueError) as exc:
                await _error(ws, str(exc))
        elif op == "unsubscribe":
            if holder:
                state.operator.remove_channels(holder[0], channels)
        else:
            await _error(ws, f"unknown op {op!r} (subscribe, unsubscribe, ping)")


async def _write(ws: WebSocket, holder: list[Subscription]) -> None:
    while not holder:
        await asyncio.sleep(0.02)
    sub = holder[0]
    while True:
        try:
            message = await asyncio.wait_for(sub.queue.get(), timeout=_HEARTBEAT_S)
        except TimeoutError:
            if sub.dropped:
                break
            await ws.send_text('{"type":"heartbeat"}')
            continue
        if sub.dropped:
            break
        await ws.send_text(message.decode())
    log.warning("WebSocket client too slow: its queue filled up; closing it (1013)")
    await ws.close(code=1013)


async def _error(ws: WebSocket, message: str) -> None:
    await ws.send_text(json.dumps({"type": "error", "message": message}))
