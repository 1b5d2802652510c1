"""`tradewright live CONFIG.toml` for a config with `[venues.<name>]` tables: several venues and
strategies in one node (`tradewright.live.multi`), and its `--dry-run`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from typing import Any

__all__ = ["run_multi"]

_EXIT_MEANING = {0: "stopped", 1: "stopped after an error", 3: "stopped: the state store failed"}


def run_multi(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError
    from tradewright.live.alerts import Alerter
    from tradewright.live.control import ControlFile
    from tradewright.live.multi import MultiNode
    from tradewright.live.multi_config import load_multi_config
    from tradewright.venues.registry import venue_package

    dry_run = bool(getattr(args, "dry_run", False))
    dry_run_s = float(getattr(args, "dry_run_seconds", 5.0))
    if dry_run_s <= 0:
        raise ConfigError(f"--dry-run-seconds must be > 0, got {dry_run_s}")
    config, venues, tasks = load_multi_config(args.config)
    # Every venue's keys, before anything connects: a missing variable refuses to start, naming it.
    credentials = {v.name: venue_package(v.kind).credentials(v.config) for v in venues}
    alerter = Alerter(config.alerts, config.node.name) if config.alerts.enabled else None
    log = logging.getLogger("tradewright.live")
    store: Any = None
    if not dry_run:
        from tradewright.store.sql_store import SqlStateStore

        store = SqlStateStore(config.store)
    last = [0.0]

    def on_status(node: MultiNode) -> None:
        now = time.monotonic()
        if now - last[0] >= args.status_every:
            last[0] = now
            log.info("status: %s", node.status_text())

    try:
        services: list[Any] = []
        if config.api.enabled and not dry_run:
            from tradewright.api.server import api_service

            def ready(server: Any) -> None:
                print(f"dashboard and API: {server.url}", file=sys.stderr, flush=True)

            services.append(
                api_service(config.api, store=None if config.api.store_url else store, on_ready=ready)
            )
        node = MultiNode(
            config,
            venues,
            tasks,
            credentials,
            store,
            alerter=alerter,
            dry_run=dry_run,
            dry_run_s=dry_run_s,
            services=services,
            on_status=on_status,
        )

        async def main() -> int:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            with ControlFile("live", config.node.name) as control:
                control.install(loop, node.flatten_requests.append)
                log.info(
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
        if store is not None:
            store.close()
    if dry_run:
        _print_plan(node)
    print(
        f"live: {_EXIT_MEANING.get(code, 'stopped')} ({node.stop_reason or 'no reason given'})",
        file=sys.stderr,
    )
    for sid, why in node.fence.reasons.items():
        print(f"live: strategy {sid} {why}", file=sys.stderr)
    if alerter is not None and (alerter.failed or alerter.suppressed):
        print(
            f"live: alerts: {len(alerter.sent)} sent, {alerter.failed} failed, "
            f"{sum(alerter.suppressed.values())} over the per-kind limit",
            file=sys.stderr,
        )
    return code


def _print_plan(node: Any) -> None:
    """What a dry run found and what it would have sent (stdout)."""
    from tradewright.risk.budget import BudgetedRiskEngine

    out = sys.stdout
    print("dry run: nothing was sent and nothing was written to the store", file=out)
    for name, venue in node.venues.items():
        stats = venue.market_data.stats
        markets = [
            f"{m.instrument.id} ({stats.of(iid).updates} book updates)"
            for iid, m in node.markets.items()
            if m.venue == name
        ]
        print(f"venue {name} ({venue.venue}): {', '.join(markets)}", file=out)
    shares = node.risk.shares() if isinstance(node.risk, BudgetedRiskEngine) else {}
    for sid, (task, strategy) in node.strategies.items():
        share = shares.get(sid)
        budget = "" if share is None else f" · budget {share:.2f}"
        params = ", ".join(f"{k}={v}" for k, v in sorted(task.params.items()))
        print(f"strategy {sid} on {task.market}: {type(strategy).__name__} ({params}){budget}", file=out)
    intents = node.intents()
    print(f"would send {len(intents)} orders:", file=out)
    for intent in intents[:50]:
        print(f"  {intent.text()}", file=out)
    if len(intents) > 50:
        print(f"  … and {len(intents) - 50} more", file=out)
