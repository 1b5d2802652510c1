"""`tradewright markets --venue V [--search TEXT]`: a venue's instruments with tick, lot, minimums and fees."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "markets",
        help="list a venue's instruments (tick, lot, minimum size and notional, fees)",
        description="List the markets of a venue kind (public data, no keys), optionally filtered by --search "
        "(any of symbol, base or quote, case-insensitive; prediction markets: the question too) and --active. "
        "--rest-url/--ws-url point at a local server; --set gives any other setting of the venue's table.",
    )
    p.add_argument("--venue", required=True, help="venue kind (e.g. okx, kraken, bitget, gate, bybit)")
    p.add_argument("--search", help="text to look for in symbol, base or quote")
    p.add_argument("--rest-url", help="scheme and host of the venue's REST API (a local server, say)")
    p.add_argument("--ws-url", help="scheme and host of its WebSocket API")
    p.add_argument("--active", action="store_true", help="only markets open for orders")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="another setting of the venue's config table (e.g. gamma_url=... for polymarket)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON object per market")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from tradewright.cli.venue_settings import venue_config
    from tradewright.core.errors import ConfigError
    from tradewright.venues.registry import venue_package

    package = venue_package(args.venue)
    try:
        config = venue_config(
            package.CONFIG_TYPES, {"rest_url": args.rest_url, "ws_url": args.ws_url}, args.set
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{args.venue}: {exc}") from None
    listing = package.list_markets
    # `active` is optional in the registry protocol: a venue that cannot filter gets the rows filtered here.
    pushed = args.active and "active" in inspect.signature(listing).parameters
    markets = asyncio.run(
        listing(config, args.search, active=True) if pushed else listing(config, args.search)
    )
    if args.active:
        markets = [m for m in markets if m.active]
    if args.json:
        for m in markets:
            print(json.dumps(_as_dict(m)))
        return 0
    console = Console() if Console().is_terminal else Console(width=200)
    table = Table(
        title=f"{len(markets)} {args.venue} markets" + (f" matching {args.search!r}" if args.search else "")
    )
    for col in (
        "symbol",
        "kind",
        "base",
        "quote",
        "tick",
        "lot",
        "min size",
        "min notional",
        "maker",
        "taker",
        "active",
    ):
        table.add_column(
            col,
            justify="right"
            if col in ("tick", "lot", "min size", "min notional", "maker", "taker")
            else "left",
        )
    # Markets that expire (prediction markets, dated futures) also show when, and the venue's own facts
    # (a prediction market's question, condition id and neg-risk flag).
    dated = any(m.end_ns is not None for m in markets)
    facts = any(m.extra for m in markets)
    if dated:
        table.add_column("ends")
    if facts:
        table.add_column("venue facts")
    from tradewright.core.clock import ns_to_iso

    for m in markets:
        row = [m.symbol, m.kind, m.base, m.quote, str(m.tick_size), str(m.lot_size), _s(m.min_size), _s(m.min_notional),
               _s(m.maker_fee), _s(m.taker_fee), "yes" if m.active else "no"]  # fmt: skip
        if dated:
            row.append(ns_to_iso(m.end_ns)[:16] if m.end_ns is not None else "")
        if facts:
            row.append("  ".join(f"{k}={v}" for k, v in m.extra.items()))
        table.add_row(*row)
    console.print(table)
    return 0


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _as_dict(m: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        k: (str(v) if v is not None and not isinstance(v, bool | dict | int) else v)
        for k, v in asdict(m).items()
    }
