"""Walk-forward analysis: optimise on a window, trade the winner on the next, roll forward, report.

    |---- train 0 ----|-- test 0 --|
            |---- train 1 ----|-- test 1 --|                 (rolling; --anchored keeps every
                    |---- train 2 ----|-- test 2 --|          train window starting at the data start)

Each train window is a sweep of its own (grid or Optuna, ranked by the chosen metric), in
`OUT/windows/wNN/train`; the best point then runs on the test window that follows, in
`OUT/windows/wNN/test`. The test windows do not overlap (`--step` ≥ `--test`), so their runs chain
into one out-of-sample record: `OUT/report.html` stitches their equity curves (each window starts flat
from where the previous one ended), and lists what each window chose and how it did.

Windows are cut from one data set (`research.data_slices.window_stream`: each opens with a book
snapshot). Everything is resumable like a sweep: finished trials and test runs are not run again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradewright.analysis.report_html import fmt_duration_ns
from tradewright.analysis.returns import Calendar, Sampling
from tradewright.analysis.run_analysis import CALENDARS, calendar_for_instrument, calendar_named
from tradewright.analysis.walkforward import WindowSummary, write_walkforward_report
from tradewright.config.effective import toml_value
from tradewright.config.run import RunConfig, load_run_config
from tradewright.core.errors import ConfigError
from tradewright.data.bars import BarSeries
from tradewright.data.cache import write_stream
from tradewright.model.columnar import MarketStream
from tradewright.research.data_slices import (
    PreparedData,
    load_bars_of,
    load_prepared,
    window_stream,
    write_bar_window,
)
from tradewright.research.executors import Executor, run_tasks
from tradewright.research.state import ResultsFile, locked_folder
from tradewright.research.sweep import (
    NullProgress,
    SweepProgress,
    SweepSpec,
    data_lines,
    execute_sweep,
    plan_sweep,
)
from tradewright.research.trial import TrialResult, TrialTask

__all__ = ["WalkForwardOutcome", "WalkForwardSpec", "Window", "plan_windows", "run_walkforward"]


@dataclass(frozen=True, slots=True)
class WalkForwardSpec:
    """The sweep run on every train window, and the window lengths (ns); `step_ns` None = `test_ns`."""

    sweep: SweepSpec
    train_ns: int
    test_ns: int
    step_ns: int | None = None
    anchored: bool = False

    def __post_init__(self) -> None:
        if min(self.train_ns, self.test_ns, self.step) <= 0:
            raise ConfigError("--train, --test and --step must be > 0")
        if self.step < self.test_ns:
            raise ConfigError(
                "--step must be at least --test: out-of-sample windows must not overlap to be chained into one record"
            )

    @property
    def step(self) -> int:
        return self.test_ns if self.step_ns is None else self.step_ns


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    train_start_ns: int
    train_end_ns: int
    test_start_ns: int
    test_end_ns: int


@dataclass(frozen=True, slots=True)
class WalkForwardOutcome:
    folder: Path
    report: Path
    windows: list[WindowSummary]


def plan_windows(
    start_ns: int, end_ns: int, *, train_ns: int, test_ns: int, step_ns: int, anchored: bool = False
) -> list[Window]:
    """Lay train/test windows over [start_ns, end_ns]; every window must fit whole."""
    if min(train_ns, test_ns, step_ns) <= 0:
        raise ConfigError("--train, --test and --step must be > 0")
    if step_ns < test_ns:
        raise ConfigError(
            "--step must be at least --test: out-of-sample windows must not overlap to be chained into one record"
        )
    windows: list[Window] = []
    offset = 0
    while start_ns + offset + train_ns + test_ns <= end_ns:
        train_end = start_ns + offset + train_ns
        train_start = start_ns if anchored else start_ns + offset
        windows.append(Window(len(windows), train_start, train_end, train_end, train_end + test_ns))
        offset += step_ns
    if not windows:
        span_s = (end_ns - start_ns) / 1e9
        need_s = (train_ns + test_ns) / 1e9
        raise ConfigError(
            f"the data spans {span_s:g} s, too short for one window of --train + --test = {need_s:g} s"
        )
    return windows


def run_walkforward(
    spec: WalkForwardSpec,
    folder: Path,
    *,
    executor_factory: Callable[[], Executor],
    progress: SweepProgress | None = None,
) -> WalkForwardOutcome:
    """Validate everything (no backtest runs if anything is wrong), then run every window and report."""
    progress = progress or NullProgress()
    sweep = spec.sweep
    created = not folder.exists()
    try:
        base = plan_sweep(sweep, folder)  # checks every point on the whole data set and prepares it
        windows = plan_windows(
            base.data.start_ns,
            base.data.end_ns,
            train_ns=spec.train_ns,
            test_ns=spec.test_ns,
            step_ns=spec.step,
            anchored=spec.anchored,
        )
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    with locked_folder(folder):
        _pin(spec, folder, base.data, windows)
        slices = _write_slices(
            base.data, windows, folder / "data", load_run_config(sweep.config_path, sweep.set_overrides)
        )
        executor = executor_factory()
        try:
            best: dict[int, TrialResult | None] = {}
            trials: dict[int, int] = {}
            for window in windows:
                train, _ = slices[window.index]
                progress.message(f"window {window.index}: in-sample sweep")
                plan = plan_sweep(sweep, _window_dir(folder, window) / "train", data=train, check=False)
                outcome = execute_sweep(plan, executor, progress)
                best[window.index] = outcome.best
                trials[window.index] = len(outcome.ranked)
            progress.message("out-of-sample runs")
            oos = _run_tests(spec, folder, windows, slices, best, executor, progress)
        finally:
            executor.close()
        summaries = [
            WindowSummary(
                index=w.index,
                train_start_ns=w.train_start_ns,
                train_end_ns=w.train_end_ns,
                test_start_ns=w.test_start_ns,
                test_end_ns=w.test_end_ns,
                params={} if best[w.index] is None else dict(best[w.index].params),  # type: ignore[union-attr]
                in_sample_value=_metric(best[w.index], sweep.metric),
                trials=trials[w.index],
                test_run=_test_run(oos.get(w.index)),
                note=_note(best[w.index], oos.get(w.index)),
            )
            for w in windows
        ]
        report = write_walkforward_report(
            folder,
            summaries,
            title=f"Walk-forward: {sweep.config_path.stem}",
            metric=sweep.metric,
            direction=sweep.direction,
            config_text=sweep.config_path.read_text(encoding="utf-8"),
            settings=_settings(spec, windows),
            calendar=_calendar(sweep.calendar, summaries),
            sampling=None if sweep.sampling_ns is None else Sampling(sweep.sampling_ns),
        )
    return WalkForwardOutcome(folder=folder, report=report, windows=summaries)


def _window_dir(folder: Path, window: Window) -> Path:
    return folder / "windows" / f"w{window.index:02d}"


def _write_slices(
    data: PreparedData, windows: list[Window], target: Path, config: RunConfig
) -> dict[int, tuple[PreparedData, PreparedData]]:
    """Write each window's train and test data (once; a resumed run reuses the files)."""
    out: dict[int, tuple[PreparedData, PreparedData]] = {}
    stream: MarketStream | None = None
    bars: BarSeries | None = None
    suffix = "feather" if data.kind == "bars" else "parquet"
    for w in windows:
        pair = []
        for part, start, end in (
            ("train", w.train_start_ns, w.train_end_ns),
            ("test", w.test_start_ns, w.test_end_ns),
        ):
            path = (target / f"w{w.index:02d}-{part}.{suffix}").resolve()
            overrides: dict[str, object]
            if data.kind == "bars":
                overrides = {
                    "data.paths": [str(path)],
                    "data.bar_format": "freqtrade_feather",
                    "data.stamped_at": "",
                }
                if not path.exists():
                    if bars is None:
                        bars = data.bars if data.bars is not None else load_bars_of(config)
                    overrides = write_bar_window(bars, start, end, path)
            else:
                overrides = {"data.paths": [str(path)], "data.format": "parquet"}
                if not path.exists():
                    stream = load_prepared(data) if stream is None else stream
                    write_stream(window_stream(stream, start, end), path)
            pair.append(
                PreparedData(
                    path=path,
                    instrument=data.instrument,
                    rows=0,
                    start_ns=start,
                    end_ns=end,
                    fingerprint=f"{data.fingerprint}:{start}-{end}",
                    kind=data.kind,
                    overrides=overrides,
                )
            )
        out[w.index] = (pair[0], pair[1])
    return out


def _run_tests(
    spec: WalkForwardSpec,
    folder: Path,
    windows: list[Window],
    slices: dict[int, tuple[PreparedData, PreparedData]],
    best: dict[int, TrialResult | None],
    executor: Executor,
    progress: SweepProgress,
) -> dict[int, TrialResult]:
    sweep = spec.sweep
    results = ResultsFile(folder / "oos.jsonl")
    tasks = []
    for w in windows:
        winner = best[w.index]
        if winner is None:
            continue
        _, test = slices[w.index]
        params = dict(winner.params)
        run_dir = (_window_dir(folder, w) / "test").resolve()
        lines = [f"  {k} = {toml_value(v)}" for k, v in {**sweep.set_overrides, **params}.items()]
        header = "\n".join(
            [
                f"Effective config of walk-forward window {w.index} (out of sample), written by",
                f"`tradewright walkforward` from {sweep.config_path.resolve()}",
                f"with the in-sample winner (trial {winner.trial_id}) and these overrides:",
                *lines,
                *data_lines(test),
                "Paths are absolute; comments of the original file are not repeated.",
            ]
        )
        tasks.append(
            TrialTask(
                trial_id=f"w{w.index:02d}-{winner.trial_id}",
                config_path=str(sweep.config_path.resolve()),
                overrides={**sweep.set_overrides, **params, **test.overrides},
                params=params,
                run_dir=str(run_dir),
                header=header,
                calendar=sweep.calendar,
                sampling_ns=sweep.sampling_ns,
                meta={"window": w.index},
            )
        )
    todo = [t for t in tasks if not results.finished(t.trial_id)]
    progress.begin(len(todo), len(tasks) - len(todo), executor.name)

    def done(result: TrialResult) -> None:
        results.append(result)
        progress.result(result)

    run_tasks(todo, executor, done)
    by_window: dict[int, TrialResult] = {}
    for task in tasks:
        result = results.latest.get(task.trial_id)
        if result is not None:
            by_window[int(task.meta["window"])] = result
    return by_window


def _metric(result: TrialResult | None, metric: str) -> float | None:
    if result is None:
        return None
    value = result.metrics.get(metric)
    return None if value is None else float(value)


def _calendar(name: str, summaries: list[WindowSummary]) -> Calendar:
    """The named calendar; "auto": the instrument's (read off the first test run), as for a single run."""
    if name != "auto":
        return calendar_named(name)
    for summary in summaries:
        if summary.test_run is not None:
            run = json.loads((summary.test_run / "summary.json").read_text(encoding="utf-8"))
            return CALENDARS[calendar_for_instrument(str(run.get("instrument", "")))]
    return CALENDARS["crypto"]


def _test_run(result: TrialResult | None) -> Path | None:
    return None if result is None or not result.ok else Path(result.run_dir)


def _note(winner: TrialResult | None, test: TrialResult | None) -> str:
    if winner is None:
        return "no in-sample trial had a finite metric: nothing traded out of sample"
    if test is None:
        return "the out-of-sample run did not finish"
    if not test.ok:
        return f"the out-of-sample run failed: {test.error}"
    return ""


def _settings(spec: WalkForwardSpec, windows: list[Window]) -> list[tuple[str, str]]:
    sweep = spec.sweep
    search = f"Optuna TPE, {sweep.optuna_trials} trials" if sweep.optuna_trials else "grid"
    return [
        ("config", str(sweep.config_path)),
        ("windows", f"{len(windows)} ({'anchored' if spec.anchored else 'rolling'})"),
        (
            "train / test / step",
            " / ".join(fmt_duration_ns(ns) for ns in (spec.train_ns, spec.test_ns, spec.step)),
        ),
        ("search", f"{search} over " + "; ".join(a.text for a in sweep.axes)),
        ("chosen by", f"{sweep.direction} {sweep.metric} in sample"),
    ]


def _pin(spec: WalkForwardSpec, folder: Path, data: PreparedData, windows: list[Window]) -> None:
    """Refuse to resume into a folder made for other data or other windows."""
    path = folder / "walkforward.json"
    record: dict[str, Any] = {
        "data": data.fingerprint,
        "windows": [[w.train_start_ns, w.train_end_ns, w.test_start_ns, w.test_end_ns] for w in windows],
    }
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old.get("data") != record["data"] or old.get("windows") != record["windows"]:
            raise ConfigError(
                f"{folder} holds a walk-forward over other data or windows; use another --out folder, or delete it"
            )
    record["axes"] = [a.text for a in spec.sweep.axes]
    record["metric"] = spec.sweep.metric
    tmp = path.with_name("walkforward.json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
