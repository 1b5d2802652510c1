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
        help="kill switch: cancel every order and close every position of a running node, then halt",
        description="Send the kill switch to a running paper node (its pid is printed when it starts): every "
        "open order is cancelled, every position closed with reduce-only orders inside the price band, and "
        "trading halts. For a backtest use `tradewright backtest CONFIG --flatten-at TIME`.",
    )
    p.add_argument("--pid", type=int, default=None, help="process id of a paper node (signal, no API)")
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
    result = client.post("/risk/flatten/execute", {"confirm_token": preview["confirm_token"], "reason": args.reason})
    print(f"flatten: {result['message']} (command {result['command_id']}); progress: `tradewright status`")
    return 0
