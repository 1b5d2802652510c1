"""`tradewright backtest` for bar data (`[data] format = "bars"`): config in, the same run folder out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.backtest.bar_engine import TAG_COLUMNS, BarBacktestEngine
from tradewright.config.run import RunConfig
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.data.bars import BarSeries
from tradewright.data.loading import load_bar_series
from tradewright.risk.engine import RiskEngine
from tradewright.runlog.recorder import FILL_COLUMNS
from tradewright.sim.bar_fill import BarFillConfig
from tradewright.sim.factory import build_fees, build_latency
from tradewright.strategy.loader import make_strategy

__all__ = ["bar_fill_config", "build_bar_engine", "run_bar_backtest"]

# `[venue]` keys that model an L2 venue and mean nothing on bars: refused rather than ignored.
_L2_ONLY = {"queue_model": "conservative", "queue_power": 2.0, "market_data_latency_us": 0}


def bar_fill_config(config: RunConfig) -> BarFillConfig:
    """The bar fill rules from `[venue]` (unset keys take `BarFillConfig`'s defaults)."""
    v = config.venue
    for key, default in _L2_ONLY.items():
        if getattr(v, key) != default:
            raise ConfigError(f"`venue.{key}` applies to L2 data only; bar runs fill by `sim.bar_fill` rules")
    base = BarFillConfig()
    return BarFillConfig(
        slippage_ticks=base.slippage_ticks if v.slippage_ticks is None else v.slippage_ticks,
        intrabar=base.intrabar if v.intrabar is None else v.intrabar,
        limit_fill=base.limit_fill if v.limit_fill is None else v.limit_fill,
    )


def build_bar_engine(
    config: RunConfig, series: BarSeries, events_file: Any = None, *, record: bool = True
) -> BarBacktestEngine:
    """Wire the engine of a bar run: kernel, risk, bar venue, recorder, and the configured strategy."""
    engine = BarBacktestEngine(
        series,
        starting_balance=config.account.starting_balance,
        latency=build_latency(config),
        fees=build_fees(config),
        fill_config=bar_fill_config(config),
        risk=RiskEngine(config.risk),
        equity_sample_ns=config.run.equity_sample_ms * 1_000_000,
        events_file=events_file,
        record=record,
    )
    assert series.instrument is not None
    engine.add_strategy(make_strategy(config, series.instrument.id))
    return engine


def run_bar_backtest(
    config: RunConfig,
    folder_path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    flatten_at: Callable[[int], int] | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Run a bar backtest and write its folder; return (folder, summary). Nothing is left half-written.

    `flatten_at` maps the first bar's open time to the time the kill switch fires (None: it does not).
    `overwrite`: replace a run already in `folder_path` (otherwise the run goes to a dated folder
    beside it; see `tradewright.analysis.run_folder`).
    """
    if config.account.mark_price != "mid":
        raise ConfigError(
            "`account.mark_price` does not apply to bar runs: positions are marked at the last bar price"
        )
    series = load_bar_series([config.resolve(p) for p in config.data.paths], config.data)
    if len(series) == 0:
        raise TradewrightError("the bar file has no bars")
    folder = RunFolder(folder_path, overwrite=overwrite)
    try:
        with folder.path("events.jsonl").open("wb") as events:
            engine = build_bar_engine(config, series, events)
            if flatten_at is not None:
                engine.flatten_at(flatten_at(int(series.ts_open_ns[0])), "backtest --flatten-at")
            result = engine.run(progress)
        recorder = result.recorder
        assert recorder is not None
        summary = summary_of(
            result.kernel,
            recorder,
            rows=result.bars,
            wall_seconds=result.wall_seconds,
            folder=folder.final,
            starting_balance=config.account.starting_balance,
            extra={"bars": result.bars, "bars_per_second": round(result.bars_per_second)},
        )
        # The trade journal's optional columns: why each trade was taken (see BarRecorder).
        tagged = (FILL_COLUMNS + TAG_COLUMNS, recorder.fill_rows_with_tags()) if recorder.has_tags else None
        write_outputs(
            folder,
            result.kernel,
            recorder,
            summary,
            title=f"Backtest: {config.run.name}",
            config_text=config.source_text,
            fills=tagged,
        )
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary
