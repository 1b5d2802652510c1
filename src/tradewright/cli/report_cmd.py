"""`tradewright report RUN_DIR` rebuilds a run's report.html; `--compare RUN_A RUN_B` puts two runs on one page."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from rich.console import Console

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report",
        help="rebuild a run's HTML report, or compare two runs",
        description="Rebuild RUN_DIR/report.html from the run's files (orders.csv, fills.csv, equity.csv, "
        "summary.json, config.toml), or with --compare write one page with two runs side by side. A missing "
        "or cut-off file is an error naming the file and line; no page is written then.",
    )
    p.add_argument("run_dir", nargs="?", help="run folder (written by backtest, paper, sweep or walkforward)")
    p.add_argument(
        "--compare",
        nargs="+",
        metavar="RUN",
        help="compare two run folders: --compare RUN_A RUN_B, or RUN_A --compare RUN_B",
    )
    p.add_argument(
        "--out", help="where to write the page (default: RUN_DIR/report.html; compare: ./compare.html)"
    )
    p.add_argument(
        "--calendar",
        default=None,
        help="trading calendar for annualisation: crypto (365 × 24 h), us_equities (252 × 6.5 h), cme (252 × 23 h); "
        "default: the instrument's (cme for CME futures, crypto for crypto venues)",
    )
    p.add_argument(
        "--min-annualised-span",
        metavar="DURATION",
        help="runs shorter than this show per-period ratios instead of annualised ones "
        "(default: the config's [run] min_annualised_span, else 30d)",
    )
    p.add_argument(
        "--sampling",
        metavar="PERIOD",
        help="return sampling period, e.g. 1s, 1m, 1h, 1d (default: chosen from the run's length)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.analysis.report_compare import render_compare_report
    from tradewright.analysis.returns import Sampling
    from tradewright.analysis.run_analysis import analyse_run, calendar_named, parse_duration_ns
    from tradewright.analysis.run_outputs import load_run
    from tradewright.analysis.run_summary import build_report_html
    from tradewright.core.errors import ConfigError

    compare = None if args.compare is None else [*([args.run_dir] if args.run_dir else []), *args.compare]
    if compare is None and args.run_dir is None:
        raise ConfigError("give a RUN_DIR, or --compare RUN_A RUN_B")
    if compare is not None and len(compare) != 2:
        raise ConfigError(
            "--compare compares two runs: give either RUN_DIR or --compare RUN_A RUN_B (or RUN_A --compare RUN_B)"
        )
    try:
        calendar = None if args.calendar is None else calendar_named(args.calendar)
        sampling = None if args.sampling is None else Sampling(parse_duration_ns(args.sampling))
        span = None if args.min_annualised_span is None else parse_duration_ns(args.min_annualised_span)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if compare is None:
        html = build_report_html(
            args.run_dir, calendar=calendar, sampling=sampling, min_annualised_span_ns=span
        )
        target = Path(args.out) if args.out else Path(args.run_dir) / "report.html"
    else:
        paths = [Path(p) for p in compare]
        analyses = [
            analyse_run(load_run(p), calendar=calendar, sampling=sampling, min_annualised_span_ns=span)
            for p in paths
        ]
        names = _names(paths)
        html = render_compare_report(analyses[0], analyses[1], names=names)
        target = Path(args.out) if args.out else Path("compare.html")
    _write(target, html)
    Console().print(f"report: [bold]{target}[/]")
    return 0


def _names(paths: list[Path]) -> tuple[str, str]:
    a, b = (p.resolve().name for p in paths)
    if a == b:
        a, b = (str(p) for p in paths)
    return a, b


def _write(target: Path, html: str) -> None:
    """Write the page whole or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, target)
