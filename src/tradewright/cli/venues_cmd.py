"""`tradewright venues serve`: a local wire-format venue server replaying a real recording on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

__all__ = ["register"]

_SECRET_ENV = "TRADEWRIGHT_SERVER_SECRET"
_PASSPHRASE_ENV = "TRADEWRIGHT_SERVER_PASSPHRASE"


def register(subparsers: Any) -> None:
    from tradewright.servers.registry import SERVER_VENUES

    p = subparsers.add_parser(
        "venues",
        help="local servers speaking OKX, Kraken, Bitget, Gate, Bybit, Polymarket and Turbine wire formats",
    )
    sub = p.add_subparsers(dest="venues_command", metavar="COMMAND")
    s = sub.add_parser(
        "serve",
        help="replay a venue's recording over its own REST and WebSocket API on 127.0.0.1",
        description="Serve a venue's real recording on 127.0.0.1 in the venue's own wire format (what CCXT "
        "speaks), with a stateful, signature-checking private side that matches orders against the replayed "
        "book, fault injection and a loopback admin endpoint (/_admin/...). See docs/venues.md.",
    )
    s.add_argument("--venue", required=True, choices=SERVER_VENUES)
    s.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="RECORDING_OR_DIR",
        help="recording file(s) or folder (every venue but turbine)",
    )
    s.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port, printed)"
    )
    s.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="replay speed for --pacing recorded (10 = ten times real time)",
    )
    s.add_argument(
        "--pacing", choices=["recorded", "fast", "step"], default="recorded", help="how the market plays"
    )
    s.add_argument(
        "--start",
        choices=["subscribe", "now"],
        default="subscribe",
        help="start the market at the first subscription, or now",
    )
    s.add_argument(
        "--fault",
        action="append",
        metavar="NAME=VALUE",
        help="a fault for the run (e.g. corrupt=1, drop=1, http_429=3)",
    )
    s.add_argument("--balance", action="append", metavar="CCY=AMOUNT", help="starting balance of the account")
    s.add_argument(
        "--api-key",
        help=f"the account's API key (its secret from ${_SECRET_ENV}, passphrase from ${_PASSPHRASE_ENV})",
    )
    s.add_argument("--json", action="store_true", help="print the listening line as JSON")
    s.set_defaults(func=serve)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    from tradewright.core.errors import ConfigError

    out: dict[str, str] = {}
    for item in items or []:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise ConfigError(f"{what} must look like NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _options(args: argparse.Namespace) -> Any:
    from tradewright.core.errors import ConfigError
    from tradewright.servers._core import AccountSpec, Faults, Pacing, ServerOptions

    faults = Faults()
    faults.update(_pairs(args.fault, "--fault"))
    try:
        balances = {k: Decimal(v) for k, v in _pairs(args.balance, "--balance").items()}
    except InvalidOperation:
        raise ConfigError("--balance amounts must be numbers") from None
    accounts: tuple[AccountSpec, ...] = ()
    if args.api_key:
        secret = os.environ.get(_SECRET_ENV, "")
        if not secret:
            raise ConfigError(
                f"--api-key needs its secret in ${_SECRET_ENV} (secrets are read from the environment only)"
            )
        accounts = (AccountSpec(args.api_key, secret, os.environ.get(_PASSPHRASE_ENV, ""), balances),)
    elif balances:
        raise ConfigError("--balance applies to an account given with --api-key")
    if args.speed <= 0:
        raise ConfigError("--speed must be > 0")
    return ServerOptions(port=args.port, pacing=Pacing(args.pacing), speed=args.speed, start_on=args.start,
                         faults=faults.settings, accounts=accounts)  # fmt: skip


def serve(args: argparse.Namespace) -> int:
    from tradewright.servers._core import ReplayServer
    from tradewright.servers.registry import build_protocol

    protocol = build_protocol(args.venue, [Path(p) for p in args.data])
    server = ReplayServer(protocol, _options(args))

    async def main() -> None:
        await server.start()
        keys = sorted(server.exchange.accounts)
        line = {
            "venue": args.venue,
            "url": server.url,
            "ws_url": server.ws_url,
            "port": server.port,
            "accounts": keys,
        }
        print(
            json.dumps(line)
            if args.json
            else f"{args.venue} local server on {server.url} (WebSocket {server.ws_url}); accounts: {', '.join(keys)}",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(main())
    return 0
