"""Parameter sweeps: one backtest per grid point (or per Optuna trial), in parallel, resumable.

A sweep folder holds

    sweep.json       what is swept: the config (by content), its data (by file size and time), the axes
    results.jsonl    one JSON line per finished trial, appended (and fsync'ed) the moment it finishes
    results.csv      the ranked table of the last run of the sweep
    data/            the Parquet copy of the recording every trial reads
    runs/<trial>/    each trial's own run folder (orders, fills, equity, report.html, its effective config)

Nothing is held in memory but the rank keys: results go to disk as they arrive. Running the same sweep
again skips every trial that has an "ok" line and its run folder, so a sweep that was interrupted (or
whose worker was killed) continues where it stopped. A trial id is a hash of its parameter point, so
extending a grid reuses the points already run.

Every grid key and value is checked before the first backtest starts (`plan_sweep`): unknown keys and
impossible values fail with the `--grid` option that named them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from tradewright.analysis.returns import Sampling
from tradewright.analysis.run_analysis import METRIC_NAMES, calendar_named
from tradewright.config.effective import effective_data, toml_value
from tradewright.config.run import RunConfig, load_run_config
from tradewright.core.errors import ConfigError, DataError
from tradewright.data.bars import BarSeries
from tradewright.model.columnar import MarketStream
from tradewright.research.data_slices import PreparedData, load_bars_of, load_prepared, prepare_data
from tradewright.research.executors import Executor, run_tasks
from tradewright.research.grid import GridAxis, expand_grid, trial_id
from tradewright.research.state import ResultsFile, locked_folder
from tradewright.research.trial import TrialResult, TrialTask, check_point

__all__ = [
    "NullProgress",
    "SweepOutcome",
    "SweepPlan",
    "SweepProgress",
    "SweepSpec",
    "execute_sweep",
    "plan_sweep",
    "rank_results",
    "run_sweep",
]

_MAXIMIZE: Final = "maximize"
_MINIMIZE: Final = "minimize"


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What to sweep and how to rank it. `set_overrides` apply to every trial (like `backtest --set`)."""

    config_path: Path
    axes: tuple[GridAxis, ...]
    set_overrides: dict[str, Any] = field(default_factory=dict)
    metric: str = "sharpe"
    direction: str = _MAXIMIZE
    optuna_trials: int | None = None
    seed: int = 0
    calendar: str = "crypto"
    sampling_ns: int | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRIC_NAMES:
            raise ConfigError(f"--metric {self.metric!r} is not one of: {', '.join(METRIC_NAMES)}")
        if self.direction not in (_MAXIMIZE, _MINIMIZE):
            raise ConfigError(f"--direction must be maximize or minimize, got {self.direction!r}")
        if self.optuna_trials is not None and self.optuna_trials < 1:
            raise ConfigError(f"--optuna needs a number of trials >= 1, got {self.optuna_trials}")
        if not self.axes:
            raise ConfigError("a sweep needs at least one --grid KEY=VALUES")
        try:
            if self.calendar != "auto":  # auto: each run's instrument's calendar
                calendar_named(self.calendar)
            if self.sampling_ns is not None:
                Sampling(self.sampling_ns)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        both = sorted({a.key for a in self.axes} & set(self.set_overrides))
        if both:
            raise ConfigError(f"{both[0]} is given both in --set and in --grid")


class SweepProgress(Protocol):
    def begin(self, total: int, reused: int, executor: str) -> None: ...

    def result(self, result: TrialResult) -> None: ...

    def message(self, text: str) -> None: ...


