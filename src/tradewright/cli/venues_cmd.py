"""`tradewright venues serve --venue V`: a local venue on 127.0.0.1 speaking V's own REST and WebSocket
protocol, for paper trading, rehearsals and integration tests. Each venue has a line in `_SERVERS`
(a builder from the parsed arguments to a not-yet-started server, and what to print about it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["register"]


@dataclass(frozen=True, slots=True)
class _Served:
    build: Callable[[argparse.Namespace], Any]
    describe: Callable[[Any], dict[str, Any]]
    needs_data: bool = True


def _polymarket(args: argparse.Namespace) -> Any:
    from dataclasses import replace
    from decimal import Decimal

    from tradewright.servers._core import Pacing
    from tradewright.servers.polymarket import DEFAULT_WALLET, serve_polymarket

    wallet = replace(
        DEFAULT_WALLET,
        approved=not args.unapproved,
        collateral=Decimal(args.collateral) if args.collateral is not None else DEFAULT_WALLET.collateral,
    )
    return serve_polymarket(
        args.data,
        port=args.port or 0,
        pacing=Pacing(args.pacing or "fast"),
        speed=args.speed or 1.0,
        wallets=[wallet],
    )


def _polymarket_info(server: Any) -> dict[str, Any]:
    from tradewright.servers.polymarket import DEFAULT_WALLET
    from tradewright.servers.polymarket.protocol import TEST_PRIVATE_KEY

    return {
        "clob_url": server.url,
        "gamma_url": server.url + "/gamma",
        "ws_url": server.ws_url,
        "markets": len(server.protocol.clob.markets),
        "replay_messages": len(server.protocol.world.replay),
        # Public test credentials (Hardhat's account #0 and the official HMAC test secret): never real funds.
        "test_wallet": {
            "POLYMARKET_PRIVATE_KEY": TEST_PRIVATE_KEY,
            "POLYMARKET_API_KEY": DEFAULT_WALLET.api_key,
            "POLYMARKET_API_SECRET": DEFAULT_WALLET.secret,
            "POLYMARKET_API_PASSPHRASE": DEFAULT_WALLET.passphrase,
        },
        "controls": "POST /_sim/trade|settle|resolve|tick|version|mode|settings, GET /_sim/wallets",
    }


def _turbine(args: argparse.Namespace) -> Any:
    from tradewright.servers.turbine import serve_turbine

    return serve_turbine(
        port=args.port or 0, assets=args.asset or ["BTC"], interval_minutes=args.interval_minutes or 15,
        interval_s=args.interval_s,
    )  # fmt: skip


def _turbine_info(server: Any) -> dict[str, Any]:
    from tradewright.servers.turbine.protocol import TEST_API_KEY, TEST_PRIVATE_KEY

    return {
        "url": server.url,
        "ws_url": server.ws_url,
        "test_wallet": {
            "TURBINE_PRIVATE_KEY": TEST_PRIVATE_KEY,
            "TURBINE_API_KEY_ID": "local-turbine-key",
            "TURBINE_API_PRIVATE_KEY": TEST_API_KEY,
        },
        "controls": "POST /_sim/trade|resolve|time|fund, GET /_sim/state",
    }


_SERVERS: dict[str, _Served] = {
    "polymarket": _Served(_polymarket, _polymarket_info),
    "turbine": _Served(_turbine, _turbine_info, needs_data=False),
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "venues",
        help="local venues speaking real venues' protocols",
        description="Local venue servers on 127.0.0.1 for paper trading and integration tests.",
    )
    sub = p.add_subparsers(dest="venues_command", metavar="COMMAND")
    s = sub.add_parser(
        "serve",
        help="serve a local venue",
        description="Serve a local venue on 127.0.0.1:PORT speaking its own REST and WebSocket protocol. "
        "polymarket replays the payloads under --data (e.g. ../shared/data/venues/polymarket); turbine rolls "
        "quick markets on the clock. SIGINT/SIGTERM stop it.",
    )
    s.add_argument("--venue", required=True, choices=sorted(_SERVERS), help="which venue to speak")
    s.add_argument("--data", metavar="DIR", help="payloads or recording to replay (polymarket)")
    s.add_argument("--port", type=int, help="port on 127.0.0.1 (default 0: any free port, printed)")
    s.add_argument(
        "--pacing", choices=["fast", "recorded", "step"], help="replay pacing (polymarket; default fast)"
    )
    s.add_argument("--speed", type=float, help="replay speed with --pacing recorded")
    s.add_argument(
        "--unapproved", action="store_true", help="the test wallet starts without allowances (polymarket)"
    )
    s.add_argument("--collateral", help="the test wallet's starting collateral (polymarket; default 1000)")
    s.add_argument("--asset", action="append", help="quick-market asset (turbine; repeatable; default BTC)")
    s.add_argument("--interval-minutes", type=int, help="quick-market interval label (turbine; default 15)")
    s.add_argument(
        "--interval-s", type=int, help="real length of each quick market in seconds (turbine; for rehearsals)"
    )
    s.add_argument("--json", action="store_true", help="print the listening line as JSON")
    s.set_defaults(func=serve)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def serve(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError

    served = _SERVERS[args.venue]
    if served.needs_data and not args.data:
        raise ConfigError(f"--venue {args.venue} needs --data DIR (the payloads to replay)")
    server = served.build(args)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        info = {"event": "listening", "venue": args.venue, **served.describe(server)}
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            print(f"{args.venue} listening on {server.url} (WebSocket {server.ws_url})", flush=True)
            for key, value in info.items():
                if key not in ("event", "venue"):
                    print(f"  {key}: {value}", flush=True)
        try:
            await stop.wait()
        finally:
            await server.stop()
            print("stopped", file=sys.stderr, flush=True)

    asyncio.run(main())
    return 0
