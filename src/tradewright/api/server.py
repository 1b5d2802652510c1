"""Serve the API inside the node's own event loop (uvicorn), as a `NodeService`.

`api_service(config)` is what the CLI hands a paper or live node when `[api] enabled = true`. Before
anything listens, `check_bind` refuses a non-loopback address unless the API is reached over TLS
(`tls_certfile`/`tls_keyfile`, or `behind_tls_proxy`) and at least one operator account or API key
exists (accounts have non-default passwords by construction: `tradewright api user add` refuses weak ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import uvicorn

from tradewright.api.app import create_app
from tradewright.config.api import ApiConfig
from tradewright.core.errors import ConfigError
from tradewright.live.operator import NodeService, OperatorPort
from tradewright.store import CredentialStore, SqlStateStore, StoreConfig, default_url

__all__ = ["ApiServer", "api_service", "check_bind"]

log = logging.getLogger("tradewright.api")


def check_bind(config: ApiConfig, store: CredentialStore) -> None:
    """Refuse to listen beyond this machine without TLS and real credentials (ConfigError says why)."""
    if config.loopback:
        return
    if not config.tls:
        raise ConfigError(
            f"api.host = {config.host!r} is not a loopback address and TLS is off: set api.tls_certfile and "
            "api.tls_keyfile (or api.behind_tls_proxy = true behind a TLS-terminating proxy), or bind "
            "127.0.0.1 and reach the node through an SSH tunnel or a VPN"
        )
    if not store.users() and not [k for k in store.api_keys() if k.revoked_ns is None]:
        raise ConfigError(
            f"api.host = {config.host!r} is reachable from the network but no operator account or API key "
            "exists: create one with `tradewright api user add` or `tradewright api key create` first"
        )


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handling: the node owns SIGINT/SIGTERM and stops the server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """A running API server; `url` is where it listens (the port is known once it started)."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], config: ApiConfig) -> None:
        self._server = server
        self._task = task
        scheme = "https" if config.tls_certfile else "http"
        sockets = [s for srv in (server.servers or []) for s in srv.sockets]
        self.port = sockets[0].getsockname()[1] if sockets else config.port
        host = config.host if ":" not in config.host else f"[{config.host}]"
        self.url = f"{scheme}://{host}:{self.port}/"

    async def stop(self) -> None:
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, timeout=5)


async def start_server(operator: OperatorPort, store: CredentialStore, config: ApiConfig) -> ApiServer:
    """Check the bind, build the app and start serving it on the running loop."""
    check_bind(config, store)
    app = create_app(operator, store, config)
    uv_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        ssl_certfile=config.tls_certfile or None,
        ssl_keyfile=config.tls_keyfile or None,
        proxy_headers=config.behind_tls_proxy,
        ws_ping_interval=20.0,
    )
    server = _EmbeddedServer(uv_config)
    task = asyncio.create_task(server.serve(), name="api-server")
    while not server.started:
        if task.done():
            error = task.exception()
            raise ConfigError(f"the API could not listen on {config.host}:{config.port}: {error!r}")
        await asyncio.sleep(0.01)
    return ApiServer(server, task, config)


def api_service(
    config: ApiConfig,
    *,
    store: CredentialStore | None = None,
    on_ready: Callable[[ApiServer], None] | None = None,
) -> NodeService:
    """The API as a node service. `store` holds keys, accounts and the audit: by default the store at
    `api.store_url` (or $TRADEWRIGHT_STORE_URL / the default SQLite file)."""

    @contextlib.asynccontextmanager
    async def service(operator: OperatorPort) -> AsyncIterator[Any]:
        own = store is None
        creds: CredentialStore = store if store is not None else SqlStateStore(
            StoreConfig(url=config.store_url or default_url())
        )
        try:
            if config.tracing:
                operator.enable_tracing()
            server = await start_server(operator, creds, config)
            log.info("API and dashboard at %s", server.url)
            if on_ready is not None:
                on_ready(server)
            try:
                yield server
            finally:
                await server.stop()
        finally:
            if own:
                creds.close()

    return service
