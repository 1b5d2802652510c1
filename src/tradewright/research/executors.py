"""Where trials run: local worker processes (the default) or a Ray cluster, behind one small interface.

Both hand back `concurrent.futures.Future`s, so `run_tasks` drives either the same way: it keeps at
most `2 × workers` trials in flight (memory stays bounded however long the sweep), hands every result
to a callback the moment it arrives (the caller streams it to disk), and survives a worker that dies.

* `LocalExecutor`: a `ProcessPoolExecutor` with the "spawn" start method (no state inherited from the
  coordinator, safe with numba and threads). A killed worker breaks the whole pool, wherever the
  coordinator is (waiting for results, or handing over the next trial); `run_tasks` keeps the results
  that had already arrived, starts a new pool and runs only the trials without a result again.
* `RayExecutor`: `--ray ADDRESS` joins a running cluster, `--ray local` starts one on this machine for
  the run and stops it afterwards. Ray itself retries a task whose worker died. Workers must be able to
  import tradewright and read the config, the data and the output folder at the same paths (one
  machine, or a shared filesystem).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from tradewright.core.errors import ConfigError
from tradewright.research.trial import TrialResult, TrialTask, run_trial

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "make_executor", "run_tasks"]


class Executor(Protocol):
    """Runs `run_trial` somewhere; `workers` is how many trials can run at once."""

    workers: int
    name: str

    def submit(self, task: TrialTask) -> Future[TrialResult]: ...

    def restart(self) -> None:
        """Replace a pool broken by a dead worker (a no-op where the executor recovers by itself)."""

    def close(self) -> None: ...


class LocalExecutor:
    """Trials in local worker processes."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.name = f"{self.workers} local process{'es' if self.workers != 1 else ''}"
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, task: TrialTask) -> Future[TrialResult]:
        return self._pool.submit(run_trial, task)

    def worker_pids(self) -> list[int]:
        """The pids of the current worker processes (for tests and diagnostics)."""
        processes: dict[int, Any] = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Trials as Ray tasks, on a cluster at `address` or on a local one started for the run ("local")."""

    def __init__(self, address: str, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("--ray needs the ray package: pip install 'tradewright[ray]'") from None
        self._ray = ray
        if address == "local":
            ray.init(
                address="local",
                num_cpus=workers if workers is not None else (os.cpu_count() or 1),
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        self.workers = max(1, min(cpus, workers) if workers is not None else cpus)
        self.name = f"Ray ({'local cluster' if address == 'local' else address}, {self.workers} at a time)"
        # A worker that dies takes its task with it; Ray runs it again (twice at most).
        self._remote = ray.remote(num_cpus=1, max_retries=2)(run_trial)

    def submit(self, task: TrialTask) -> Future[TrialResult]:
        future: Future[TrialResult] = self._remote.remote(task).future()
        return future

    def restart(self) -> None:
        return None

    def close(self) -> None:
        self._ray.shutdown()


def make_executor(ray_address: str | None, workers: int | None) -> Executor:
    """The executor the command line asks for: local processes, or Ray when `ray_address` is given."""
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    if ray_address is None:
        return LocalExecutor(workers)
    return RayExecutor(ray_address, workers)


def run_tasks(
    tasks: Sequence[TrialTask],
    executor: Executor,
    on_result: Callable[[TrialResult], None],
    *,
    on_restart: Callable[[int], None] | None = None,
    max_attempts: int = 3,
) -> None:
    """Run every task, calling `on_result` once per task as results arrive (in completion order).

    A worker process that dies breaks a local pool at any moment: while a trial runs, between two
    results, or while the next trial is being handed over (`submit` then raises). Wherever it is
    noticed, the results that had arrived are kept, the pool is replaced, and only the trials without a
    result go round again. Each trial lost with a pool counts an attempt (after `max_attempts` it is
    reported as an "error" result); a trial never handed over does not.
    `on_restart(n)` is told each time a broken pool was replaced and `n` trials run again.
    """
    pending: deque[TrialTask] = deque(tasks)
    in_flight: dict[Future[TrialResult], TrialTask] = {}
    attempts: dict[str, int] = {}
    limit = 2 * executor.workers

    def again(task: TrialTask, *, count: bool) -> bool:
        if count:
            attempts[task.trial_id] = attempts.get(task.trial_id, 0) + 1
            if attempts[task.trial_id] >= max_attempts:
                on_result(_died(task, attempts[task.trial_id]))
                return False
        pending.appendleft(task)
        return True

    while pending or in_flight:
        broken = False
        while pending and len(in_flight) < limit:
            task = pending.popleft()
            try:
                in_flight[executor.submit(task)] = task
            except BrokenExecutor:
                pending.appendleft(task)  # never started: not an attempt
                broken = True
                break
        lost: list[TrialTask] = []
        if not broken:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                task = in_flight.pop(future)
                outcome = _outcome(future, task)
                if outcome is None:
                    broken = True
                    lost.append(task)
                else:
                    on_result(outcome)
        if broken:
            # Every future of a broken pool fails; keep those that finished before it broke.
            wait(in_flight)
            for future, task in list(in_flight.items()):
                outcome = _outcome(future, task)
                if outcome is None:
                    lost.append(task)
                else:
                    on_result(outcome)
            in_flight.clear()
            # Which trial's worker died cannot be told from the others the pool took down with it, so
            # each lost trial counts an attempt: a trial that kills its worker every time ends.
            retried = sum(again(task, count=True) for task in reversed(lost))
            executor.restart()
            if on_restart is not None:
                on_restart(retried)


def _outcome(future: Future[TrialResult], task: TrialTask) -> TrialResult | None:
    """The result of a finished future; None when its worker process died."""
    try:
        return future.result()
    except BrokenExecutor:
        return None
    except Exception as exc:  # a task lost by the executor (e.g. Ray gave up on it): recorded as failed
        return TrialResult(
            trial_id=task.trial_id,
            params=task.params,
            status="error",
            error=f"{type(exc).__name__}: {exc}",
            run_dir=task.run_dir,
            meta=task.meta,
        )


def _died(task: TrialTask, times: int) -> TrialResult:
    return TrialResult(
        trial_id=task.trial_id,
        params=task.params,
        status="error",
        error=f"the worker process running this trial died {times} times (killed, or crashed)",
        run_dir=task.run_dir,
        meta=task.meta,
    )
