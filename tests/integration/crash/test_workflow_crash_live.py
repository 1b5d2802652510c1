"""Workflows survive a killed live node: the process dies (os._exit, as abrupt as SIGKILL) at a step
boundary of a workflow, a new `tradewright live` process starts on the same store, takes the workflow up
(looking its orders up at the venue by client order id) and finishes it, against the Binance USD-M
emulator that kept running.

Every boundary is tried, on SQLite and on PostgreSQL: each step the executor records (`workflow_step_committed:N`:
the step is durable and not acted on) and each order it hands to the kernel (`workflow_step_acted:N`:
sent, nothing newer recorded). After each trial:

- the venue saw every client order id once, and exactly one order per leg (a leg recorded as sent but
  never received goes out again as the next attempt; one received is never sent again);
- the workflow ended COMPLETED (or ABORTED, with nothing filled, when a leg sent again found no price);
- the store's fills are the venue's fills, its position the venue's; nothing is left open.

The live node trades one instrument, and a plan has one leg per instrument, so the workflows here have one
leg; 2- and 3-leg workflows are crashed at every boundary in-process
(tests/integration/store/test_workflow_crash_resume.py) until a live node trades several venues — then
`SIDES` takes more legs and `legs.py` their instruments.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.crash.harness import Emulator, Node, StoreView, wait_until, write_config
from tests.integration.store.conftest import PgSchema, pg_unavailable
from tradewright.live.crash import CRASH_ENV

pytestmark = pytest.mark.slow

LEGS = Path(__file__).with_name("legs.py")
SPEED = 1.0


def _boundaries(legs: int) -> list[str]:
    # started, each leg sent, each leg ended, finished; each sent leg is also handed to the kernel
    committed = 1 + legs + legs + 1
    return [f"workflow_step_committed:{n}" for n in range(1, committed + 1)] + [
        f"workflow_step_acted:{n}" for n in range(1, legs + 1)
    ]


SIDES = ["BUY"]  # one leg per instrument the node trades
SESSIONS = {backend: _boundaries(len(SIDES)) for backend in ("sqlite", "postgresql")}


def _config(folder: Path, emulator: Emulator, url: str, sides: list[str], start_plans: int) -> Path:
    return write_config(
        folder,
        emulator,
        url,
        strategy={"path": str(LEGS), "class": "LegsTrader", "id": "L"},
        params={"size": "0.002", "sides": sides, "start_plans": start_plans, "through_ticks": 200},
    )


def run_session(backend: str, folder: Path) -> int:
    folder.mkdir()
    schema = PgSchema() if backend == "postgresql" else None
    url = schema.url if schema is not None else f"sqlite:///{folder / 'store.sqlite'}"
    emulator = Emulator(folder / "emulator", speed=SPEED)
    emulator.pause()
    store = StoreView(url)
    try:
        for n, hook in enumerate(SESSIONS[backend]):
            trial = folder / f"{n:02d}"
            trial.mkdir()
            crash_and_resume(hook, emulator, folder, url, trial)
            check(f"{backend} {hook}", emulator, store, trials=n + 1)
        return len(SESSIONS[backend])
    finally:
        store.close()
        emulator.stop()
        if schema is not None:
            schema.drop()


def _finished(url: str) -> bool:
    view = StoreView(url)
    try:
        return all(
            r[0] not in ("RUNNING", "COMPENSATING") for r in view.rows("SELECT status FROM saga_workflows")
        )
    finally:
        view.close()


def crash_and_resume(hook: str, emulator: Emulator, folder: Path, url: str, logs: Path) -> None:
    config = _config(folder, emulator, url, SIDES, start_plans=1)
    with Node(config, logs / "crashed.log", {CRASH_ENV: hook}) as node:
        node.wait_started()
        emulator.resume()
        code = node.wait_exit(90)
        assert code == 137 and f"crash hook {hook} reached" in node.text(), (
            f"{hook}: the crash hook did not fire (exit {code}):\n{node.text()[-3000:]}"
        )
    emulator.pause()
    config = _config(folder, emulator, url, SIDES, start_plans=0)  # the restarted node starts no plan
    with Node(config, logs / "restarted.log") as restarted:
        restarted.wait_started()
        emulator.resume()
        wait_until(lambda: _finished(url), 60, f"{hook}: the restarted node to finish the workflow")
        code = restarted.terminate()
        assert code == 0, (
            f"{hook}: the restarted node did not stop cleanly ({code}):\n{restarted.text()[-3000:]}"
        )
    emulator.pause()


def check(what: str, emulator: Emulator, store: StoreView, trials: int) -> None:
    venue_ids = emulator.client_order_ids()
    assert len(venue_ids) == len(set(venue_ids)), f"{what}: the venue saw a client order id twice"
    workflows = store.rows("SELECT workflow_id, status, state FROM saga_workflows")
    assert len(workflows) == trials, f"{what}: {len(workflows)} workflows for {trials} trials"
    for workflow_id, status, state in workflows:
        mine = [cid for cid in venue_ids if cid.startswith(workflow_id + "-")]
        # COMPLETED; or ABORTED when the leg, sent again after the restart at the price decided before the
        # crash, found the market gone (an IOC that filled nothing: nothing to undo)
        filled = [c for _, c in emulator.fills() if c in mine]
        assert status == "COMPLETED" or (status == "ABORTED" and not filled), (
            f"{what}: {workflow_id} ended {status}"
        )
        # exactly one order per leg reached the venue, whatever attempt it was
        per_leg = Counter(cid.split("-")[-2] for cid in mine)
        assert per_leg == {str(i): 1 for i in range(len(SIDES))}, (
            f"{what}: {workflow_id} legs at the venue {mine}"
        )
        recorded = {leg["client_order_id"] for leg in json.loads(state)["legs"]}
        assert recorded == set(mine), f"{what}: {workflow_id} recorded {recorded}, the venue saw {mine}"
    venue_fills, stored_fills = emulator.fills(), store.fills()
    assert stored_fills == venue_fills, (
        f"{what}: fills differ; venue only: {venue_fills - stored_fills}, store only: {stored_fills - venue_fills}"
    )
    amount, _ = emulator.position()
    assert store.position() == amount, f"{what}: position {store.position()} here, {amount} at the venue"
    assert emulator.open_orders() == [] and store.open_orders() == [], f"{what}: orders left open"


def test_a_node_killed_at_any_step_of_a_workflow_resumes_it_without_sending_a_leg_twice(
    tmp_path: Path,
) -> None:
    sessions = list(SESSIONS)
    unavailable = pg_unavailable()
    if unavailable is not None:
        sessions.remove("postgresql")
        warnings.warn(f"workflow crash session on PostgreSQL not run: {unavailable}", stacklevel=1)
    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        runs = {s: pool.submit(run_session, s, tmp_path / s) for s in sessions}
    failures = [f"{s}: {run.exception()}" for s, run in runs.items() if run.exception() is not None]
    assert not failures, "\n\n".join(failures)
    assert sum(run.result() for run in runs.values()) == sum(len(SESSIONS[s]) for s in sessions)
