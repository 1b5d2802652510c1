"""Assemble a run's summary, its output files and its HTML report (shared by backtest and paper)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.analysis.recorder import EQUITY_COLUMNS, FILL_COLUMNS, RunRecorder
from tradewright.analysis.report import render_report, svg_chart
from tradewright.analysis.run_folder import RunFolder, span_text
from tradewright.engine.kernel import Kernel
from tradewright.risk.engine import RiskEngine

__all__ = ["build_report_html", "summary_of", "write_outputs"]


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
    folder: RunFolder, kernel: Kernel, recorder: RunRecorder, summary: dict[str, Any], *, title: str, config_text: str
) -> None:
    """Write every output file of a run into its (not yet committed) folder."""
    rec = recorder
    folder.write_text("config.toml", config_text)
    folder.write_orders(kernel.orders.all_orders)
    folder.write_csv("fills.csv", FILL_COLUMNS, rec.fills)
    folder.write_csv("equity.csv", EQUITY_COLUMNS, rec.equity)
    folder.write_json("summary.json", summary)
    folder.write_text("report.html", build_report_html(rec, summary, title=title, config_text=config_text))


def _col(rows: list[tuple[str, ...]], name: str, columns: tuple[str, ...]) -> list[float | None]:
    i = columns.index(name)
    return [float(r[i]) if r[i] != "" else None for r in rows]


def build_report_html(rec: RunRecorder, summary: dict[str, Any], *, title: str, config_text: str) -> str:
    eq = rec.equity
    t0 = int(eq[0][0]) if eq else 0
    xs = [(int(r[0]) - t0) / 1e9 for r in eq]
    fill_x = [(int(r[0]) - t0) / 1e9 for r in rec.fills]
    fill_px = [float(r[FILL_COLUMNS.index("price")]) for r in rec.fills]
    buys = [(x, p) for x, p, r in zip(fill_x, fill_px, rec.fills, strict=True) if r[6] == "BUY"]
    sells = [(x, p) for x, p, r in zip(fill_x, fill_px, rec.fills, strict=True) if r[6] == "SELL"]
    labels = (eq[0][1], eq[-1][1]) if eq else ("", "")
    price = svg_chart(
        "Price, own quotes and fills",
        [
            ("mid", xs, _col(eq, "mid", EQUITY_COLUMNS), "#3b4252"),
            ("own bid", xs, _col(eq, "own_bid", EQUITY_COLUMNS), "#2e8b57"),
            ("own ask", xs, _col(eq, "own_ask", EQUITY_COLUMNS), "#c0392b"),
        ],
        markers=[
            ("buy fills", [b[0] for b in buys], [b[1] for b in buys], "#1e7d32"),
            ("sell fills", [s[0] for s in sells], [s[1] for s in sells], "#b71c1c"),
        ],
        x_labels=labels,
        height=320,
    )
    equity = svg_chart(
        f"Equity ({summary['settle_currency']})",
        [("equity", xs, _col(eq, "equity", EQUITY_COLUMNS), "#2b6cb0")],
        x_labels=labels,
    )
    inventory = svg_chart(
        "Inventory",
        [("position", xs, _col(eq, "position", EQUITY_COLUMNS), "#8e44ad")],
        x_labels=labels,
        step=True,
    )
    headline = {k: v for k, v in summary.items() if k not in ("output_folder",)}
    return render_report(
        title,
        f"{summary['instrument']} · {summary['data_span']}",
        headline,
        [price, equity, inventory],
        config_text,
    )
