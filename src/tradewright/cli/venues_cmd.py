"""`tradewright venues serve --venue V --port P --data ...`: run a local venue server on 127.0.0.1.

Each venue kind has one serve function in `_SERVERS` (add a line for a new local server). The servers
speak the venue's own wire protocol, written from its documentation, and replay recorded data:

- ``ib``: a TWS / IB Gateway socket (`tradewright.servers.ib`) replaying recorded CME futures bars
  (``--data PATH[=LOCALSYMBOL]``, e.g. the 6EH4 one-minute file), one bar every ``--seconds-per-bar``;
- ``alpaca``: Alpaca's Trading API, trade_updates and market-data streams (`tradewright.servers.alpaca`)
  replaying recorded bars per symbol (``--data PATH=SYMBOL[:crypto]``).

The server runs until SIGINT/SIGTERM and never listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

__all__ = ["register"]

_DEFAULT_ALPACA_KEY = "AKLOCAL0000000000001"
_DEFAULT_ALPACA_SECRET = "local-secret"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("venues", help="local venue servers (wire-format fakes for tests and dry runs)")
    sub = p.add_subparsers(dest="venues_command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="serve a venue's wire protocol on 127.0.0.1, replaying recorded data",
        description="Serve a venue's own protocol on 127.0.0.1 (written from its documentation), replaying "
        "recorded bars. Runs until interrupted.",
    )
    serve.add_argument("--venue", required=True, choices=sorted(_SERVERS), help="which venue's protocol")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one, printed)")
    serve.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="PATH[=SYMBOL]",
        help="a bar file to replay, and the contract/symbol it is (ib: the local symbol, read from the file "
        "name when omitted; alpaca: SYMBOL or SYMBOL:crypto)",
    )
    serve.add_argument("--seconds-per-bar", type=float, default=1.0, help="ib: wall seconds between bars")
    serve.add_argument("--warmup", type=int, default=None, help="bars already complete when the server starts")
    serve.add_argument("--spread-ticks", type=int, default=1, help="quoted spread around the last price, in ticks")
    serve.add_argument("--account", default="DU1234567", help="ib: the account the gateway manages")
    serve.add_argument("--start", default="", help="alpaca: replay bars from this ISO date on")
    serve.add_argument("--speed", type=float, default=60.0, help="alpaca: replay speed (recorded time / wall time)")
    serve.set_defaults(func=run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError

    if not args.data:
        raise ConfigError("give at least one bar file to replay: --data PATH[=SYMBOL]")
    if args.port < 0 or args.port > 65535:
        raise ConfigError(f"--port must be 0..65535, got {args.port}")
    asyncio.run(_until_stopped(_SERVERS[args.venue], args))
    return 0


async def _until_stopped(serve: Callable[[argparse.Namespace, asyncio.Event], Coroutine[Any, Any, None]], args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(args, stop)


def _pairs(items: list[str]) -> list[tuple[Path, str]]:
    from tradewright.core.errors import ConfigError

    out = []
    for item in items:
        path, _, symbol = item.partition("=")
        if not Path(path).exists():
            raise ConfigError(f"--data {item}: no such file {path}")
        out.append((Path(path), symbol))
    return out


async def _serve_ib(args: argparse.Namespace, stop: asyncio.Event) -> None:
    from tradewright.servers.ib import build_ib_server

    server = build_ib_server(
        _pairs(args.data), port=args.port, warmup=60 if args.warmup is None else args.warmup,
        spread_ticks=args.spread_ticks, accounts=(args.account,),
    )
    await server.start()
    print(f"IB gateway (local, TWS API v178) on 127.0.0.1:{server.port}; account {args.account}", flush=True)
    pacing = asyncio.create_task(server.run_paced(args.seconds_per_bar))
    try:
        await stop.wait()
    finally:
        pacing.cancel()
        await server.close()


async def _serve_alpaca(args: argparse.Namespace, stop: asyncio.Event) -> None:
    from tradewright.core.errors import ConfigError

    try:
        from tradewright.servers._core import AccountSpec, Pacing
        from tradewright.servers.alpaca import build_alpaca_server
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the Alpaca server needs {exc.name!r}: pip install -e '.[alpaca]'") from None
    data = []
    for path, spec in _pairs(args.data):
        symbol, _, kind = spec.partition(":")
        if not symbol:
            raise ConfigError(f"--data {path}: name the symbol, e.g. --data {path}=AAPL")
        data.append((path, symbol, "crypto" if kind == "crypto" else "us_equity"))
    key = os.environ.get("APCA_API_KEY_ID") or _DEFAULT_ALPACA_KEY
    secret = os.environ.get("APCA_API_SECRET_KEY") or _DEFAULT_ALPACA_SECRET
    server = build_alpaca_server(
        data, port=args.port, start=args.start, pacing=Pacing.RECORDED, speed=args.speed,
        warmup=5 if args.warmup is None else args.warmup, spread_ticks=args.spread_ticks,
        accounts=(AccountSpec(key, secret),),
    )
    await server.start()
    print(
        f"Alpaca (local) on {server.url}: trading_url = \"{server.url}\", stream_url = \"{server.ws_url}/stream\", "
        f"data_url = \"{server.ws_url}\"; key id {key} (the secret is APCA_API_SECRET_KEY, or the documented "
        "local default)",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await server.stop()


_SERVERS: dict[str, Callable[[argparse.Namespace, asyncio.Event], Coroutine[Any, Any, None]]] = {
    "alpaca": _serve_alpaca,
    "ib": _serve_ib,
}
