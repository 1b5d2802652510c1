"""`tradewright walkforward CONFIG.toml --grid ... --train DURATION --test DURATION [--step DURATION]`:
optimise on rolling in-sample windows, trade each winner on the next window, report out of sample."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tradewright.cli.sweep_cmd import RichProgress, add_search_arguments, build_spec, wide_console

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "walkforward",
        help="walk-forward optimisation: in-sample sweeps, out-of-sample tests, one combined report",
        description="Cut the config's data into train/test windows, run a sweep (grid or --optuna) on each train "
        "window, run the winner on the test window after it, and write OUT/report.html with the out-of-sample "
        "runs stitched into one record. Durations: 500ms, 90s, 5m, 1h30m, 2d.",
    )
    p.add_argument("config", help="path to the run config (TOML)")
    p.add_argument("--train", required=True, metavar="DURATION", help="in-sample window length")
    p.add_argument("--test", required=True, metavar="DURATION", help="out-of-sample window length")
    p.add_argument(
        "--step", metavar="DURATION", help="how far windows move (default: --test; at least --test)"
    )
    p.add_argument(
        "--anchored", action="store_true", help="every train window starts at the start of the data"
    )
    add_search_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.analysis.run_analysis import parse_duration_ns
    from tradewright.core.errors import ConfigError
    from tradewright.research.executors import make_executor
    from tradewright.research.walkforward import WalkForwardSpec, run_walkforward

    try:
        train, test = parse_duration_ns(args.train), parse_duration_ns(args.test)
        step = None if args.step is None else parse_duration_ns(args.step)
    except ValueError as exc:
        raise ConfigError(f"--train/--test/--step: {exc}") from None
    spec = WalkForwardSpec(
        sweep=build_spec(args), train_ns=train, test_ns=test, step_ns=step, anchored=args.anchored
    )
    with RichProgress(Console(stderr=True), args.quiet) as progress:
        outcome = run_walkforward(
            spec,
            Path(args.out),
            executor_factory=lambda: make_executor(args.ray, args.workers),
            progress=progress,
        )
    table = Table(title=f"walk-forward: {len(outcome.windows)} windows")
    for name in ("#", "chosen", f"in-sample {args.metric}", "out-of-sample run", "note"):
        table.add_column(name)
    for w in outcome.windows:
        chosen = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in w.params.items()) or "–"
        value = "–" if w.in_sample_value is None else f"{w.in_sample_value:.6g}"
        table.add_row(str(w.index), chosen, value, str(w.test_run or "–"), w.note)
    console = wide_console()
    console.print(table)
    console.print(f"out-of-sample report: [bold]{outcome.report}[/]")
    return 0 if all(w.test_run is not None for w in outcome.windows) else 1
