"""The outputs of a run over several instruments (backtest or paper): a single-instrument run's files plus
workflows.csv, and a summary with each instrument's figures and the workflows' (see docs/arbitrage.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.engine.kernel import Kernel
from tradewright.runlog.portfolio_recorder import PortfolioRecorder
from tradewright.runlog.workflow_ledger import WORKFLOW_COLUMNS, WorkflowLedger

__all__ = ["write_multi_outputs"]


def write_multi_outputs(
    folder: RunFolder,
    kernel: Kernel,
    recorder: PortfolioRecorder,
    ledger: WorkflowLedger,
    *,
    rows: int,
    wall_seconds: float,
    starting_balance: Decimal,
    far_levels_dropped: int,
    title: str,
    config_text: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write every output file into the (not yet committed) folder; return the summary."""
    summary = summary_of(
        kernel,
        recorder,
        rows=rows,
        wall_seconds=wall_seconds,
        folder=Path(folder.final),
        starting_balance=starting_balance,
        extra=extra,
    )
    positions = kernel.portfolio.positions
    summary.update(
        {
            "instrument": ", ".join(str(i) for i in recorder.instrument_ids),
            "instruments": recorder.positions(),
            "starting_positions": {
                str(iid): {"size": str(qty), "at": str(mid)}
                for iid, (qty, mid) in recorder.starting_positions.items()
            },
            "fees": str(sum((p.fees for p in positions), Decimal(0))),
            "realized_pnl": str(sum((p.realized_pnl for p in positions), Decimal(0))),
            "final_position": str(recorder.equity[-1][7]) if recorder.equity else "0",
            "far_levels_dropped": far_levels_dropped,
            **ledger.summary(),
        }
    )
    folder.write_csv("workflows.csv", WORKFLOW_COLUMNS, ledger.rows())
    write_outputs(folder, kernel, recorder, summary, title=title, config_text=config_text)
    return summary
