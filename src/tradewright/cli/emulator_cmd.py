"""`tradewright emulator serve`: a local Binance (spot or USD-M) on 127.0.0.1 replaying a recording."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tomllib
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "emulator",
        help="a local exchange speaking Binance's REST and WebSocket protocol",
        description="Serve an emulated exchange on 127.0.0.1 for paper trading and integration tests.",
    )
    sub = p.add_subparsers(dest="emulator_command", metavar="COMMAND")
    s = sub.add_parser(
        "serve",
        help="replay a recording and accept orders through Binance's own API",
        description="Replay RECORDING at --speed x real time on 127.0.0.1:PORT, speaking Binance's REST and "
        "WebSocket API (spot: /api/v3, /ws, /stream, /ws-api/v3; USD-M: /fapi/v1..v3, /ws, /public/ws, "
        "/private/ws, /ws-fapi/v1). Orders are matched by the queue-aware simulated venue; orders, fills and "
        "balances live in the --state SQLite file and survive restarts. SIGINT/SIGTERM stop it cleanly.",
    )
    s.add_argument("--venue", choices=["binance-spot", "binance-usdm"], help="which Binance API to speak")
    s.add_argument("--data", action="append", metavar="RECORDING", help="recording(s) to replay, in order")
    s.add_argument("--symbol", help="venue symbol when the recording holds several")
    s.add_argument("--speed", type=float, help="replay speed (10 = ten times real time; default 1)")
    s.add_argument("--port", type=int, help="port on 127.0.0.1 (default 0: any free port, printed)")
    s.add_argument("--state", help="SQLite state file (default emulator-VENUE.sqlite)")
    s.add_argument("--fresh", action="store_true", default=None, help="delete the state file and start over")
    s.add_argument("--config", help="TOML file with any of these settings, accounts and faults")
    s.add_argument(
        "--balance", action="append", metavar="ASSET=AMOUNT", help="starting balance of the default account"
    )
    s.add_argument("--maker-fee", help="maker fee rate (default: the instrument's, e.g. 0.001)")
    s.add_argument("--taker-fee", help="taker fee rate")
    s.add_argument("--latency-ms", type=float, help="order entry latency in data time (default 0)")
    s.add_argument("--queue-model", choices=["conservative", "power", "log"], help="queue-position model")
    s.add_argument("--weight-limit", type=int, help="request weight per minute before 429")
    s.add_argument(
        "--fault",
        action="append",
        metavar="NAME=VALUE",
        help="switch a fault on for the run, e.g. ws_drop=5, ws_delay_ms=200, http_error=3, reject_orders=1 "
        "(see docs/emulator.md; change them live with POST /_admin/faults)",
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


def _decimal(text: str | None, what: str) -> Decimal | None:
    from tradewright.core.errors import ConfigError

    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"{what} must be a number, got {text!r}") from None


def _build_config(args: argparse.Namespace) -> Any:
    from tradewright.core.errors import ConfigError
    from tradewright.emulator.config import DEFAULT_API_KEY, load_emulator_config

    faults: dict[str, Any] = {}
    for name, raw in _pairs(args.fault, "--fault").items():
        try:
            faults[name] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            faults[name] = raw
    overrides: dict[str, Any] = {
        "venue": args.venue,
        "data": args.data,
        "symbol": args.symbol,
        "speed": args.speed,
        "port": args.port,
        "state": args.state,
        "fresh": args.fresh,
        "maker_fee": _decimal(args.maker_fee, "--maker-fee"),
        "taker_fee": _decimal(args.taker_fee, "--taker-fee"),
        "order_latency_ms": args.latency_ms,
        "queue_model": args.queue_model,
        "weight_limit": args.weight_limit,
    }
    config = load_emulator_config(args.config, overrides)
    extra: dict[str, Any] = {}
    if faults:
        from tradewright.emulator.faults import Faults

        extra["faults"] = Faults(config.faults).update(faults)  # on top of the file's [faults]
    if args.balance:
        if config.accounts:
            raise ConfigError(
                "--balance sets the default account; with [[accounts]] in --config set balances there"
            )
        balances = {a: _decimal(v, f"--balance {a}") for a, v in _pairs(args.balance, "--balance").items()}
        extra["accounts"] = [{"api_key": DEFAULT_API_KEY, "balances": balances}]
    if extra:
        config = load_emulator_config(args.config, overrides | extra)
    return config


def serve(args: argparse.Namespace) -> int:
    from tradewright.emulator.server import HOST, EmulatorServer

    config = _build_config(args)
    server = EmulatorServer(config)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        base = f"{HOST}:{server.port}"
        info = {
            "event": "listening",
            "venue": config.venue,
            "symbol": server.spec.symbol,
            "port": server.port,
            "rest": f"http://{base}",
            "ws": f"ws://{base}/ws",
            "state": str(server.store.path),
        }
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            print(
                f"emulator: {config.venue} {server.spec.symbol} on http://{base} (ws://{base}/ws) "
                f"at {config.speed:g}x, state {server.store.path} — Ctrl-C to stop",
                flush=True,
            )
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(main())
    print("emulator: stopped", file=sys.stderr)
    return 0
