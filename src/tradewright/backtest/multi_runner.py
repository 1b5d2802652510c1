"""`tradewright backtest` over recordings of several instruments (`[data] paths` naming more than one
instrument): one kernel, one simulated venue per venue, a strategy that trades them together.

The run folder holds what a single-instrument run writes — fills.csv (every instrument, its id on each row),
orders.csv, equity.csv (cash plus every position at its mid, see `PortfolioRecorder`), events.jsonl,
summary.json, report.html — plus workflows.csv: every multi-leg workflow with its legs, compensations,
hedges, planned and realised edge (`WorkflowLedger`). summary.json adds each instrument's position and
the workflow figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.backtest.multi import MultiBacktestEngine
from tradewright.config.run import RunConfig
from tradewright.core.errors import ConfigError
from tradewright.data.loading import load_stream
from tradewright.engine.executor import executor_for
from tradewright.model.columnar import MarketStream
from tradewright.portfolio.portfolio import MarkPrice
from tradewright.risk.engine import RiskEngine
from tradewright.runlog.workflow_ledger import WORKFLOW_COLUMNS, WorkflowLedger
from tradewright.sim.factory import build_fees, build_latency, build_queue_model
from tradewright.strategy.loader import make_strategy

__all__ = ["instrument_groups", "run_multi_backtest"]


def instrument_groups(paths: Sequence[Path], fmt: str) -> list[list[Path]] | None:
    """The recordings grouped by instrument, when they hold more than one (else None: a plain run).

    Only Binance recordings are told apart by their content (market and symbol); other formats are one
    instrument per run."""
    if fmt not in ("auto", "binance") or len(paths) < 2 or not all(p.is_file() for p in paths):
        return None
    if not all(p.name.lower().endswith((".jsonl.gz", ".jsonl")) for p in paths):
        return None
    from tradewright.data.binance import group_recordings

    groups = group_recordings(paths)
    return groups if len(groups) > 1 else None


def build_multi_engine(
    config: RunConfig, streams: Sequence[MarketStream], events_file: Any = None
) -> MultiBacktestEngine:
    if config.venue.market_data_latency_us or config.venue.latency_file:
        raise ConfigError(
            "a multi-instrument backtest models order latency only: leave `venue.market_data_latency_us` "
            "and `venue.latency_file` unset"
        )
    engine = MultiBacktestEngine(
        streams,
        starting_balance=config.account.starting_balance,
        latency=build_latency(config),
        queue_model=build_queue_model(config),
        fees=build_fees(config),
        risk=RiskEngine(config.risk),
        mark_price=MarkPrice(config.account.mark_price),
        equity_sample_ns=config.run.equity_sample_ms * 1_000_000,
        events_file=events_file,
        starting_positions=config.account.starting_positions,
    )
    # The executor is attached up front (in memory: a backtest needs no durability) so that the
    # ledger hears every workflow from its first step.
    executor_for(engine.kernel)
    engine.add_strategy(make_strategy(config, engine.instrument_ids[0]))
    return engine


def run_multi_backtest(
    config: RunConfig,
    groups: list[list[Path]],
    out: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Run a backtest over several instruments' recordings and write its folder; return (folder, summary)."""
    if config.data.market or config.data.symbol:
        raise ConfigError(
            "`data.market` and `data.symbol` pick one instrument; a multi-instrument run takes each "
            "recording's own (leave them unset)"
        )
    streams = [load_stream(group, fmt="binance") for group in groups]
    folder = RunFolder(out, overwrite=overwrite)
    try:
        with folder.path("events.jsonl").open("wb") as events:
            engine = build_multi_engine(config, streams, events)
            ledger = WorkflowLedger(engine.kernel.instruments)
            engine.kernel.sinks.append(ledger)
            result = engine.run(progress)
        kernel, recorder = result.kernel, result.recorder
        summary = summary_of(
            kernel,
            recorder,
            rows=result.rows,
            wall_seconds=result.wall_seconds,
            folder=folder.final,
            starting_balance=config.account.starting_balance,
        )
        positions = kernel.portfolio.positions
        summary.update(
            {
                "instrument": ", ".join(str(i) for i in result.instrument_ids),
                "instruments": recorder.positions(),
                "starting_positions": {
                    str(iid): {"size": str(qty), "at": str(mid)}
                    for iid, (qty, mid) in recorder.starting_positions.items()
                },
                "fees": str(sum((p.fees for p in positions), Decimal(0))),
                "realized_pnl": str(sum((p.realized_pnl for p in positions), Decimal(0))),
                "final_position": str(recorder.equity[-1][7]) if recorder.equity else "0",
                "far_levels_dropped": engine.far_levels_dropped,
                **ledger.summary(),
            }
        )
        folder.write_csv("workflows.csv", WORKFLOW_COLUMNS, ledger.rows())
        write_outputs(
            folder,
            kernel,
            recorder,
            summary,
            title=f"Backtest: {config.run.name}",
            config_text=config.source_text,
        )
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary
