"""`tradewright status [--verbose]`, `tradewright halt`, `tradewright resume`: talk to a running node
through its API (`--url`, key in $TRADEWRIGHT_API_KEY)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tradewright.cli.node_client import NodeClient, add_node_args

__all__ = ["register"]


def register(subparsers: Any) -> None:
    st = subparsers.add_parser(
        "status",
        help="a running node's state: trading state, markets, venues, latency, top offenders",
        description="Ask a running node (its API) how it is: mode and trading state, per market whether it "
        "is quoting, position, open orders, book resync ratio, cancels and cancel rate-limit denials, "
        "venue health and latency; --verbose adds strategies, latency per stage and the top offenders.",
    )
    add_node_args(st)
    st.add_argument("--verbose", "-v", action="store_true")
    st.add_argument("--json", action="store_true", help="print the whole status as JSON")
    st.set_defaults(func=status)

    halt = subparsers.add_parser(
        "halt",
        help="HALT a running node (or one venue or instrument): no new orders, working orders cancelled",
        description="Hold a scope HALTED through the node's API. Any key that can read may halt.",
    )
    _scope_args(halt)
    halt.set_defaults(func=halt_node)

    resume = subparsers.add_parser(
        "resume",
        help="lift every hold (operator, breakers, kill switch) on a scope of a running node (admin key)",
    )
    _scope_args(resume)
    resume.add_argument("--engine-halts", action="store_true", help="also lift the engine's own halts there")
    resume.set_defaults(func=resume_node)


def _scope_args(p: argparse.ArgumentParser) -> None:
    add_node_args(p)
    p.add_argument("--reason", required=True, help="recorded in the audit and the risk events")
    p.add_argument("--scope", choices=["node", "venue", "instrument"], default="node")
    p.add_argument("--target", default="", help="the venue or instrument id for --scope venue|instrument")


def halt_node(args: argparse.Namespace) -> int:
    result = NodeClient(args.url).post("/risk/halt", {"reason": args.reason, "scope": args.scope, "target": args.target})
    print(f"halt: {result['message']} (command {result['command_id']})")
    return 0


def resume_node(args: argparse.Namespace) -> int:
    body = {"reason": args.reason, "scope": args.scope, "target": args.target, "engine_halts": args.engine_halts}
    result = NodeClient(args.url).post("/risk/resume", body)
    print(f"resume: {result['message']} (command {result['command_id']})")
    return 0


def status(args: argparse.Namespace) -> int:
    report = NodeClient(args.url).get("/system/status")
    if args.json:
        json.dump(report, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    # Piped (a log, a file): wide enough that no column is cut; a terminal uses its own width.
    console = Console(width=None if sys.stdout.isatty() else 220)
    system = report["system"]
    state = system["trading_state"]
    colour = {"ACTIVE": "green", "REDUCING": "yellow", "HALTED": "red"}.get(state, "white")
    console.print(
        f"[bold]{system['node']}[/] {system['mode'].upper()}  trading [{colour}]{state}[/]"
        f"{'  KILL SWITCH RUNNING' if system['kill_switch_active'] else ''}  up {system['uptime_s']:.0f} s  "
        f"tradewright {system['version']}"
    )
    markets = Table("market", "state", "quoting", "bid", "ask", "position", "open", "resync ratio",
                    "cancels", "cancel limit hits", "rejects", "fills", title="markets")
    for m in report["markets"]:
        markets.add_row(
            m["instrument_id"], m["trading_state"], "yes" if m["quoting"] else "no", m["own_bid"] or "-",
            m["own_ask"] or "-", m["position"], str(m["open_orders"]),
            f"{m['book_resyncs']}/{m['book_updates']} ({m['resync_ratio']:.4%})", str(m["cancels_sent"]),
            str(m["cancel_rate_denials"]), str(m["rejects"]), str(m["fills"]),
        )
    console.print(markets)
    venues = Table("venue", "health", "last data", "ack p50", "ack p99", "reconnects", "why", title="venues")
    for v in report["venues"]:
        age = "-" if v["last_update_age_ms"] is None else f"{v['last_update_age_ms']} ms ago"
        venues.add_row(v["venue"], v["health"], age, _ms(v["ack_p50_ms"]), _ms(v["ack_p99_ms"]),
                       str(v["reconnects"]), v["reason"])
    console.print(venues)
    _print_workflows(console, report.get("workflows") or [])
    if args.verbose:
        strategies = Table("strategy", "class", "state", "open orders", "fills", "markets", title="strategies")
        for s in report["strategies"]:
            strategies.add_row(s["strategy_id"], s["class_name"], s["state"], str(s["open_orders"]),
                               str(s["fills"]), ", ".join(s["instruments"]))
        console.print(strategies)
        latency = Table("path", "samples", "p50 µs", "p99 µs", "max µs", title="latency")
        for lat in report["latency"]:
            latency.add_row(lat["name"], str(lat["count"]), _us(lat["p50_us"]), _us(lat["p99_us"]), _us(lat["max_us"]))
        console.print(latency)
        offenders = Table("what", "where", "count", title="top offenders")
        for o in report["offenders"]:
            offenders.add_row(o["kind"], o["target"], str(o["count"]))
        if not report["offenders"]:
            offenders.add_row("-", "nothing misbehaves", "0")
        console.print(offenders)
    return 0


def _print_workflows(console: Any, workflows: list[dict[str, Any]]) -> None:
    """Open multi-leg workflows: one row per leg and compensation order (docs/arbitrage.md)."""
    if not workflows:
        return
    from rich.table import Table

    table = Table("workflow", "state", "order", "market", "side", "filled", "price", "client order id", "why",
                  title="open workflows")
    for w in workflows:
        first = True
        for leg in [*w["legs"], *w["compensations"]]:
            what = f"leg {leg['index']}" if leg["kind"] == "LEG" else f"{leg['kind'].lower()} of leg {leg['leg']}"
            table.add_row(
                w["workflow_id"] if first else "", w["status"] if first else "", f"{what} {leg['status']}",
                leg["instrument_id"], leg["side"], f"{leg['filled_qty']}/{leg['quantity']}", str(leg["price"] or "-"),
                leg["client_order_id"] or "-", leg["reason"],
            )
            first = False
    console.print(table)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
