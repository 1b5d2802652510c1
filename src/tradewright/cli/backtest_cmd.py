"""`tradewright backtest CONFIG.toml`: run a backtest, print a summary, write the run folder."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

__all__ = ["print_summary", "register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="run a backtest from a TOML config",
        description="Replay recorded market data through a strategy and the simulated venue. Writes "
        "orders.csv, fills.csv, equity.csv, events.jsonl, summary.json and report.html to the run folder.",
    )
    p.add_argument("config", help="path to the run config (TOML)")
    p.add_argument("--out", help="output folder (default: run.output_dir from the config)")
    p.add_argument(
        "--json", action="store_true", help="print the summary as JSON on stdout (no progress bar)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set strategy.params.offset_ticks=2 (value parsed as TOML)",
    )
    p.add_argument(
        "--flatten-at",
        metavar="TIME",
        help="fire the kill switch at TIME (seconds after the first row, or ISO-8601): cancel every order, "
        "close every position, halt; the summary and events.jsonl record it",
    )
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    import tomllib

    from tradewright.core.errors import ConfigError

    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out


def run(args: argparse.Namespace) -> int:
    from tradewright.backtest.runner import run_backtest
    from tradewright.config.run import load_run_config

    config = load_run_config(args.config, parse_overrides(args.set))
    if config.data.format == "bars" and (config.venue.bar_spread_ticks or config.run.store_url):
        run_backtest = _day_runner  # modelled quotes / a state store: the paper-day runner (docs/futures.md)
    console = Console(stderr=True)
    if args.json or args.quiet or not console.is_terminal:
        folder, summary = run_backtest(config, out=args.out, flatten_at=args.flatten_at)
    else:
        with Progress(
            TextColumn("[bold]backtest[/]"),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.completed:,}/{task.total:,} events"),
            console=console,
        ) as bar:
            task = bar.add_task("replay", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            folder, summary = run_backtest(
                config, out=args.out, progress=progress, flatten_at=args.flatten_at
            )
    if args.json:
        json.dump(summary, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print_summary(summary, Console())
        Console().print(f"report: [bold]{folder / 'report.html'}[/]")
    return 0


def _day_runner(config: Any, *, out: str | None = None, progress: Any = None, flatten_at: str | None = None) -> Any:
    from tradewright.backtest.runner import output_dir, parse_time_point
    from tradewright.daytrade import run_day_backtest

    at = flatten_at
    return run_day_backtest(
        config,
        output_dir(config, out),
        progress=progress,
        flatten_at=None if at is None else (lambda start_ns: parse_time_point(at, start_ns)),
    )


def print_summary(summary: dict[str, Any], console: Console) -> None:
    table = Table(title=f"{summary.get('instrument', '')}  {summary.get('data_span', '')}", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key in ("instrument", "data_span"):
            continue
        if isinstance(value, list):
            text = "\n".join(str(v) for v in value) if value else "-"
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items()) if value else "-"
        else:
            text = f"{value:,}" if isinstance(value, int) else str(value)
        table.add_row(key.replace("_", " "), text)
    console.print(table)
