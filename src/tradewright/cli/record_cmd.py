"""`tradewright record`: write a venue's verified books, trades and best bid/offer to Parquet."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "record",
        help="record a venue's verified books, trades and best bid/offer to Parquet (hourly files)",
        description="Connect to a venue's public market data (no keys), verify every book message by the "
        "venue's checksum or sequence rule, and write books (snapshots, deltas, checksums, resync events), "
        "trades and the venue's best bid/offer to OUT/<VENUE>/<SYMBOL>/<hour>.parquet. `tradewright data "
        "verify` and `tradewright backtest` read the folders it writes. SIGINT/SIGTERM stop it cleanly.",
    )
    p.add_argument(
        "--venue", required=True, help="venue kind (okx, kraken, bitget, gate, bybit; polymarket, turbine)"
    )
    p.add_argument(
        "--symbols",
        required=True,
        help="comma-separated venue symbols (e.g. BTC-USDT,ETH-USDT); polymarket: condition ids; "
        "turbine: assets (BTC), whose quick markets are recorded one after another as they open",
    )
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--duration", type=float, help="seconds to record (default: until interrupted)")
    p.add_argument("--rest-url", help="scheme and host of the venue's REST API (a local server, say)")
    p.add_argument("--ws-url", help="scheme and host of its WebSocket API")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError
    from tradewright.recorder import record
    from tradewright.venues.registry import venue_package

    symbols = tuple(s.strip() for s in args.symbols.split(",") if s.strip())
    if not symbols:
        raise ConfigError("--symbols: name at least one symbol")
    if args.duration is not None and args.duration <= 0:
        raise ConfigError("--duration must be > 0 seconds")
    if args.venue in ("polymarket", "turbine"):
        return _run_binary(args, symbols)
    package = venue_package(args.venue)
    try:
        config = package.CONFIG_TYPES[0](symbols=symbols, rest_url=args.rest_url, ws_url=args.ws_url)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{args.venue}: {exc}") from None

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await record(args.venue, config, Path(args.out), duration_s=args.duration, stop=stop)

    summary = asyncio.run(main())
    for iid, folder in summary.folders.items():
        print(f"{iid}: {summary.rows.get(iid, 0):,} rows, {summary.resyncs.get(iid, 0)} resyncs -> {folder}")
    return 0


def _run_binary(args: argparse.Namespace, symbols: tuple[str, ...]) -> int:
    """Prediction markets: both outcome books of each market, trades, tick changes and resolutions,
    one folder per market (`tradewright.recorder.binary`), for `[data] format = "binary"` backtests."""
    from tradewright.core.errors import ConfigError
    from tradewright.recorder.binary import record_binary
    from tradewright.venues.registry import venue_package

    package = venue_package(args.venue)
    where = {k: v for k, v in (("rest_url", args.rest_url), ("ws_url", args.ws_url)) if v is not None}
    key = "markets" if args.venue == "polymarket" else "assets"
    try:
        config = package.CONFIG_TYPES[0](**{key: list(symbols)}, **where)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{args.venue}: {exc}") from None

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await record_binary(args.venue, config, Path(args.out), duration_s=args.duration, stop=stop)

    summary = asyncio.run(main())
    for market_id, folder in summary.folders.items():
        resolved = summary.resolved.get(market_id)
        note = f", resolved {resolved}" if resolved else ""
        print(f"{market_id}: {summary.rows.get(market_id, 0):,} rows{note} -> {folder}")
    return 0
