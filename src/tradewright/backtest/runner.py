"""`tradewright backtest`: config in, run folder out."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.backtest.config import RunConfig
from tradewright.backtest.engine import BacktestEngine
from tradewright.config.loader import to_struct
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.data.loading import load_stream
from tradewright.model.columnar import MarketStream
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, EmpiricalLatency, LatencyModel
from tradewright.sim.queue import queue_model_from_config
from tradewright.strategy.base import Strategy

__all__ = ["build_latency", "load_strategy_class", "make_strategy", "run_backtest"]


def resolve(config: RunConfig, relative: str) -> Path:
    p = Path(relative)
    return p if p.is_absolute() else Path(config.base_dir) / p


def load_strategy_class(config: RunConfig) -> type[Strategy]:
    """Import the strategy class named in `[strategy]` (from a file path or a module)."""
    sc = config.strategy
    if bool(sc.path) == bool(sc.module):
        raise ConfigError("`strategy` needs exactly one of `path` (a .py file) or `module`")
    if sc.path:
        file = resolve(config, sc.path)
        if not file.is_file():
            raise ConfigError(f"`strategy.path`: no such file {file}")
        name = f"tradewright_user_strategy_{abs(hash(str(file)))}"
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise ConfigError(f"`strategy.path`: cannot import {file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(sc.module)
        except ImportError as exc:
            raise ConfigError(f"`strategy.module`: cannot import {sc.module}: {exc}") from None
    cls = getattr(module, sc.class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(
            f"`strategy.class`: {sc.class_name} is not a Strategy subclass in {sc.path or sc.module}"
        )
    return cls


def make_strategy(config: RunConfig, stream: MarketStream) -> Strategy:
    cls = load_strategy_class(config)
    params: Any = config.strategy.params
    if cls.Config is not None:
        params = to_struct(cls.Config, config.strategy.params, "strategy.params")
    try:
        return cls(config.strategy.id, [stream.instrument.id], params)
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc)) from None


def build_latency(config: RunConfig) -> LatencyModel:
    v = config.venue
    if v.latency_file:
        return EmpiricalLatency.from_csv(resolve(config, v.latency_file), seed=config.run.seed)
    cancel = None if v.cancel_latency_us is None else v.cancel_latency_us * 1000
    return ConstantLatency(v.order_latency_us * 1000, v.response_latency_us * 1000, cancel)


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
        queue_model=queue_model_from_config(v.queue_model, v.queue_power),
        fees=FeeModel(v.maker_fee, v.taker_fee),
        seed=config.run.seed,
        equity_sample_ns=config.run.equity_sample_ms * 1_000_000,
        events_file=events_file,
    )
    engine.add_strategy(make_strategy(config, stream))
    return engine


def run_backtest(
    config: RunConfig,
    *,
    out: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run a backtest and write its folder; return (folder, summary). Nothing is left half-written."""
    stream = load_stream(
        [resolve(config, p) for p in config.data.paths],
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
