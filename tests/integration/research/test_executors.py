"""`run_tasks`: bounded in-flight work, every result handed over once, dead workers survived.

A scripted executor stands in for the process pool: it resolves each submitted task from a script
(a result, or a worker that died), so the retry rules are tested without killing processes (the
acceptance tests kill real ones).
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from tradewright.research.executors import run_tasks
from tradewright.research.trial import TrialResult, TrialTask


def _task(i: int) -> TrialTask:
    return TrialTask(
        trial_id=f"t{i}", config_path="c.toml", overrides={}, params={"k": i}, run_dir=f"r{i}", header=""
    )


class ScriptedExecutor:
    """Resolves task i's n-th submission from `deaths`: the first `deaths[i]` submissions find a dead worker."""

    name = "scripted"

    def __init__(self, workers: int, deaths: dict[str, int], broken_submits: tuple[int, ...] = ()) -> None:
        self.workers = workers
        self.deaths = dict(deaths)
        # The n-th calls of submit (0-based) find the pool already broken and raise, as a real
        # ProcessPoolExecutor does when a worker died between two results.
        self.broken_submits = set(broken_submits)
        self.calls = 0
        self.submitted: list[str] = []
        self.restarts = 0
        self.max_in_flight = 0
        self._open: list[Future[TrialResult]] = []

    def submit(self, task: TrialTask) -> Future[TrialResult]:
        self.calls += 1
        if self.calls - 1 in self.broken_submits:
            raise BrokenProcessPool(
                "A child process terminated abruptly, the process pool is not usable anymore"
            )
        self.submitted.append(task.trial_id)
        future: Future[TrialResult] = Future()
        self._open = [f for f in self._open if not f.done()]
        self._open.append(future)
        self.max_in_flight = max(self.max_in_flight, len(self._open))
        if self.deaths.get(task.trial_id, 0) > 0:
            self.deaths[task.trial_id] -= 1
            future.set_exception(BrokenProcessPool("a worker died"))
        else:
            future.set_result(
                TrialResult(trial_id=task.trial_id, params=task.params, status="ok", metrics={"x": 1.0})
            )
        return future

    def restart(self) -> None:
        self.restarts += 1

    def close(self) -> None:
        return None


def test_every_task_gives_one_result_and_in_flight_work_is_bounded() -> None:
    executor = ScriptedExecutor(workers=3, deaths={})
    results: list[TrialResult] = []
    run_tasks([_task(i) for i in range(50)], executor, results.append)
    assert sorted(r.trial_id for r in results) == sorted(f"t{i}" for i in range(50))
    assert executor.max_in_flight <= 6


def test_a_dead_worker_runs_its_trial_again_and_keeps_the_other_results() -> None:
    executor = ScriptedExecutor(workers=2, deaths={"t3": 1})
    results: list[TrialResult] = []
    restarts: list[int] = []
    run_tasks([_task(i) for i in range(8)], executor, results.append, on_restart=restarts.append)
    assert sorted(r.trial_id for r in results) == sorted(f"t{i}" for i in range(8))
    assert all(r.ok for r in results)
    assert executor.submitted.count("t3") == 2 and executor.restarts == 1 and restarts


def test_a_trial_that_kills_its_worker_every_time_is_reported_after_three_attempts() -> None:
    executor = ScriptedExecutor(workers=2, deaths={"t1": 99})
    results: dict[str, TrialResult] = {}
    run_tasks([_task(i) for i in range(4)], executor, lambda r: results.__setitem__(r.trial_id, r))
    assert executor.submitted.count("t1") == 3
    assert results["t1"].status == "error" and "died 3 times" in results["t1"].error
    assert all(results[f"t{i}"].ok for i in (0, 2, 3))


def test_a_pool_found_broken_while_handing_over_the_next_trial_is_replaced_and_no_result_is_lost() -> None:
    # The worker died between two results: the next submit raises instead of returning a future.
    executor = ScriptedExecutor(workers=2, deaths={}, broken_submits=(5, 6))
    results: list[TrialResult] = []
    restarts: list[int] = []

    run_tasks([_task(i) for i in range(10)], executor, results.append, on_restart=restarts.append)

    assert sorted(r.trial_id for r in results) == sorted(f"t{i}" for i in range(10))
    assert all(r.ok for r in results)
    assert sorted(executor.submitted) == sorted(f"t{i}" for i in range(10)), "each trial ran once"
    assert executor.restarts == 2 and restarts == [0, 0]
