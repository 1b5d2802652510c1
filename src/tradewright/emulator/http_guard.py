"""The HTTP layer under the emulator's routes: every refusal in Binance's JSON envelope, and timeouts.

aiohttp answers requests it cannot even parse (a request line or header beyond its limits, a body above
`client_max_size`, bytes that are not HTTP) with plain text before any route runs. Here those answers
take Binance's shape ``{"code": ..., "msg": ...}`` like every other refusal, and connections that never
finish their request are closed:

* a new connection must deliver a complete request head within `header_timeout_s`;
* a kept-alive connection idle for `idle_timeout_s` is closed (aiohttp's keep-alive timeout);
* a body must arrive within `header_timeout_s` too (`read_body`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from tradewright.emulator.errors import BinanceError

__all__ = ["MAX_BODY_BYTES", "GuardedRunner", "binance_envelope", "read_body", "too_large"]

log = logging.getLogger(__name__)
_REQUEST_LINE = re.compile(rb"/|[A-Z]+ /")  # the C parser quotes the path, the Python one the line
MAX_BODY_BYTES = 64 * 1024  # Binance's bodies are form parameters: a few hundred bytes, batches a few KB


def too_large(what: str) -> BinanceError:
    """The refusal of a request line, header or body beyond the limits (HTTP 414 / 431 / 413)."""
    status = {"request line": 414, "header": 431}.get(what, 413)
    return BinanceError(-1101, "Too many parameters sent for this endpoint.", status)


def malformed_request() -> BinanceError:
    return BinanceError(-1102, "Malformed request.", 400)


def _json_response(error: BinanceError) -> web.Response:
    response = web.Response(
        body=msgspec.json.encode(error.body()), status=error.status, content_type="application/json"
    )
    response.force_close()  # the stream may hold the rest of the bad request: do not read on from it
    return response


@web.middleware
async def binance_envelope(request: web.Request, handler: Any) -> web.StreamResponse:
    """aiohttp's own refusals (no route for a path it cannot match, a WebSocket path without the upgrade
    headers) in Binance's envelope too; the admin endpoints keep theirs."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400 or request.path.startswith("/_admin"):
            raise
        if exc.status in (404, 405):
            error = BinanceError(
                -5000, f"Path {request.path[:200]}, Method {request.method[:20]} is invalid", 404
            )
        elif exc.status == 413:
            error = too_large("body")
        else:
            error = BinanceError(-1102, "Malformed request.", exc.status)
        return _json_response(error)


class _GuardedHandler(RequestHandler):
    """aiohttp's connection handler with JSON error answers and a deadline for the first request head."""

    def __init__(self, manager: Server, *, header_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._head_deadline = asyncio.get_running_loop().call_later(self._header_timeout_s, self._head_due)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        super().connection_lost(exc)

    def _head_due(self) -> None:
        self._head_deadline = None
        if self._request_count == 0:  # not one complete request head in time: a slow or dead client
            log.info(
                "emulator: closing a connection that sent no complete request in %s s", self._header_timeout_s
            )
            self.force_close()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if isinstance(exc, LineTooLong):
            # aiohttp's parser quotes the start of the line that was too long: a request line starts with
            # its method and path, anything else is a header
            line = exc.args[0] if exc.args else b""
            start = line.encode(errors="replace") if isinstance(line, str) else bytes(line)
            error = too_large("request line" if _REQUEST_LINE.match(start) else "header")
        elif status == 500:
            log.error("emulator: a request failed before its route: %r", exc)
            error = BinanceError(-1000, "An unknown error occurred while processing the request.", 500)
        else:
            error = malformed_request()
        if request.writer.output_size > 0:  # part of an answer went out: only closing is left
            raise ConnectionError("the answer had started when the request failed")
        return _json_response(error)


class _GuardedServer(Server):
    header_timeout_s = 10.0

    def __call__(self) -> RequestHandler:
        return _GuardedHandler(self, loop=self._loop, header_timeout_s=self.header_timeout_s, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """An `AppRunner` whose connections answer in Binance's envelope and time out (see the module)."""

    def __init__(self, app: web.Application, *, header_timeout_s: float, idle_timeout_s: float) -> None:
        super().__init__(app, access_log=None, keepalive_timeout=idle_timeout_s)
        self._header_timeout_s = header_timeout_s

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        server.__class__ = _GuardedServer  # same state, our handler factory (aiohttp builds the Server)
        server.header_timeout_s = self._header_timeout_s  # type: ignore[attr-defined]
        return server


async def read_body(request: web.Request, timeout_s: float) -> str:
    """The request's body as text, refusing one that is too large, too slow or not UTF-8."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large("body")

    async def read() -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := await request.content.read(16384):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large("body")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        raw = await asyncio.wait_for(read(), timeout_s)
    except TimeoutError:
        raise BinanceError(-1102, "Malformed request.", 408) from None  # a body that never ends
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise BinanceError(-1100, "Illegal characters found in a parameter.") from None