class NullProgress:
    def begin(self, total: int, reused: int, executor: str) -> None:
        return None

    def result(self, result: TrialResult) -> None:
        return None

    def message(self, text: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """A validated sweep, ready to run: its folder, its data and (for a grid) every point."""

    spec: SweepSpec
    folder: Path
    data: PreparedData
    points: tuple[dict[str, Any], ...] | None  # None: an Optuna search


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """The sweep's trials ranked best first (failures last), and how many ran, were reused, failed."""

    folder: Path
    ranked: list[TrialResult]
    param_keys: tuple[str, ...]
    metric: str
    direction: str
    ran: int
    reused: int
    failed: int
    trials: int

    @property
    def best(self) -> TrialResult | None:
        first = self.ranked[0] if self.ranked else None
        return first if first is not None and first.ok and _finite(first.metrics.get(self.metric)) else None


def run_sweep(
    spec: SweepSpec,
    folder: Path,
    *,
    executor_factory: Callable[[], Executor],
    progress: SweepProgress | None = None,
) -> SweepOutcome:
    """Validate the sweep (no backtest runs if anything is wrong), then run it; return the ranked results."""
    plan = plan_sweep(spec, folder)
    executor = executor_factory()
    try:
        return execute_sweep(plan, executor, progress or NullProgress())
    finally:
        executor.close()


def plan_sweep(
    spec: SweepSpec, folder: Path, *, data: PreparedData | None = None, check: bool = True
) -> SweepPlan:
    """Check every axis value and grid point against the config and the strategy; prepare the data.

    Cheap checks (schema, strategy `Config`) run first and need no data; then, on the first rows of the
    data, every point's strategy is built and started. `data` replaces the config's own (walk-forward).
    """
    config_path = spec.config_path
    points = None if spec.optuna_trials is not None else tuple(expand_grid(spec.axes))
    if spec.optuna_trials is not None:
        expand_grid(
            [GridAxis(key=a.key, text=a.text, values=(0,)) for a in spec.axes]
        )  # refuses repeated keys
    base = dict(spec.set_overrides)
    if check:
        for axis in spec.axes:
            for value in axis.points() if points is not None else axis.endpoints():
                check_point(config_path, {**base, axis.key: value}, None, _label(axis.key, value))
        for point in _points_to_check(spec, points):
            check_point(config_path, {**base, **point}, None, _point_label(point))
    created = not folder.exists()
    try:
        if data is None:
            data = prepare_data(load_run_config(config_path, base), folder / "data")
        if check:
            head = _head(data, load_run_config(config_path, base))
            for point in _points_to_check(spec, points):
                check_point(config_path, {**base, **point, **data.overrides}, head, _point_label(point))
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return SweepPlan(spec=spec, folder=folder, data=data, points=points)


def execute_sweep(plan: SweepPlan, executor: Executor, progress: SweepProgress) -> SweepOutcome:
    """Run the trials of a planned sweep that have no result yet; stream results to results.jsonl."""
    spec = plan.spec
    with locked_folder(plan.folder):
        _pin(plan)
        results = ResultsFile(plan.folder / "results.jsonl")
        _remove_partial_runs(plan.folder / "runs")
        if plan.points is None:
            order, ran, failed = _optuna(plan, executor, progress, results)
        else:
            order, ran, failed = _grid(plan, executor, progress, results)
        latest = results.latest
        chosen = [latest[tid] for tid in order if tid in latest]
        ranked = rank_results(chosen, spec.metric, spec.direction, {tid: i for i, tid in enumerate(order)})
        keys = tuple(a.key for a in spec.axes)
        write_results_csv(plan.folder / "results.csv", ranked, keys, spec.metric)
    trials = spec.optuna_trials if spec.optuna_trials is not None else len(order)
    return SweepOutcome(
        folder=plan.folder,
        ranked=ranked,
        param_keys=keys,
        metric=spec.metric,
        direction=spec.direction,
        ran=ran,
        reused=len(order) - ran,
        failed=failed,
        trials=trials,
    )


def rank_results(
    results: Sequence[TrialResult], metric: str, direction: str, order: dict[str, int]
) -> list[TrialResult]:
    """Best first by `metric`; ties keep the grid order; failed trials and missing values last."""

    def key(r: TrialResult) -> tuple[int, float, int]:
        value = r.metrics.get(metric) if r.ok else None
        position = order.get(r.trial_id, len(order))
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (1, 0.0, position)
        number = float(value)
        return (0, -number if direction == _MAXIMIZE else number, position)

    return sorted(results, key=key)


def write_results_csv(path: Path, ranked: Sequence[TrialResult], keys: Sequence[str], metric: str) -> None:
    """Write the ranked table: rank, trial, the parameters, every metric, status and error."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["rank", "trial", *keys, *METRIC_NAMES, "status", "error"])
        for i, r in enumerate(ranked, start=1):
            params = [_csv_value(r.params.get(k)) for k in keys]
            metrics = [_csv_value(r.metrics.get(m)) for m in METRIC_NAMES]
            writer.writerow([i, r.trial_id, *params, *metrics, r.status, r.error])
    os.replace(tmp, path)


# --- grid and Optuna ------------------------------------------------------------------------------------


def _grid(
    plan: SweepPlan, executor: Executor, progress: SweepProgress, results: ResultsFile
) -> tuple[list[str], int, int]:
    assert plan.points is not None
    tasks = [_task(plan, point) for point in plan.points]
    order = [t.trial_id for t in tasks]
    todo = [t for t in _unique(tasks) if not results.finished(t.trial_id)]
    progress.begin(len(todo), len(set(order)) - len(todo), executor.name)
    counts = {"ran": 0, "failed": 0}

    def done(result: TrialResult) -> None:
        results.append(result)
        counts["ran"] += 1
        counts["failed"] += not result.ok
        progress.result(result)

    run_tasks(todo, executor, done, on_restart=lambda n: progress.message(_restart_note(n)))
    return list(dict.fromkeys(order)), counts["ran"], counts["failed"]


def _optuna(
    plan: SweepPlan, executor: Executor, progress: SweepProgress, results: ResultsFile
) -> tuple[list[str], int, int]:
    try:
        import optuna
    except ImportError:
        raise ConfigError("--optuna needs the optuna package: pip install 'tradewright[optuna]'") from None
    spec = plan.spec
    assert spec.optuna_trials is not None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {a.key: _distribution(optuna, a) for a in spec.axes}
    study = optuna.create_study(
        direction=_MAXIMIZE if spec.direction == _MAXIMIZE else _MINIMIZE,
        sampler=optuna.samplers.TPESampler(seed=spec.seed),
    )
    axes = {a.key: a for a in spec.axes}
    order: list[str] = []
    counts = {"ran": 0, "failed": 0}
    progress.begin(spec.optuna_trials, 0, executor.name)
    # Trials are asked in batches of `workers` and told in trial order once the batch is done, so the
    # search is the same whatever runs it and however results arrive; rerunning it replays the same
    # suggestions and takes finished results from results.jsonl.
    asked = 0
    while asked < spec.optuna_trials:
        batch = [study.ask(distributions) for _ in range(min(executor.workers, spec.optuna_trials - asked))]
        asked += len(batch)
        tasks = [_task(plan, {k: axes[k].snap(t.params[k]) for k in axes}) for t in batch]
        todo = [t for t in _unique(tasks) if not results.finished(t.trial_id)]

        def done(result: TrialResult) -> None:
            results.append(result)
            counts["ran"] += 1
            counts["failed"] += not result.ok

        run_tasks(todo, executor, done, on_restart=lambda n: progress.message(_restart_note(n)))
        for trial, task in zip(batch, tasks, strict=True):
            order.append(task.trial_id)
            result = results.latest.get(task.trial_id)
            value = None if result is None or not result.ok else result.metrics.get(spec.metric)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, float(value))
            if result is not None:
                progress.result(result)
    return list(dict.fromkeys(order)), counts["ran"], counts["failed"]


def _distribution(optuna: Any, axis: GridAxis) -> Any:
    dist = optuna.distributions
    if not axis.is_range:
        for value in axis.values:
            if not (value is None or isinstance(value, bool | int | float | str)):
                raise ConfigError(f"--grid {axis.text}: Optuna choices must be numbers, strings or booleans")
        return dist.CategoricalDistribution(list(axis.values))
    assert axis.low is not None and axis.high is not None
    if axis.integer:
        step = 1 if axis.step is None else int(axis.step)
        return dist.IntDistribution(int(axis.low), int(axis.high), step=step)
    step_f = None if axis.step is None else float(axis.step)
    return dist.FloatDistribution(float(axis.low), float(axis.high), step=step_f)


# --- tasks, state --------------------------------------------------------------------------------------


def _task(plan: SweepPlan, point: dict[str, Any]) -> TrialTask:
    spec = plan.spec
    tid = trial_id(point)
    overrides = {**spec.set_overrides, **point, **plan.data.overrides}
    lines = [f"  {k} = {toml_value(v)}" for k, v in {**spec.set_overrides, **point}.items()]
    header = "\n".join(
        [
            f"Effective config of sweep trial {tid}, written by `tradewright sweep` from",
            f"  {spec.config_path.resolve()}",
            "with these overrides:",
            *lines,
            *data_lines(plan.data),
            "Paths are absolute; comments of the original file are not repeated.",
        ]
    )
    return TrialTask(
        trial_id=tid,
        config_path=str(spec.config_path.resolve()),
        overrides=overrides,
        params=point,
        run_dir=str((plan.folder / "runs" / tid).resolve()),
        header=header,
        calendar=spec.calendar,
        sampling_ns=spec.sampling_ns,
    )


def data_lines(data: PreparedData) -> list[str]:
    """Header lines naming the data overrides of a research run."""
    note = "(the sweep's Parquet copy of the data)" if data.kind == "l2" else "(this window's bars)"
    return [f"  {k} = {toml_value(v)}" for k, v in data.overrides.items()] + (
        [f"  {note}"] if data.overrides else []
    )


def _unique(tasks: Sequence[TrialTask]) -> list[TrialTask]:
    return list({t.trial_id: t for t in tasks}.values())


def _points_to_check(spec: SweepSpec, points: tuple[dict[str, Any], ...] | None) -> list[dict[str, Any]]:
    if points is not None:
        return list(points)
    # An Optuna search: every choice and range end on its own, plus the all-low and all-high corners.
    low = {a.key: a.endpoints()[0] for a in spec.axes}
    high = {a.key: a.endpoints()[-1] for a in spec.axes}
    return [low, high]


def _head(data: PreparedData, config: RunConfig) -> MarketStream | BarSeries:
    """The first rows of the data: enough to build and start a strategy on."""
    if data.kind == "bars":
        bars = data.bars if data.bars is not None else load_bars_of(config)
        return bars.slice(0, min(len(bars), 100))
    stream = load_prepared(data)
    return stream.slice(0, min(len(stream), 1000))


def _label(key: str, value: Any) -> str:
    return f"--grid {key}={toml_value(value)}"


def _point_label(point: dict[str, Any]) -> str:
    return "grid point " + ", ".join(f"{k}={toml_value(v)}" for k, v in point.items())


def _restart_note(n: int) -> str:
    return f"a worker process died; started new workers and running {n} interrupted trial(s) again"


def _identity(plan: SweepPlan) -> dict[str, Any]:
    spec = plan.spec
    effective = effective_data(spec.config_path, spec.set_overrides)
    digest = hashlib.sha256(json.dumps(effective, sort_keys=True, default=str).encode()).hexdigest()
    return {"config": str(spec.config_path.resolve()), "config_sha256": digest, "data": plan.data.fingerprint}


def _pin(plan: SweepPlan) -> None:
    """Record what the folder sweeps; refuse to mix results of another config or other data into it."""
    path = plan.folder / "sweep.json"
    identity = _identity(plan)
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", source=str(path), line=exc.lineno) from None
        for key, what in (("config_sha256", "config"), ("data", "data")):
            if old.get(key) != identity[key]:
                raise ConfigError(
                    f"{plan.folder} holds a sweep of another {what} ({old.get('config')}); "
                    "use another --out folder, or delete this one"
                )
    spec = plan.spec
    record = {
        **identity,
        "axes": [a.text for a in spec.axes],
        "set": {k: toml_value(v) for k, v in spec.set_overrides.items()},
        "metric": spec.metric,
        "direction": spec.direction,
        "optuna_trials": spec.optuna_trials,
        "seed": spec.seed,
    }
    tmp = path.with_name("sweep.json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _remove_partial_runs(runs: Path) -> None:
    """Remove run folders left half-written by a sweep that was killed (we hold the folder's lock)."""
    if runs.is_dir():
        for stale in runs.glob(".*.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not math.isnan(value)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return (
            repr(value) if math.isfinite(value) else ("inf" if value > 0 else ("-inf" if value < 0 else ""))
        )
    if isinstance(value, str):
        return value
    return toml_value(value)
