"""Research at scale: parameter sweeps and walk-forward analysis over backtests.

`sweep` runs one backtest per grid point (or per Optuna trial) in parallel, local processes or a Ray
cluster (`executors`), streaming each result to disk and resuming where an interrupted sweep stopped.
`walkforward` optimises on rolling in-sample windows and tests the winner on the following
out-of-sample window, then reports the out-of-sample runs stitched together. docs/research.md walks
through both.

This package sits above the mode runners: it imports `tradewright.backtest`, never the reverse.
"""

from tradewright.research.executors import Executor, LocalExecutor, RayExecutor, make_executor, run_tasks
from tradewright.research.grid import GridAxis, expand_grid, parse_axis, trial_id
from tradewright.research.sweep import SweepOutcome, SweepProgress, SweepSpec, plan_sweep, run_sweep
from tradewright.research.trial import TrialResult, TrialTask, run_trial
from tradewright.research.walkforward import (
    WalkForwardOutcome,
    WalkForwardSpec,
    plan_windows,
    run_walkforward,
)

__all__ = [
    "Executor",
    "GridAxis",
    "LocalExecutor",
    "RayExecutor",
    "SweepOutcome",
    "SweepProgress",
    "SweepSpec",
    "TrialResult",
    "TrialTask",
    "WalkForwardOutcome",
    "WalkForwardSpec",
    "expand_grid",
    "make_executor",
    "parse_axis",
    "plan_sweep",
    "plan_windows",
    "run_sweep",
    "run_tasks",
    "run_trial",
    "run_walkforward",
    "trial_id",
]
