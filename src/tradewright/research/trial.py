"""One research run (a "trial"): a backtest of a config with overrides, reduced to its headline metrics.

`run_trial` is what a worker executes, in a local process or on a Ray node: it runs the backtest into
its own run folder (the usual outputs, report included), reads the folder back through the strict
loader and returns the metrics. Tasks and results are small msgspec structs, cheap to pickle; the
run's data never travels back to the coordinator.

`check_point` validates a point without running it: the config schema (unknown keys, bad values), the
strategy's own `Config` and constructor, and its `on_start` (e.g. a size off the lot grid), on the
first rows of the data. Sweeps call it for every point before the first backtest starts.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import msgspec

from tradewright.analysis.returns import Sampling
from tradewright.analysis.run_analysis import analyse_run, calendar_named, headline_metrics
from tradewright.analysis.run_outputs import load_run
from tradewright.backtest.bar_runner import build_bar_engine
from tradewright.backtest.runner import build_engine, run_backtest
from tradewright.config.effective import effective_config_text
from tradewright.config.run import load_run_config
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.data.bars import BarSeries
from tradewright.model.columnar import MarketStream

__all__ = ["TrialResult", "TrialTask", "check_point", "decode_metric", "encode_metric", "run_trial"]


class TrialTask(msgspec.Struct, frozen=True, kw_only=True):
    """What a worker needs to run one trial. `overrides` include the data location; `params` are the
    grid point alone (what the results table shows)."""

    trial_id: str
    config_path: str
    overrides: dict[str, Any]
    params: dict[str, Any]
    run_dir: str
    header: str
    calendar: str = "crypto"
    sampling_ns: int | None = None
    meta: dict[str, Any] = msgspec.field(default_factory=dict)


class TrialResult(msgspec.Struct, frozen=True, kw_only=True):
    """A finished trial: `status` "ok" with metrics, or "error" with the message."""

    trial_id: str
    params: dict[str, Any]
    status: str
    metrics: dict[str, float | int | None] = msgspec.field(default_factory=dict)
    error: str = ""
    run_dir: str = ""
    wall_seconds: float = 0.0
    meta: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_trial(task: TrialTask) -> TrialResult:
    """Run one trial; a failure is returned as an "error" result, never raised (the sweep goes on)."""
    started = time.perf_counter()
    try:
        config = load_run_config(task.config_path, task.overrides)
        text = effective_config_text(Path(task.config_path), task.overrides, header=task.header)
        config = msgspec.structs.replace(config, source_text=text)
        folder, _ = run_backtest(config, out=task.run_dir, overwrite=True)
        sampling = None if task.sampling_ns is None else Sampling(task.sampling_ns)
        calendar = (
            None if task.calendar == "auto" else calendar_named(task.calendar)
        )  # auto: the instrument's
        analysis = analyse_run(load_run(folder), calendar=calendar, sampling=sampling)
        metrics = headline_metrics(analysis)
    except Exception as exc:  # the task boundary: the error is recorded in the results, the sweep goes on
        message = str(exc) if isinstance(exc, TradewrightError) else f"{type(exc).__name__}: {exc}"
        return TrialResult(
            trial_id=task.trial_id,
            params=task.params,
            status="error",
            error=message,
            run_dir=task.run_dir,
            wall_seconds=time.perf_counter() - started,
            meta=task.meta,
        )
    return TrialResult(
        trial_id=task.trial_id,
        params=task.params,
        status="ok",
        metrics=metrics,
        run_dir=task.run_dir,
        wall_seconds=time.perf_counter() - started,
        meta=task.meta,
    )


def check_point(
    config_path: Path, overrides: dict[str, Any], head: MarketStream | BarSeries | None, label: str
) -> None:
    """Raise `ConfigError` starting with `label` when this point cannot run.

    Without `head` only the schema and the strategy's `Config` are checked (no data needed); with it
    the strategy is built and started on those rows as a backtest would.
    """
    try:
        config = load_run_config(config_path, overrides)
        if head is None:
            _check_strategy_params(config)
            return
        if isinstance(head, BarSeries):
            build_bar_engine(config, head, record=False).kernel.start()
        else:
            build_engine(config, head).kernel.start()
    except TradewrightError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{label}: {exc}") from None


def _check_strategy_params(config: Any) -> None:
    from tradewright.config.loader import to_struct
    from tradewright.strategy.loader import load_strategy_class

    cls = load_strategy_class(config)
    if cls.Config is not None:
        to_struct(cls.Config, config.strategy.params, "strategy.params")


def encode_metric(value: float | int | None) -> float | int | str | None:
    """JSON has no infinity: write ±inf as the strings "inf"/"-inf" (NaN is already None)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def decode_metric(value: Any) -> float | int | None:
    if value == "inf":
        return math.inf
    if value == "-inf":
        return -math.inf
    if value is None or isinstance(value, int | float):
        return value
    raise ValueError(f"not a metric value: {value!r}")
