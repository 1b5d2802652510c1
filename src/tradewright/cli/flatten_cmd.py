"""`tradewright flatten --pid PID`: fire the kill switch of a running node — cancel every order, close
every position, halt trading.

Only a tradewright node is ever signalled: a paper or live node writes a control file when it starts
(pid, a random nonce, the process' start time); this command refuses a pid without one, or whose
process is no longer the one that wrote it, and otherwise leaves the reason (with the nonce) for the
node and sends it SIGUSR1 (`tradewright.live.control`). A paper node fires `Kernel.flatten_all` and
keeps running, halted; a live node fires it, waits until it is flat with no order left, and exits 0
with the reason recorded. In a backtest, use `tradewright backtest CONFIG --flatten-at TIME`.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "flatten",
        help="kill switch: cancel every order and close every position of a running paper or live node",
        description="Send the kill switch to a running paper or live node (its pid is printed when it starts): "
        "every open order is cancelled, every position closed with reduce-only orders inside the price band, "
        "and trading halts; a live node then exits 0. A pid that is not a running tradewright node is refused "
        "and not signalled. For a backtest use `tradewright backtest CONFIG --flatten-at TIME`.",
    )
    p.add_argument("--pid", type=int, required=True, help="process id of the paper or live node")
    p.add_argument("--reason", default="operator: tradewright flatten", help="recorded with the kill switch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.live.control import request_flatten

    record = request_flatten(args.pid, args.reason)
    print(
        f"flatten requested from the {record.get('mode', '')} node {record.get('name', '')!r} (pid {args.pid}): {args.reason}"
    )
    return 0
