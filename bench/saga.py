"""Multi-leg workflow persistence: what recording a step costs, and a whole workflow, per backend.

  * step       — `SqlSagaStore.append` of one step: one transaction (the workflow row, the step row),
                 timed until it is durable — what the executor waits before it may act;
  * workflow   — a two-leg plan from `ctx.execute` to COMPLETED through the kernel and the executor,
                 against an in-memory venue that fills at once: 7 steps (start, 2 x leg sent, 2 x leg
                 ended, finish), i.e. 7 commits.

For comparison, DBOS Transact 3.4 measured 5.3 ms a step on SQLite and 3.2 ms on PostgreSQL on this kind
of machine (../shared/reference/dependency-checks.md). Runs in about half a minute.

    python bench/saga.py [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--workflows 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from store import pct, pg_schema

from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, StrategyId
from tradewright.engine.executor import MultiLegExecutor
from tradewright.engine.kernel import Kernel
from tradewright.model.enums import OrderSide, TimeInForce
from tradewright.model.events import LegEnded, LegSent, WorkflowStarted
from tradewright.model.multileg import LegSpec, LegStatus, Plan, WorkflowStatus
from tradewright.model.workflow import WorkflowState
from tradewright.portfolio.portfolio import Portfolio
from tradewright.store import SqlSagaStore, SqlStateStore, StoreConfig
from tradewright.strategy.base import Strategy
from tradewright.testkit import FakeVenue, make_instrument

A = make_instrument("BTCUSDT", "VENUEA", tick="0.1", lot="0.1")
B = make_instrument("BTCUSDT", "VENUEB", tick="0.1", lot="0.1")
PLAN = Plan(
    legs=(
        LegSpec(instrument_id=A.id, side=OrderSide.BUY, quantity=Decimal(1), limit_price=Decimal("100.0")),
        LegSpec(instrument_id=B.id, side=OrderSide.SELL, quantity=Decimal(1), limit_price=Decimal("100.0")),
    )
)


def steps(store: SqlStateStore, n: int) -> list[float]:
    """Time each append of n workflows' first three steps (start excluded: it is `begin`)."""
    saga = SqlSagaStore(store)
    out = []
    for k in range(n):
        wid = f"S{k}"
        started = WorkflowStarted(
            workflow_id=wid, strategy_id=StrategyId("B"), plan=PLAN, ts_event=k, ts_init=k
        )
        state = saga.begin(started)
        assert state is not None
        for step in (_sent(state, 0), _sent(state, 1)):
            t0 = time.perf_counter()
            state = saga.append(step)
            out.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        saga.append(_ended(state, 0))
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _sent(state: WorkflowState, leg: int) -> LegSent:
    spec = state.plan.legs[leg]
    return LegSent(
        workflow_id=state.workflow_id,
        strategy_id=state.strategy_id,
        leg=leg,
        attempt=1,
        client_order_id=ClientOrderId(f"{state.workflow_id}-{leg}-1"),
        instrument_id=spec.instrument_id,
        side=spec.side,
        quantity=spec.quantity,
        price=spec.limit_price,
        time_in_force=TimeInForce.IOC,
        deadline_ns=10**12,
        ts_event=1,
        ts_init=1,
    )


def _ended(state: WorkflowState, leg: int) -> LegEnded:
    return LegEnded(
        workflow_id=state.workflow_id,
        strategy_id=state.strategy_id,
        leg=leg,
        attempt=1,
        client_order_id=ClientOrderId(f"{state.workflow_id}-{leg}-1"),
        status=LegStatus.FILLED,
        filled_qty=Decimal(1),
        avg_px=Decimal("100.0"),
        ts_event=2,
        ts_init=2,
    )


def workflows(store: SqlStateStore, n: int) -> list[float]:
    """Time n two-leg workflows from `execute` to COMPLETED (kernel, executor, saga tables, a fake venue)."""
    clock = SimClock(10**9)
    kernel = Kernel(clock, portfolio=Portfolio({"USDT": Decimal(10**9)}), id_prefix="T")
    for inst in (A, B):
        kernel.add_instrument(inst)
        venue = FakeVenue(inst.id.venue, clock, [inst], latency_ns=0)
        venue.connect(kernel.schedule, kernel.on_venue_event)
        kernel.add_execution_client(venue)
    strategy = Strategy("B", [A.id, B.id])
    kernel.add_strategy(strategy)
    executor = MultiLegExecutor(kernel, SqlSagaStore(store))
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        wid = strategy.ctx.execute(PLAN)
        while kernel.next_due_ns() <= clock.now_ns():
            kernel.run_due(clock.now_ns())
        out.append((time.perf_counter() - t0) * 1000)
        state = executor.workflow(wid)
        assert state is not None and state.status is WorkflowStatus.COMPLETED, state
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workflows", type=int, default=100, help="workflows per workload (default 100)")
    args = parser.parse_args()
    rows: list[tuple[str, str, list[float]]] = []

    def run(backend: str, url: str) -> None:
        with SqlStateStore(StoreConfig(url=url)) as store:
            rows.append((backend, "step", steps(store, args.workflows)))
            rows.append((backend, "workflow", workflows(store, args.workflows)))

    with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
        run("sqlite FULL", f"sqlite:///{Path(tmp) / 'saga.sqlite'}")
    with pg_schema(args.pg_url) as pg_url:
        if pg_url is not None:
            run("postgresql", pg_url)
    print(f"{'backend':<14}{'workload':<10}{'samples':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for backend, workload, lat in rows:
        print(f"{backend:<14}{workload:<10}{len(lat):>8}{pct(lat, 50):>9.2f}{pct(lat, 99):>9.2f}")
    print(f"reproduce: {sys.executable} bench/saga.py --workflows {args.workflows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
