"""`tradewright journal RUN_DIR --format csv|json`: export every round trip of a run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "journal",
        help="export a run's round trips (CSV or JSON)",
        description="Match the run's fills first-in first-out into round trips and export them: entry and exit "
        "times and prices, side, size, PnL, fees, net PnL and return, risk and R multiple, regime and the "
        "reasons the strategy tagged (docs/research.md explains every column).",
    )
    p.add_argument("run_dir", help="run folder")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradewright.analysis.journal import build_journal
    from tradewright.analysis.run_analysis import contract_terms
    from tradewright.analysis.run_outputs import load_run

    run = load_run(args.run_dir)
    # The contract multiplier (e.g. 125,000 for 6E futures) is read off equity.csv, as the report does.
    terms, problem = contract_terms(run)
    if problem is not None:
        Console(stderr=True).print(f"[yellow]warning[/]: {problem}", highlight=False)
    journal = build_journal(run.fills, instruments=None if terms is None else {terms.id: terms})
    data = journal.to_csv().encode("utf-8") if args.format == "csv" else journal.to_json() + b"\n"
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        target = Path(args.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        Console(stderr=True).print(
            f"{len(journal.round_trips)} round trips ({len(journal.open_lots)} lots still open) → [bold]{target}[/]"
        )
    return 0
