"""Assemble a run's summary, its output files and its HTML report (shared by backtest and paper)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.analysis.recorder import EQUITY_COLUMNS, FILL_COLUMNS, RunRecorder
from tradewright.analysis.report import render_empty_report, render_run_report
from tradewright.analysis.returns import Calendar, Sampling
from tradewright.analysis.run_analysis import analyse_run
from tradewright.analysis.run_folder import RunFolder, span_text
from tradewright.analysis.run_outputs import RunOutputs, load_run
from tradewright.engine.kernel import Kernel
from tradewright.risk.engine import RiskEngine

__all__ = ["build_report_html", "default_title", "summary_of", "write_outputs"]


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
) -> None:
    """Write every output file of a run into its (not yet committed) folder, the report last.

    The report is built from the files just written, read back through the strict loader, so the
    page a run ships with is exactly what `tradewright report RUN_DIR` rebuilds from the folder.
    """
    rec = recorder
    folder.write_text("config.toml", config_text)
    folder.write_orders(kernel.orders.all_orders)
    folder.write_csv("fills.csv", FILL_COLUMNS, rec.fills)
    folder.write_csv("equity.csv", EQUITY_COLUMNS, rec.equity)
    folder.write_json("summary.json", summary)
    folder.write_text("report.html", build_report_html(folder.tmp, title=title))


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
) -> str:
    """Load a run folder (strictly: a missing or cut-off file raises `DataError` naming it) and return
    its report page. `title` defaults to `default_title`; see `analyse_run` for the other options."""
    run = load_run(folder)
    title = default_title(run) if title is None else title
    if len(run.equity) == 0:
        return render_empty_report(run, title=title)
    return render_run_report(analyse_run(run, calendar=calendar, sampling=sampling), title=title)
