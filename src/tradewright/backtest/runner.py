"""`tradewright backtest`: config in, run folder out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.backtest.engine import BacktestEngine
from tradewright.config.run import RunConfig
from tradewright.core.errors import TradewrightError
from tradewright.data.loading import load_stream
from tradewright.model.columnar import MarketStream
from tradewright.sim.factory import build_fees, build_latency, build_queue_model
from tradewright.strategy.loader import make_strategy

__all__ = ["build_engine", "output_dir", "run_backtest"]


def output_dir(config: RunConfig, override: str | None = None) -> Path:
    raw = override or config.run.output_dir.format(name=config.run.name)
    p = Path(raw)
    return p if p.is_absolute() else Path.cwd() / p


def build_engine(config: RunConfig, stream: MarketStream, events_file: Any = None) -> BacktestEngine:
    v = config.venue
    engine = BacktestEngine(
        stream,
        starting_balance=config.account.starting_balance,
        latency=build_latency(config),
        market_data_latency_ns=v.market_data_latency_us * 1000,
        queue_model=build_queue_model(config),
        fees=build_fees(config),
        seed=config.run.seed,
        equity_sample_ns=config.run.equity_sample_ms * 1_000_000,
        events_file=events_file,
    )
    engine.add_strategy(make_strategy(config, stream.instrument.id))
    return engine


def run_backtest(
    config: RunConfig,
    *,
    out: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run a backtest and write its folder; return (folder, summary). Nothing is left half-written."""
    stream = load_stream(
        [config.resolve(p) for p in config.data.paths],
        fmt=config.data.format,
        market=config.data.market,
        symbol=config.data.symbol,
    )
    if len(stream) == 0:
        raise TradewrightError("the recording has no rows")
    folder = RunFolder(output_dir(config, out))
    try:
        with folder.path("events.jsonl").open("wb") as events:
            engine = build_engine(config, stream, events)
            result = engine.run(progress)
        summary = summary_of(
            result.kernel,
            result.recorder,
            rows=result.rows,
            wall_seconds=result.wall_seconds,
            folder=folder.final,
            starting_balance=config.account.starting_balance,
        )
        write_outputs(
            folder,
            result.kernel,
            result.recorder,
            summary,
            title=f"Backtest: {config.run.name}",
            config_text=config.source_text,
        )
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary
