"""`tradewright live CONFIG.toml` for a config with a `[broker]` table: a live node on Interactive Brokers
or Alpaca (`tradewright.live.broker.BrokerNode`), until SIGINT/SIGTERM (or a flatten request)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

__all__ = ["run_broker"]


def run_broker(args: argparse.Namespace) -> int:
    from tradewright.live.broker import BrokerNode
    from tradewright.live.broker_config import load_broker_config
    from tradewright.live.control import ControlFile
    from tradewright.store.sql_store import SqlStateStore

    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    config = load_broker_config(args.config)
    venue_config = config.venue_config()
    store = SqlStateStore(config.store)
    log = logging.getLogger("tradewright.live")
    try:
        # Missing credentials stop here, naming the environment variables.
        node = BrokerNode(
            venue_config,
            config.as_run_config(),
            store,
            symbol=config.node.symbol,
            bar_interval_ns=config.node.bar_seconds * 1_000_000_000,
            reconcile=config.reconcile,
            name=config.node.name,
        )

        async def main() -> str:
            stop = asyncio.Event()
            flatten: list[str] = []
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await node.start()  # an unreachable gateway or refused keys stop the start with their reason
            reason = "stop requested (signal)"
            with ControlFile("live", config.node.name) as control:
                control.install(loop, flatten.append)
                log.info(
                    "node %s: pid %d — `tradewright flatten --pid %d` to flatten and stop",
                    config.node.name,
                    os.getpid(),
                    os.getpid(),
                )
                try:
                    while not stop.is_set():
                        if flatten:
                            reason = f"flattened on request: {flatten.pop(0)}"
                            node.flatten(reason, actor="operator:tradewright flatten")
                            await _until_flat(node)
                            break
                        if node.failure is not None:
                            reason = node.failure
                            break
                        await asyncio.sleep(0.1)
                finally:
                    control.uninstall(loop)
                    await node.stop()
            return reason

        reason = asyncio.run(main())
    finally:
        store.close()
    failed = node.failure is not None
    print(f"live: {'stopped after an error' if failed else 'stopped'} ({reason})", file=sys.stderr)
    return 1 if failed else 0


async def _until_flat(node: object) -> None:
    from tradewright.live.broker import BrokerNode

    assert isinstance(node, BrokerNode)
    kernel = node.kernel
    for _ in range(600):
        if not kernel.orders.open_orders() and all(p.quantity == 0 for p in kernel.portfolio.positions):
            return
        await asyncio.sleep(0.05)
