"""`tradewright probe CONFIG.toml --venue NAME`: check one venue of a `[venues]` config — connectivity,
keys, clock skew, markets, balances, open orders, books — without trading; `--order-test --execute`
also places the smallest order far from the market, sees it open, cancels it and checks nothing filled."""

from __future__ import annotations

import argparse
import asyncio
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "probe",
        help="check a venue's connectivity, keys, clock, markets, balances and open orders (never trades)",
        description="Connect to one venue of a config with [venues.<name>] tables and check it read-only: keys "
        "accepted, clock skew, each configured market's grid and fees, balances and positions, our open "
        "orders, a verified book per market. With --order-test --execute it also places the smallest order the "
        "market allows as a post-only buy far below the best bid, sees it open, cancels it and confirms nothing "
        "filled; --order-test alone refuses. Exit 0 when every check passed, 1 otherwise.",
    )
    p.add_argument("config", help="a live config with [venues.<name>] tables (docs/operations.md)")
    p.add_argument(
        "--venue", required=True, metavar="NAME", help="the venue's name in the config ([venues.NAME])"
    )
    p.add_argument("--order-test", action="store_true", help="also place and cancel one tiny far-away order")
    p.add_argument("--execute", action="store_true", help="confirm --order-test (it places a real order)")
    p.add_argument(
        "--far-pct", default="20", metavar="PCT", help="test order price: this %% below the best bid"
    )
    p.add_argument("--timeout", type=float, default=15.0, metavar="S", help="seconds to wait for each answer")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError
    from tradewright.live.multi_config import load_multi_config
    from tradewright.live.venue_check import probe_venue
    from tradewright.venues.registry import venue_package

    try:
        far_pct = Decimal(args.far_pct)
    except InvalidOperation:
        raise ConfigError(f"--far-pct must be a number, got {args.far_pct!r}") from None
    if args.order_test and not args.execute:
        raise ConfigError(
            "--order-test places a real order (the smallest allowed, far from the market, cancelled at once): "
            "add --execute to confirm"
        )
    _, venues, _ = load_multi_config(args.config)
    entry = next((v for v in venues if v.name == args.venue), None)
    if entry is None:
        raise ConfigError(
            f"--venue: no [venues.{args.venue}] in {args.config} ({', '.join(v.name for v in venues)})"
        )
    credentials = venue_package(entry.kind).credentials(entry.config)
    report = asyncio.run(
        probe_venue(
            entry,
            credentials,
            order_test=args.order_test,
            execute=args.execute,
            far_pct=far_pct,
            timeout_s=args.timeout,
        )
    )
    for line in report.lines:
        print(line)
    verdict = "every check passed" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"probe {entry.name}: {verdict}", file=sys.stderr)
    return 0 if report.ok else 1
