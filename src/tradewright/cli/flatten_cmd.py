"""`tradewright flatten`: fire the kill switch of a running node — cancel every order, close every
position, halt trading.

Today's running nodes are paper sessions: `tradewright flatten --pid PID --reason TEXT` leaves the reason
where the paper node with that pid looks for it and sends it SIGUSR1; the node calls
`Kernel.flatten_all(reason)` and records it (`FlattenStarted`/`FlattenFinished` in events.jsonl, the
summary's `risk_events`). The live node will expose the same call through its API. In a backtest, use
`tradewright backtest CONFIG --flatten-at TIME`.
"""

from __future__ import annotations

import argparse
import os
import signal
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "flatten",
        help="kill switch: cancel every order and close every position of a running paper node",
        description="Send the kill switch to a running paper node (its pid is printed when it starts): every "
        "open order is cancelled, every position closed with reduce-only orders inside the price band, and "
        "trading halts. For a backtest use `tradewright backtest CONFIG --flatten-at TIME`.",
    )
    p.add_argument("--pid", type=int, required=True, help="process id of the paper node")
    p.add_argument("--reason", default="operator: tradewright flatten", help="recorded with the kill switch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.core.errors import TradewrightError
    from tradewright.live.paper import flatten_request_path

    if args.pid <= 0:
        raise TradewrightError(f"--pid must be a process id > 0, got {args.pid}")
    path = flatten_request_path(args.pid)
    path.write_text(args.reason, encoding="utf-8")
    try:
        os.kill(args.pid, signal.SIGUSR1)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        raise TradewrightError(f"no process with pid {args.pid}") from None
    except PermissionError:
        path.unlink(missing_ok=True)
        raise TradewrightError(f"not allowed to signal pid {args.pid}") from None
    print(f"flatten requested from pid {args.pid}: {args.reason}")
    return 0
