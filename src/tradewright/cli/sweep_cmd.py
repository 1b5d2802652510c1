"""`tradewright sweep CONFIG.toml --grid KEY=VALUES ... --out SWEEP_DIR`: backtests over a parameter grid
(or an Optuna search), in parallel on local processes or a Ray cluster, ranked by a metric, resumable."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

__all__ = ["RichProgress", "add_search_arguments", "build_spec", "print_table", "register", "wide_console"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run backtests over a parameter grid or an Optuna search, in parallel",
        description="Run one backtest per point of the grid (every combination of the --grid options) or per "
        "trial of an Optuna TPE search (--optuna N), in parallel; rank them by --metric. Every key and value is "
        "checked before the first backtest starts. Results stream to SWEEP_DIR/results.jsonl as trials finish, "
        "each run keeps its own folder under SWEEP_DIR/runs/, and running the same command again skips the "
        "trials already done.",
    )
    p.add_argument("config", help="path to the run config (TOML)")
    add_search_arguments(p)
    p.add_argument("--top", type=int, default=20, help="rows of the ranked table to print (default 20)")
    p.set_defaults(func=run)


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """The options sweep and walkforward share."""
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=VALUES",
        help="a parameter to vary: KEY=v1,v2,v3 (values read as TOML, like --set) or KEY=LO..HI[:STEP]; "
        "repeat for more parameters, e.g. --grid strategy.params.offset_ticks=0..3",
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value in every run"
    )
    p.add_argument(
        "--optuna", type=int, metavar="N", help="run N trials of an Optuna TPE search instead of the grid"
    )
    p.add_argument(
        "--metric", default="sharpe", help="metric to rank by (default sharpe; see docs/research.md)"
    )
    p.add_argument("--direction", choices=("maximize", "minimize"), default="maximize")
    p.add_argument("--seed", type=int, default=0, help="seed of the Optuna sampler (default 0)")
    p.add_argument(
        "--workers", type=int, help="trials at once (default: one per CPU; Ray: the cluster's CPUs)"
    )
    p.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run on a Ray cluster at ADDRESS (host:port), or 'local' to start one on this machine",
    )
    p.add_argument(
        "--calendar",
        default="auto",
        help="annualisation calendar: crypto, us_equities or cme (default auto: the instrument's)",
    )
    p.add_argument(
        "--sampling", metavar="PERIOD", help="return sampling, e.g. 1s, 1m, 1d (default: from run length)"
    )
    p.add_argument("--out", required=True, help="sweep folder (created; an existing one is resumed)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def build_spec(args: argparse.Namespace) -> Any:
    """The `SweepSpec` the command line describes."""
    from tradewright.analysis.run_analysis import parse_duration_ns
    from tradewright.cli.backtest_cmd import parse_overrides
    from tradewright.core.errors import ConfigError
    from tradewright.research.grid import parse_axis
    from tradewright.research.sweep import SweepSpec

    try:
        sampling_ns = None if args.sampling is None else parse_duration_ns(args.sampling)
    except ValueError as exc:
        raise ConfigError(f"--sampling: {exc}") from None
    return SweepSpec(
        config_path=Path(args.config),
        axes=tuple(parse_axis(text) for text in args.grid),
        set_overrides=parse_overrides(args.set),
        metric=args.metric,
        direction=args.direction,
        optuna_trials=args.optuna,
        seed=args.seed,
        calendar=args.calendar,
        sampling_ns=sampling_ns,
    )


class RichProgress:
    """Progress of a sweep on stderr: a bar on a terminal, one line per trial otherwise."""

    def __init__(self, console: Console, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.bar: Progress | None = None
        self.task: Any = None
        self.done = 0
        self.total = 0

    def __enter__(self) -> RichProgress:
        if not self.quiet and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]{task.description}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def begin(self, total: int, reused: int, executor: str) -> None:
        self.done, self.total = 0, total
        if self.quiet:
            return
        already = f", {reused} already done" if reused else ""
        self.console.print(f"{total} trial(s) to run{already}, on {executor}", highlight=False)
        if self.bar is not None:
            self.task = self.bar.add_task("trials", total=total)

    def result(self, result: Any) -> None:
        self.done += 1
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, advance=1)
        params = " ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in result.params.items())
        if not result.ok:
            self.console.print(
                f"[red]trial {result.trial_id} failed[/] ({params}): {result.error}", highlight=False
            )
        elif self.bar is None:
            self.console.print(
                f"[{self.done}/{self.total}] {result.trial_id} {params}  {result.wall_seconds:.1f} s",
                highlight=False,
            )

    def message(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, highlight=False)


def run(args: argparse.Namespace) -> int:
    from tradewright.research.executors import make_executor
    from tradewright.research.sweep import run_sweep

    spec = build_spec(args)
    err = Console(stderr=True)
    with RichProgress(err, args.quiet) as progress:
        outcome = run_sweep(
            spec,
            Path(args.out),
            executor_factory=lambda: make_executor(args.ray, args.workers),
            progress=progress,
        )
    print_table(wide_console(), outcome, args.top)
    if outcome.failed:
        err.print(f"[red]{outcome.failed} trial(s) failed[/]; see {outcome.folder / 'results.jsonl'}")
        return 1
    return 0


def print_table(console: Console, outcome: Any, top: int) -> None:
    """Print the ranked table (best first) and where the results are."""
    metric = outcome.metric
    columns = [
        metric,
        *(m for m in ("net_pnl", "sharpe", "max_drawdown", "fills", "fill_ratio") if m != metric),
    ]
    arrow = "↓" if outcome.direction == "maximize" else "↑"
    table = Table(title=f"{len(outcome.ranked)} configurations ranked by {metric} {arrow}")
    table.add_column("#", justify="right")
    table.add_column("trial")
    for key in outcome.param_keys:
        table.add_column(key.rsplit(".", 1)[-1], justify="right")
    for name in columns:
        table.add_column(name, justify="right", style="bold" if name == metric else None)
    for i, r in enumerate(outcome.ranked[:top], start=1):
        cells = [_fmt(r.metrics.get(m)) if r.ok else "failed" for m in columns]
        table.add_row(str(i), r.trial_id, *(str(r.params.get(k, "")) for k in outcome.param_keys), *cells)
    console.print(table)
    console.print(
        f"ran {outcome.ran}, reused {outcome.reused}, failed {outcome.failed} · table: {outcome.folder / 'results.csv'}",
        highlight=False,
    )
    best = outcome.best
    if best is not None:
        console.print(f"best: {best.params} → {Path(best.run_dir) / 'report.html'}", highlight=False)


def wide_console() -> Console:
    """Standard output; when it is a file or a pipe, wide enough that tables are not cut to 80 columns."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.6g}"
