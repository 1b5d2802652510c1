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
        description="Send the kill switch to a running paper or live node: every open order is cancelled, every "
        "position closed with reduce-only orders inside the price band, and trading halts. With --pid (printed "
        "when the node starts) the request goes through the node's control file (a pid that is not a running "
        "tradewright node is refused and not signalled; a live node then exits 0); without it, through the "
        "node's API in two steps (preview, confirm). For a backtest use `tradewright backtest CONFIG "
        "--flatten-at TIME`.",
    )
    p.add_argument(
        "--pid", type=int, default=None, help="process id of the paper or live node (its control file)"
    )
    p.add_argument("--reason", default="operator: tradewright flatten", help="recorded with the kill switch")
    p.add_argument(
        "--url",
        default=None,
        help="without --pid: the node's API (default $TRADEWRIGHT_API_URL or http://127.0.0.1:8080; key in "
        "$TRADEWRIGHT_API_KEY) — prepare, show what will be cancelled and closed, confirm, execute",
    )
    p.add_argument("--yes", action="store_true", help="with the API: do not ask to type FLATTEN first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.pid is None:
        return _through_api(args)
    from tradewright.live.control import request_flatten

    record = request_flatten(args.pid, args.reason)
    print(
        f"flatten requested from the {record.get('mode', '')} node {record.get('name', '')!r} (pid {args.pid}): {args.reason}"
    )
    return 0


def _through_api(args: argparse.Namespace) -> int:
    """The two-step kill switch through a node's API: prepare (preview + token), confirm, execute."""
    import sys

    from tradewright.cli.node_client import NodeClient
    from tradewright.core.errors import TradewrightError

    client = NodeClient(args.url)
    preview = client.post("/risk/flatten/prepare")
    positions = ", ".join(f"{p['instrument_id']} {p['quantity']}" for p in preview["positions"]) or "none"
    print(
        f"flatten {preview['mode'].upper()} node: cancel {preview['orders_to_cancel']} open orders, close "
        f"positions: {positions}, then HALT"
    )
    if not args.yes:
        if not sys.stdin.isatty():
            raise TradewrightError("no terminal to confirm on: pass --yes to flatten without asking")
        if input("type FLATTEN to confirm: ").strip() != "FLATTEN":
            print("not confirmed: nothing done")
            return 1
    result = client.post(
        "/risk/flatten/execute", {"confirm_token": preview["confirm_token"], "reason": args.reason}
    )
    print(f"flatten: {result['message']} (command {result['command_id']}); progress: `tradewright status`")
    return 0
