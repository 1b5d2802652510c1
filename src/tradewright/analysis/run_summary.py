"""Assemble a run's summary, its output files and its HTML report (shared by backtest and paper)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from tradewright.analysis.recorder import EQUITY_COLUMNS, FILL_COLUMNS, RunRecorder
from tradewright.analysis.report import render_empty_report, render_run_report
from tradewright.analysis.report_html import fmt_duration_ns
from tradewright.analysis.returns import Calendar, Sampling
from tradewright.analysis.run_analysis import (
    RunAnalysis,
    analyse_run,
    calendar_for_instrument,
    sampling_label,
)
from tradewright.analysis.run_folder import RunFolder, span_text
from tradewright.analysis.run_outputs import RunOutputs, load_run
from tradewright.engine.kernel import Kernel
from tradewright.risk.engine import RiskEngine

__all__ = ["build_report_html", "default_title", "headline_figures", "summary_of", "write_outputs"]


def summary_of(
    kernel: Kernel,
    recorder: RunRecorder,
    *,
    rows: int,
    wall_seconds: float,
    folder: Path,
    starting_balance: Decimal,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's headline figures (the `--json` payload)."""
    inst = kernel.instruments[recorder.instrument_id]
    rec = recorder
    pos = kernel.portfolio.position(inst)
    last = rec.equity[-1] if rec.equity else None
    unreal = Decimal(last[EQUITY_COLUMNS.index("unrealized_pnl")]) if last else Decimal(0)
    equity = Decimal(last[EQUITY_COLUMNS.index("equity")]) if last else starting_balance
    orders = kernel.orders.all_orders
    span = span_text(int(rec.equity[0][0]), int(rec.equity[-1][0])) if rec.equity else ""
    return {
        "output_folder": str(folder),
        "instrument": str(inst.id),
        "data_span": span,
        "events": rows,
        "orders": len(orders),
        "orders_denied": kernel.counts.get("orders_denied", 0),
        "orders_rejected": sum(1 for o in orders if o.status.value == "REJECTED"),
        "fills": len(rec.fills),
        "maker_volume": str(rec.maker_volume),
        "taker_volume": str(rec.taker_volume),
        "fees": str(pos.fees),
        "realized_pnl": str(pos.realized_pnl),
        "unrealized_pnl": str(unreal),
        "net_pnl": str(equity - starting_balance),
        "starting_balance": str(starting_balance),
        "final_equity": str(equity),
        "final_position": str(pos.quantity),
        "max_abs_inventory": str(rec.max_abs_position),
        "wall_seconds": round(wall_seconds, 3),
        "events_per_second": round(rows / wall_seconds) if wall_seconds > 0 else 0,
        "settle_currency": inst.settle,
        "calendar": calendar_for_instrument(str(inst.id)),
        **(kernel.risk.summary() if isinstance(kernel.risk, RiskEngine) else {}),
        **(extra or {}),
    }


def write_outputs(
    folder: RunFolder,
    kernel: Kernel,
    recorder: RunRecorder,
    summary: dict[str, Any],
    *,
    title: str,
    config_text: str,
    fills: tuple[Sequence[str], Iterable[Sequence[str]]] | None = None,
) -> RunAnalysis | None:
    """Write every output file of a run into its (not yet committed) folder, the report last; return
    the run's analysis (None for a run that recorded no equity row).

    The report is built from the files just written, read back through the strict loader, so the
    page a run ships with is exactly what `tradewright report RUN_DIR` rebuilds from the folder. The
    analysis' headline figures (round trips, win rate, Sharpe, drawdown) are added to `summary` (and
    summary.json) in place. `fills` replaces fills.csv's columns and rows (a bar run adds its tags).
    """
    rec = recorder
    folder.write_text("config.toml", config_text)
    folder.write_orders(kernel.orders.all_orders)
    header, rows = (FILL_COLUMNS, rec.fills) if fills is None else fills
    folder.write_csv("fills.csv", header, rows)
    folder.write_csv("equity.csv", EQUITY_COLUMNS, rec.equity)
    folder.write_json("summary.json", summary)
    run = load_run(folder.tmp)
    if len(run.equity) == 0:
        folder.write_text("report.html", render_empty_report(run, title=title))
        return None
    analysis = analyse_run(run)
    summary.update(headline_figures(analysis))
    folder.write_json("summary.json", summary)
    # The same summary the folder now holds (as the JSON file reads back), without loading it all again.
    run = msgspec.structs.replace(run, summary=msgspec.json.decode(msgspec.json.encode(summary)))
    analysis = dataclasses.replace(analysis, run=run)
    folder.write_text("report.html", render_run_report(analysis, title=title))
    return analysis


def headline_figures(a: RunAnalysis) -> dict[str, Any]:
    """The figures a summary leads with: round trips, win rate, Sharpe, max drawdown, return.

    Ratios are floats rounded to 6 significant digits (they rank and describe; money stays exact in
    the other keys). `sharpe` is annualised only when `annualised` is true (the run is at least
    `min_annualised_span` long); otherwise it is the Sharpe ratio of one `return_sampling` period.
    """
    perf = a.performance
    trades = a.trades
    sharpe = perf.sharpe_ratio if a.annualised and perf is not None else a.sharpe_per_period
    return {
        "round_trips": None if trades is None else trades.trades,
        "win_rate": _ratio(None if trades is None else trades.win_rate),
        "sharpe": _ratio(sharpe),
        "annualised": a.annualised,
        "min_annualised_span": fmt_duration_ns(a.min_annualised_span_ns),
        "return_sampling": sampling_label(a.sampling),
        "max_drawdown": _ratio(None if perf is None else perf.max_drawdown),
        "total_return": _ratio(None if perf is None else perf.total_return),
        "calendar": a.calendar.name,
    }


def _ratio(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def default_title(run: RunOutputs) -> str:
    """The title the backtest and paper runners give a run's report: "Backtest: NAME" or "Paper: NAME"."""
    mode = "Paper" if run.summary.get("mode") == "paper" else "Backtest"
    section = run.config.get("run")
    name = section.get("name", "run") if isinstance(section, dict) else "run"
    return f"{mode}: {name}"


def build_report_html(
    folder: str | Path,
    *,
    title: str | None = None,
    calendar: Calendar | None = None,
    sampling: Sampling | None = None,
    min_annualised_span_ns: int | None = None,
) -> str:
    """Load a run folder (strictly: a missing or cut-off file raises `DataError` naming it) and return
    its report page. `title` defaults to `default_title`; see `analyse_run` for the other options."""
    run = load_run(folder)
    title = default_title(run) if title is None else title
    if len(run.equity) == 0:
        return render_empty_report(run, title=title)
    analysis = analyse_run(
        run, calendar=calendar, sampling=sampling, min_annualised_span_ns=min_annualised_span_ns
    )
    return render_run_report(analysis, title=title)
