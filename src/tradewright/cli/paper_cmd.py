"""`tradewright paper CONFIG.toml --speed N`: paper-trade a strategy on a recording replayed in real time."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from rich.console import Console

from tradewright.cli._term import plain
from tradewright.cli.backtest_cmd import add_overwrite_argument

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "paper",
        help="paper-trade on a recording replayed in scaled real time",
        description="Replay the config's recording at --speed x real time through an asyncio data client into "
        "the kernel and the simulated venue. A status line (replay time, events/s, position, PnL, open orders, "
        "trading state, last fill) is drawn on a terminal, or logged every --status-every seconds when stderr is "
        "a pipe; every fill is logged. SIGINT/SIGTERM cancel every open order, write the outputs and exit 0.",
    )
    p.add_argument("config", help="path to the run config (TOML), the same format as for backtest")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (10 = ten times real time)")
    p.add_argument(
        "--duration", type=float, default=None, metavar="SECONDS", help="stop after this many wall seconds"
    )
    p.add_argument(
        "--flatten-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fire the kill switch after this many wall seconds: cancel every order, close every position, "
        "halt (also at any time: `tradewright flatten --pid PID`)",
    )
    p.add_argument("--out", help="output folder (default: run.output_dir from the config, suffixed -paper)")
    add_overwrite_argument(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON (no status output)")
    p.add_argument(
        "--status-every",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="when stderr is not a terminal, log a status line this often (default 10)",
    )
    p.add_argument("--no-fills", action="store_true", help="do not log each fill")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.backtest.runner import output_dir
    from tradewright.cli._status import StatusDisplay
    from tradewright.cli.backtest_cmd import print_summary, summary_console
    from tradewright.config.run import load_run_config
    from tradewright.core.errors import ConfigError
    from tradewright.data.loading import load_stream
    from tradewright.live.paper import run_paper
    from tradewright.strategy.loader import make_strategy

    if args.speed <= 0:
        raise ConfigError(f"--speed must be > 0, got {args.speed}")
    if args.duration is not None and args.duration <= 0:
        raise ConfigError(f"--duration must be > 0, got {args.duration}")
    if args.flatten_after is not None and args.flatten_after < 0:
        raise ConfigError(f"--flatten-after must be >= 0, got {args.flatten_after}")
    if args.status_every <= 0:
        raise ConfigError(f"--status-every must be > 0, got {args.status_every}")
    config = load_run_config(args.config)
    out = output_dir(config, args.out)
    if args.out is None:
        out = out.with_name(out.name + "-paper")
    err = Console(stderr=True)
    if config.data.format == "bars":
        from tradewright.cli.paper_bars import run_bar_paper

        return run_bar_paper(args, config, out, err)
    from tradewright.backtest.multi_runner import instrument_groups

    groups = instrument_groups([config.resolve(p) for p in config.data.paths], config.data.format)
    if groups is not None:  # recordings of several instruments, replayed together
        return _run_multi(args, config, groups, out, err)
    stream = load_stream(
        [config.resolve(p) for p in config.data.paths],
        fmt=config.data.format,
        market=config.data.market,
        symbol=config.data.symbol,
    )
    strategy = make_strategy(config, stream.instrument.id)
    services = _api_services(config.api, err)

    def ready() -> None:
        plain(
            err,
            f"paper: {stream.instrument.id} at {args.speed:g}x real time"
            + (f" for {args.duration:g} s" if args.duration else "")
            + f", pid {os.getpid()} — Ctrl-C to stop; `tradewright flatten --pid {os.getpid()}` to flatten",
        )

    with StatusDisplay(err, every_s=args.status_every, fills=not args.no_fills, quiet=args.json) as status:
        folder, summary = run_paper(
            config,
            stream,
            strategy,
            speed=args.speed,
            duration_s=args.duration,
            out=out,
            flatten_after_s=args.flatten_after,
            on_ready=ready,
            status=status,
            services=services,
            overwrite=args.overwrite,
        )
    if args.json:
        json.dump(summary, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        console = summary_console()
        print_summary(summary, console, title=f"paper {config.run.name}")
        console.print(f"report: [bold]{folder / 'report.html'}[/]", highlight=False, soft_wrap=True)
    return 0


def _run_multi(args: argparse.Namespace, config: Any, groups: list[Any], out: Any, err: Console) -> int:
    """Paper over several instruments' recordings (tradewright.live.multi_paper)."""
    from tradewright.cli._status import StatusDisplay
    from tradewright.cli.backtest_cmd import print_summary, summary_console
    from tradewright.core.errors import ConfigError
    from tradewright.data.loading import load_stream
    from tradewright.live.multi_paper import run_multi_paper
    from tradewright.strategy.loader import make_strategy

    if args.flatten_after is not None or config.api.enabled:
        raise ConfigError("--flatten-after and [api] apply to single-instrument paper runs")
    if config.data.market or config.data.symbol:
        raise ConfigError(
            "`data.market` and `data.symbol` pick one instrument; a multi-instrument run takes each "
            "recording's own (leave them unset)"
        )
    streams = [load_stream(group, fmt="binance") for group in groups]
    strategy = make_strategy(config, streams[0].instrument.id)
    names = ", ".join(str(s.instrument.id) for s in streams)

    def ready() -> None:
        plain(
            err,
            f"paper: {names} at {args.speed:g}x real time"
            + (f" for {args.duration:g} s" if args.duration else "")
            + f", pid {os.getpid()} — Ctrl-C to stop",
        )

    with StatusDisplay(err, every_s=args.status_every, fills=not args.no_fills, quiet=args.json) as status:
        folder, summary = run_multi_paper(
            config,
            streams,
            strategy,
            speed=args.speed,
            duration_s=args.duration,
            out=out,
            on_ready=ready,
            status=status,
            overwrite=args.overwrite,
        )
    if args.json:
        json.dump(summary, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        console = summary_console()
        print_summary(summary, console, title=f"paper {config.run.name}")
        console.print(f"report: [bold]{folder / 'report.html'}[/]", highlight=False, soft_wrap=True)
    return 0


def _api_services(api: Any, console: Console) -> list[Any]:
    """The API (and dashboard) for this node when `[api] enabled = true` (FastAPI imported only then)."""
    if not api.enabled:
        return []
    from tradewright.api.server import api_service

    def ready(server: Any) -> None:
        console.print(f"dashboard and API: {server.url}", soft_wrap=True, highlight=False)

    return [api_service(api, on_ready=ready)]
