"""`tradewright live CONFIG.toml`: trade a strategy live on a venue, with the state store as its journal."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

__all__ = ["register"]

_EXIT_MEANING = {0: "stopped", 1: "stopped after an error", 3: "stopped: the state store failed"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "live",
        help="trade live on a venue (orders, fills and state committed to the store before acting)",
        description="Run the config's strategy live on its venue (Binance USD-M over its REST and WebSocket "
        "APIs). On start the node rebuilds its orders, positions, balances and strategy state from the store "
        "and reconciles them with the venue; it reconciles again every reconcile.interval_s. The API key and "
        "secret come from the environment variables named in [venue] (never from the file): without them it "
        "refuses to start. SIGTERM/SIGINT cancel every open order and exit 0; a failing store stops new orders, "
        "cancels every order and exits 3.",
    )
    p.add_argument("config", help="path to the live config (TOML); see docs/persistence.md")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import ccxt  # noqa: F401  (the live venue clients are built on it)
    except ModuleNotFoundError:
        from tradewright.core.errors import ConfigError

        raise ConfigError("live trading needs ccxt: install it with  pip install -e '.[live]'") from None
    from tradewright.live.config import load_live_config
    from tradewright.live.crash import CrashHooks
    from tradewright.live.node import LiveNode
    from tradewright.store.sql_store import SqlStateStore
    from tradewright.venues.binance.config import Credentials

    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    config = load_live_config(args.config)
    credentials = Credentials.from_env(config.venue)  # refuses to start, naming the variables, if missing
    hooks = CrashHooks.from_env()
    store = SqlStateStore(config.store)
    try:
        services: list[Any] = []
        if config.api.enabled:
            from tradewright.api.server import api_service

            def ready(server: Any) -> None:
                print(f"dashboard and API: {server.url}", file=sys.stderr, flush=True)

            # The node's own store keeps the API's keys, accounts and audit unless [api] names another.
            services.append(api_service(config.api, store=None if config.api.store_url else store, on_ready=ready))
        node = LiveNode(config, credentials, store, hooks=hooks, services=services)

        async def main() -> int:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            try:
                return await node.run(stop)
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)

        code = asyncio.run(main())
    finally:
        store.close()
    summary = f"live: {_EXIT_MEANING.get(code, 'stopped')} ({node.stop_reason or 'no reason given'})"
    print(summary, file=sys.stderr)
    return code
