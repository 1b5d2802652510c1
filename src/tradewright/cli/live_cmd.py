"""`tradewright live CONFIG.toml`: trade a strategy live on a venue, with the state store as its journal."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
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
        "APIs; with a [broker] table, Interactive Brokers or Alpaca: docs/futures.md). On start the node rebuilds its orders, positions, balances and strategy state from the store "
        "and reconciles them with the venue; it reconciles again every reconcile.interval_s. The API key and "
        "secret come from the environment variables named in [venue] (never from the file): without them it "
        "refuses to start. SIGTERM/SIGINT cancel every open order (with risk.close_positions_on_sigterm, also "
        "close the position) and exit 0; `tradewright flatten --pid PID` cancels every order, closes the "
        "position and exits 0 with the reason; a failing store stops new orders, cancels every order and exits 3. "
        "A status line (position, PnL, open orders, trading state, last fill) is drawn on a terminal, or logged "
        "every --status-every seconds when stderr is a pipe; fills are logged.",
    )
    p.add_argument("config", help="path to the live config (TOML); see docs/persistence.md")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument(
        "--status-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="when stderr is not a terminal, log a status line this often (default 30)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="with a [venues] config: connect (read-only), build every strategy, feed them live books and "
        "print what they would send; send nothing, write nothing to the store",
    )
    p.add_argument(
        "--dry-run-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="how long a dry run listens (default 5)",
    )
    p.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="json: one JSON object a log line, with strategy/order/venue ids as keys",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.live.broker_config import is_broker_config

    if is_broker_config(args.config):  # a `[broker]` table: Interactive Brokers or Alpaca
        from tradewright.cli.broker_cmd import run_broker

        return run_broker(args)
    try:
        import ccxt  # noqa: F401  (the live venue clients are built on it)
    except ModuleNotFoundError:
        from tradewright.core.errors import ConfigError

        raise ConfigError("live trading needs ccxt: install it with  pip install -e '.[live]'") from None
    from rich.console import Console

    from tradewright.cli._status import StatusDisplay
    from tradewright.core.errors import ConfigError
    from tradewright.live.config import load_live_config
    from tradewright.live.control import ControlFile
    from tradewright.live.crash import CrashHooks
    from tradewright.live.node import LiveNode
    from tradewright.store.sql_store import SqlStateStore
    from tradewright.venues.binance.config import Credentials

    if args.status_every <= 0:
        raise ConfigError(f"--status-every must be > 0, got {args.status_every}")
    err = Console(stderr=True)
    handler: logging.Handler = _ConsoleHandler(err)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if getattr(args, "log_format", "text") == "json":
        from tradewright.core.jsonlog import JsonFormatter

        handler = logging.StreamHandler(sys.stderr)  # one object a line: no terminal status line
        handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=getattr(logging, args.log_level), handlers=[handler])
    from tradewright.live.multi_config import is_multi_config

    if is_multi_config(args.config):  # [venues.<name>] tables: several venues and strategies in one node
        from tradewright.cli.multi_cmd import run_multi

        return run_multi(args)
    if getattr(args, "dry_run", False):
        raise ConfigError("--dry-run needs a config with [venues.<name>] tables (see docs/operations.md)")
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
            services.append(
                api_service(config.api, store=None if config.api.store_url else store, on_ready=ready)
            )
        with StatusDisplay(err, every_s=args.status_every) as status:
            node = LiveNode(config, credentials, store, hooks=hooks, status=status, services=services)

            async def main() -> int:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                with ControlFile("live", config.node.name) as control:
                    control.install(loop, node.flatten_requests.append)
                    logging.getLogger("tradewright.live").info(
                        "node %s: pid %d — `tradewright flatten --pid %d` to flatten and stop",
                        config.node.name,
                        os.getpid(),
                        os.getpid(),
                    )
                    try:
                        return await node.run(stop)
                    finally:
                        control.uninstall(loop)
                        for sig in (signal.SIGINT, signal.SIGTERM):
                            loop.remove_signal_handler(sig)

            code = asyncio.run(main())
    finally:
        store.close()
    if node.tracker is not None:
        node.tracker.report(node.events)  # the state it stopped in, for the last status line below
    summary = f"live: {_EXIT_MEANING.get(code, 'stopped')} ({node.stop_reason or 'no reason given'})"
    print(summary, file=sys.stderr)
    for sid, why in node.failures.reasons.items():
        print(f"live: strategy {sid} {why}", file=sys.stderr)
    if status.last is not None:
        print(f"live: last status: {status.last.text()}", file=sys.stderr)
    return code


class _ConsoleHandler(logging.Handler):
    """Log records printed through the console, so they appear above the live status line."""

    def __init__(self, console: Any) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.print(self.format(record), markup=False, highlight=False, soft_wrap=True)
        except Exception:  # a log line must never take the node down
            self.handleError(record)
