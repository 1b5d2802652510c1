"""`tradewright venues serve`: a local wire-format venue server on 127.0.0.1.

Crypto exchanges and prediction markets (`tradewright.servers.registry`) replay a real recording over the
venue's REST and WebSocket API with a signature-checking private side. The brokers speak their own
protocols, written from their documentation, and replay recorded bars:

- ``ib``: a TWS / IB Gateway socket (`tradewright.servers.ib`) replaying recorded CME futures bars
  (``--data PATH[=LOCALSYMBOL]``, e.g. the 6EH4 one-minute file), one bar every ``--seconds-per-bar``;
- ``alpaca``: Alpaca's Trading API, trade_updates and market-data streams (`tradewright.servers.alpaca`)
  replaying recorded bars per symbol (``--data PATH=SYMBOL[:crypto]``) from ``--from-date``.

A server runs until SIGINT/SIGTERM and never listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import Callable, Coroutine
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

__all__ = ["register"]

_DEFAULT_ALPACA_KEY = "AKLOCAL0000000000001"
_DEFAULT_ALPACA_SECRET = "local-secret"  # a documented local default for the fake, not a credential
_SECRET_ENV = "TRADEWRIGHT_SERVER_SECRET"
_PASSPHRASE_ENV = "TRADEWRIGHT_SERVER_PASSPHRASE"


def register(subparsers: Any) -> None:
    from tradewright.servers.registry import SERVER_VENUES

    p = subparsers.add_parser(
        "venues",
        help="local servers speaking OKX, Kraken, Bitget, Gate, Bybit, Polymarket, Turbine, IB and Alpaca "
        "wire formats",
    )
    sub = p.add_subparsers(dest="venues_command", metavar="COMMAND")
    s = sub.add_parser(
        "serve",
        help="replay a venue's recording over its own REST and WebSocket API on 127.0.0.1",
        description="Serve a venue's real recording on 127.0.0.1 in the venue's own wire format (what CCXT "
        "speaks), with a stateful, signature-checking private side that matches orders against the replayed "
        "book, fault injection and a loopback admin endpoint (/_admin/...). See docs/venues.md.",
    )
    s.add_argument("--venue", required=True, choices=(*SERVER_VENUES, *sorted(_BROKER_SERVERS)))
    s.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="RECORDING_OR_DIR",
        help="recording file(s) or folder (every venue but turbine); ib/alpaca: a bar file PATH[=SYMBOL] "
        "(ib: the local symbol, read from the file name when omitted; alpaca: SYMBOL or SYMBOL:crypto)",
    )
    s.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port, printed)"
    )
    s.add_argument(
        "--speed",
        type=float,
        default=None,
        help="replay speed for --pacing recorded (10 = ten times real time; default 1, alpaca 60)",
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
    brokers = s.add_argument_group("ib and alpaca")
    brokers.add_argument("--seconds-per-bar", type=float, default=1.0, help="ib: wall seconds between bars")
    brokers.add_argument(
        "--warmup", type=int, default=None, help="bars already complete when the server starts"
    )
    brokers.add_argument(
        "--spread-ticks", type=int, default=1, help="quoted spread around the last price, in ticks"
    )
    brokers.add_argument("--account", default="DU1234567", help="ib: the account the gateway manages")
    brokers.add_argument("--from-date", default="", help="alpaca: replay bars from this ISO date on")
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
    speed = 1.0 if args.speed is None else args.speed
    if speed <= 0:
        raise ConfigError("--speed must be > 0")
    return ServerOptions(port=args.port, pacing=Pacing(args.pacing), speed=speed, start_on=args.start,
                         faults=faults.settings, accounts=accounts)  # fmt: skip


def serve(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError
    from tradewright.servers._core import ReplayServer

    if args.port < 0 or args.port > 65535:
        raise ConfigError(f"--port must be 0..65535, got {args.port}")
    broker = _BROKER_SERVERS.get(args.venue)
    if broker is not None:
        if not args.data:
            raise ConfigError("give at least one bar file to replay: --data PATH[=SYMBOL]")
        asyncio.run(_until_stopped(broker, args))
        return 0
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


async def _until_stopped(
    serve: Callable[[argparse.Namespace, asyncio.Event], Coroutine[Any, Any, None]], args: argparse.Namespace
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(args, stop)


def _bar_files(items: list[str]) -> list[tuple[Path, str]]:
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
        _bar_files(args.data),
        port=args.port,
        warmup=60 if args.warmup is None else args.warmup,
        spread_ticks=args.spread_ticks,
        accounts=(args.account,),
    )
    await server.start()
    line = {"venue": "ib", "host": "127.0.0.1", "port": server.port, "accounts": [args.account]}
    print(
        json.dumps(line)
        if args.json
        else f"IB gateway (local, TWS API v178) on 127.0.0.1:{server.port}; account {args.account}",
        flush=True,
    )
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
    for path, spec in _bar_files(args.data):
        symbol, _, kind = spec.partition(":")
        if not symbol:
            raise ConfigError(f"--data {path}: name the symbol, e.g. --data {path}=AAPL")
        data.append((path, symbol, "crypto" if kind == "crypto" else "us_equity"))
    key = os.environ.get("APCA_API_KEY_ID") or _DEFAULT_ALPACA_KEY
    secret = os.environ.get("APCA_API_SECRET_KEY") or _DEFAULT_ALPACA_SECRET
    server = build_alpaca_server(
        data,
        port=args.port,
        start=args.from_date,
        pacing=Pacing.RECORDED,
        speed=60.0 if args.speed is None else args.speed,
        warmup=5 if args.warmup is None else args.warmup,
        spread_ticks=args.spread_ticks,
        accounts=(AccountSpec(key, secret),),
    )
    await server.start()
    if args.json:
        line = {"venue": "alpaca", "url": server.url, "ws_url": server.ws_url, "port": server.port,
                "stream_url": f"{server.ws_url}/stream", "accounts": [key]}  # fmt: skip
        print(json.dumps(line), flush=True)
    else:
        print(
            f'Alpaca (local) on {server.url}: trading_url = "{server.url}", stream_url = "{server.ws_url}/stream", '
            f'data_url = "{server.ws_url}"; key id {key} (the secret is APCA_API_SECRET_KEY, or the documented '
            "local default)",
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        await server.stop()


_BROKER_SERVERS: dict[str, Callable[[argparse.Namespace, asyncio.Event], Coroutine[Any, Any, None]]] = {
    "alpaca": _serve_alpaca,
    "ib": _serve_ib,
}
