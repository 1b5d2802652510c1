"""`tradewright markets --venue KIND`: a venue's markets as the venue defines them (no credentials):
tick and lot sizes, minimums, fees, end times, and venue facts such as a prediction market's
condition id and neg-risk flag. Generic over the venue registry: any venue package's `list_markets`."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import tomllib
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "markets",
        help="list a venue's markets (tick, lot, minimums, fees, end times)",
        description="List a venue's markets from its public API. Point it at a local server or another host "
        "with --config (a TOML file whose [venues.NAME] or [venue] table has the venue's settings) and "
        "--set key=value.",
    )
    p.add_argument(
        "--venue", required=True, metavar="KIND", help="venue kind (polymarket, turbine, okx, ...)"
    )
    p.add_argument(
        "--search", metavar="TEXT", help="only markets whose question, slug or symbol contains TEXT"
    )
    p.add_argument("--active", action="store_true", help="only markets open for orders")
    p.add_argument("--config", help="TOML file with the venue's settings")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="a venue setting, e.g. url=http://127.0.0.1:8080",
    )
    p.add_argument("--limit", type=int, default=200, help="at most this many rows (default 200; 0 = all)")
    p.add_argument("--json", action="store_true", help="one JSON object per market")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    from tradewright.core.errors import ConfigError

    table: dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config, "rb") as f:
                doc = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"--config {args.config}: {exc}") from None
        venues = doc.get("venues", {})
        matches = [t for t in venues.values() if isinstance(t, dict) and t.get("kind") == args.venue]
        table = dict(matches[0] if matches else doc.get("venue", {}))
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ConfigError(f"--set must look like KEY=VALUE, got {item!r}")
        try:
            table[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            table[key.strip()] = value
    table["kind"] = args.venue
    return table


def run(args: argparse.Namespace) -> int:
    import msgspec

    from tradewright.core.clock import ns_to_iso
    from tradewright.core.errors import ConfigError
    from tradewright.venues.registry import venue_package

    package = venue_package(args.venue)
    table = _settings(args)
    config: Any = None
    problems = []
    for config_type in package.CONFIG_TYPES:  # the one whose `kind` tag accepts this venue
        try:
            config = msgspec.convert(table, type=config_type)
            break
        except (msgspec.ValidationError, ValueError) as exc:
            problems.append(str(exc))
    if config is None:
        raise ConfigError(f"invalid {args.venue} settings: {'; '.join(problems)}")
    listing = package.list_markets
    takes_active = "active" in inspect.signature(listing).parameters
    kwargs = {"active": True} if args.active and takes_active else {}
    rows = asyncio.run(listing(config, args.search, **kwargs))
    if args.active:
        rows = [r for r in rows if r.active]
    if args.limit:
        rows = rows[: args.limit]
    for r in rows:
        end = ns_to_iso(r.end_ns) if r.end_ns is not None else ""
        if args.json:
            out = {
                "symbol": r.symbol, "kind": r.kind, "base": r.base, "quote": r.quote, "tick_size": str(r.tick_size),
                "lot_size": str(r.lot_size), "min_size": None if r.min_size is None else str(r.min_size),
                "min_notional": None if r.min_notional is None else str(r.min_notional), "active": r.active,
                "end": end or None, **r.extra,
            }  # fmt: skip
            print(json.dumps(out))
        else:
            facts = "  ".join(f"{k}={v}" for k, v in r.extra.items())
            state = "open" if r.active else "closed"
            print(
                f"{r.symbol}  {r.base}  tick={r.tick_size}  min={r.min_size or '-'}  {state}  end={end or '-'}  {facts}"
            )
    if not args.json:
        print(f"{len(rows)} market(s)")
    return 0
