"""`tradewright backtest`: config in, run folder out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.backtest.bar_runner import run_bar_backtest
from tradewright.backtest.engine import BacktestEngine
from tradewright.backtest.multi_runner import instrument_groups, run_multi_backtest
from tradewright.config.run import RunConfig
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.data.cache import iter_stream
from tradewright.data.loading import detect_format, load_stream
from tradewright.model.columnar import MarketStream
from tradewright.portfolio.portfolio import MarkPrice
from tradewright.risk.engine import RiskEngine
from tradewright.sim.factory import build_fees, build_latency, build_queue_model
from tradewright.strategy.loader import make_strategy

__all__ = ["build_engine", "output_dir", "parse_time_point", "run_backtest"]


def output_dir(config: RunConfig, override: str | None = None) -> Path:
    raw = override or config.run.output_dir.format(name=config.run.name)
    p = Path(raw)
    return p if p.is_absolute() else Path.cwd() / p


def build_engine(
    config: RunConfig, stream: MarketStream | Iterable[MarketStream], events_file: Any = None
) -> BacktestEngine:
    v = config.venue
    engine = BacktestEngine(
        stream,
        starting_balance=config.account.starting_balance,
        latency=build_latency(config),
        market_data_latency_ns=v.market_data_latency_us * 1000,
        queue_model=build_queue_model(config),
        fees=build_fees(config),
        risk=RiskEngine(config.risk),
        mark_price=MarkPrice(config.account.mark_price),
        equity_sample_ns=config.run.equity_sample_ms * 1_000_000,
        events_file=events_file,
    )
    engine.add_strategy(make_strategy(config, engine.window.instrument.id))
    return engine


def run_backtest(
    config: RunConfig,
    *,
    out: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    flatten_at: str | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Run a backtest and write its folder; return (folder, summary). Nothing is left half-written.

    `flatten_at` (seconds after the first row, or an ISO-8601 time) fires the kill switch mid-run.
    A folder that already holds a run is kept: the new one goes to a dated folder beside it, unless
    `overwrite` (see `tradewright.analysis.run_folder`).
    Bar data (`[data] format = "bars"`) runs through the bar engine (`backtest.bar_runner`).
    """
    if config.data.format == "bars":
        at = flatten_at
        return run_bar_backtest(
            config,
            output_dir(config, out),
            progress=progress,
            flatten_at=None if at is None else (lambda start_ns: parse_time_point(at, start_ns)),
            overwrite=overwrite,
        )
    if config.data.format == "binary":
        from tradewright.backtest.binary_runner import run_binary_backtest

        return run_binary_backtest(config, output_dir(config, out), progress=progress, overwrite=overwrite)
    for key in ("slippage_ticks", "intrabar", "limit_fill"):
        if getattr(config.venue, key) is not None:
            raise ConfigError(f'`venue.{key}` applies to bar data only (`data.format = "bars"`)')
    paths = [config.resolve(p) for p in config.data.paths]
    fmt: str = config.data.format
    if fmt == "auto" and len(paths) == 1 and paths[0].exists():
        fmt = detect_format(paths[0])
    groups = instrument_groups(paths, fmt)
    if groups is not None:  # recordings of several instruments: one run trading them together
        if flatten_at is not None:
            raise ConfigError("--flatten-at applies to single-instrument runs")
        return run_multi_backtest(
            config, groups, output_dir(config, out), progress=progress, overwrite=overwrite
        )
    source: MarketStream | Iterable[MarketStream]
    if fmt == "parquet" and len(paths) == 1 and paths[0].exists():
        # A Parquet cache is replayed row group by row group: memory stays flat however long it is.
        source = iter_stream(paths[0])
    else:
        source = load_stream(
            paths, fmt=config.data.format, market=config.data.market, symbol=config.data.symbol
        )
        if len(source) == 0:
            raise TradewrightError("the recording has no rows")
    folder = RunFolder(output_dir(config, out), overwrite=overwrite)
    try:
        with folder.path("events.jsonl").open("wb") as events:
            engine = build_engine(config, source, events)
            if len(engine.window.stream) == 0:
                raise TradewrightError("the recording has no rows")
            if flatten_at is not None:
                at_ns = parse_time_point(flatten_at, int(engine.window.stream.ts_recv[0]))
                engine.flatten_at(at_ns, f"backtest --flatten-at {flatten_at}")
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


def parse_time_point(text: str, start_ns: int) -> int:
    """A time in a run: seconds after `start_ns` ("90", "12.5") or an ISO-8601 time (UTC unless it says)."""
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        seconds = None
    if seconds is not None and seconds.is_finite():
        if seconds < 0:
            raise ConfigError(f"--flatten-at must not be negative, got {text}")
        return start_ns + int(seconds * 1_000_000_000)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--flatten-at {text!r} is neither seconds after the start nor an ISO-8601 time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
