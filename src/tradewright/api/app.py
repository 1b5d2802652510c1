"""The FastAPI application: `/api/v1` (REST + WebSocket), `/metrics`, and the dashboard at `/`.

Every request is logged with its caller's key id or user name (never a credential), method, path,
status and duration. CORS is off unless `api.cors_origins` lists exact origins; a state-changing
request whose Origin is neither this server nor listed is refused (403) whatever CORS says.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradewright import __version__
from tradewright.api import routes_auth, routes_commands, routes_read, ws
from tradewright.api.auth import Authenticator, LoginLimiter, RateLimits
from tradewright.api.deps import ApiProblem, ApiState, read
from tradewright.api.metrics import registry_for
from tradewright.config.api import ApiConfig
from tradewright.dashboard import STATIC_DIR, VENDOR_DIR
from tradewright.live.operator import OperatorPort
from tradewright.store import CredentialStore

__all__ = ["create_app"]

access_log = logging.getLogger("tradewright.api.access")
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(operator: OperatorPort, store: CredentialStore, config: ApiConfig) -> FastAPI:
    """Build the app for one node."""
    app = FastAPI(
        title="tradewright node API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs" if config.openapi_docs else None,
        redoc_url=None,
    )
    state = ApiState(
        operator=operator,
        store=store,
        config=config,
        auth=Authenticator(store, config),
        limits=RateLimits(config),
        logins=LoginLimiter(config),
    )
    app.state.api = state
    registry = registry_for(state)

    @app.exception_handler(ApiProblem)
    async def problem(request: Request, exc: ApiProblem) -> Response:
        return exc.response()

    app.include_router(routes_read.router, prefix="/api/v1")
    app.include_router(routes_commands.router, prefix="/api/v1")
    app.include_router(routes_auth.router, prefix="/api/v1")
    app.include_router(ws.router, prefix="/api/v1")

    metrics_role = "metrics" if config.metrics_auth else None

    if metrics_role is None:

        @app.get("/metrics", include_in_schema=False)
        async def metrics_open() -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    else:

        @app.get("/metrics", tags=["system"], summary="Prometheus metrics (any role)")
        async def metrics(who: Any = read("metrics")) -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/vendor", StaticFiles(directory=VENDOR_DIR), name="vendor")
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(OriginGuard, allowed=list(config.cors_origins))
    app.add_middleware(AccessLog, hsts=config.tls)
    return app


class OriginGuard:
    """Refuse a state-changing request from a foreign page (Origin neither ours nor allowlisted)."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in _SAFE:
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            if origin is not None:
                text = origin.decode("latin-1")
                host = headers.get(b"host", b"").decode("latin-1")
                if text not in self.allowed and urlsplit(text).netloc != host:
                    response = JSONResponse(
                        {"title": "Forbidden", "status": 403, "detail": f"origin {text} is not allowed"},
                        status_code=403,
                        media_type="application/problem+json",
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class AccessLog:
    """One log line per request: caller (key id / user), method, path, status, milliseconds."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"x-frame-options", b"DENY"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            principal = getattr(scope.get("state", {}).get("principal"), "actor", None) if isinstance(
                scope.get("state"), dict) else None
            client = scope.get("client") or ("?", 0)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d %.1fms caller=%s client=%s",
                    scope["method"],
                    scope["path"],
                    status[0],
                    (time.perf_counter() - started) * 1e3,
                    principal or "-",
                    client[0],
                )
