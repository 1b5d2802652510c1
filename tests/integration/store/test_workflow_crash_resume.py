"""Crash and resume at every step boundary of 2-leg and 3-leg workflows, on SQLite and PostgreSQL.

Each trial runs a plan on a node whose executor records its steps in the saga tables, and "crashes" it at
one step boundary (the executor's crash hook raises; the node — kernel, executor, everything in memory
and every venue answer still on its way — is dropped and its store closed). A new node is built from the
store: it takes up the open workflow, asks the venue what became of each order it cannot account for,
and carries on. Two kinds of node: one whose kernel keeps no order journal (the executor adopts the
orders the venue reports), and one like a live node, whose kernel journals every order in the same store
and which, at start, restores its orders and reconciles them with the venue before the workflows resume. The venue is a `FakeVenue` that outlives the node and records every client order id it
receives. Every trial must end with each id seen once, each leg sent once, and the workflow COMPLETED
or COMPENSATED with the venue's positions where the plan (or its compensation) says.

The process-level version (SIGKILL of a live node between two emulators) needs the multi-venue live
node; the crash hooks it will use are the same two points (`STEP_COMMITTED`, `STEP_ACTED`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.unit.engine.multivenue import A, B, C, Planner
from tradewright.core.clock import SimClock
from tradewright.core.ids import Venue
from tradewright.engine.executor import CRASH_POINTS, MultiLegExecutor
from tradewright.engine.kernel import Kernel
from tradewright.engine.leg_fates import query_leg_fates
from tradewright.engine.reconcile import ApplyEvent, resolve_order
from tradewright.engine.venue_state import VenueStatePort
from tradewright.live.recovery import restore
from tradewright.live.store_sink import StoreSink
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide
from tradewright.model.multileg import ExecutionPolicy, LegSpec, Plan, WorkflowMode, WorkflowStatus
from tradewright.model.orders import Order
from tradewright.model.workflow import WorkflowState
from tradewright.portfolio.portfolio import Portfolio
from tradewright.store import SqlSagaStore, SqlStateStore
from tradewright.testkit.venue import REJECT, FakeVenue, Fate

D = Decimal
T0 = 1_000_000_000
INSTRUMENTS = (A, B, C)


class SimulatedCrash(BaseException):
    """The node dies here (a BaseException: nothing in the node catches it, as nothing catches SIGKILL)."""


class CrashAt:
    """Count step boundaries; raise `SimulatedCrash` at the `n`-th (never when n is 0)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.points: list[str] = []

    def __call__(self, point: str) -> None:
        assert point in CRASH_POINTS
        self.points.append(point)
        if len(self.points) == self.n:
            raise SimulatedCrash(f"{point} #{self.n}")


class Node:
    """One life of a node: kernel, books, the saga store on the test database, executor, strategy."""

    def __init__(
        self,
        clock: SimClock,
        venues: dict[Venue, FakeVenue],
        store: SqlStateStore,
        prefix: str,
        crash: Callable[[str], None] | None,
        *,
        journaled: bool,
    ) -> None:
        self.store = store
        self.venues = venues
        journal = StoreSink(store) if journaled else None
        self.kernel = kernel = Kernel(
            clock, portfolio=Portfolio({"USDT": D(1_000_000)}), id_prefix="T", journal=journal
        )
        for inst in INSTRUMENTS:
            book = OrderBook(inst)
            book.set_level(1, inst.price_to_ticks(D("99.9")), 50)
            book.set_level(-1, inst.price_to_ticks(D("100.1")), 50)
            kernel.add_instrument(inst, book)
        for venue in venues.values():
            kernel.add_execution_client(venue)
            venue.connect(kernel.schedule, kernel.on_venue_event)
        self.strategy = Planner()
        kernel.add_strategy(self.strategy)
        self.saga = SqlSagaStore(store)
        self.executor = MultiLegExecutor(kernel, self.saga, id_prefix=prefix, crash=crash)
        kernel.start()

    def restart(self) -> int:
        """What a node does at start after a crash; return how many orders were looked up at the venue."""
        kernel = self.kernel
        if kernel.journal is not None:  # the live node: restore its orders, reconcile them with the venue
            restore(kernel, self.store.load_state(), lambda order: None, logging.getLogger("test"))
            for order in kernel.orders.open_orders():
                venue = self.venues[order.instrument_id.venue]
                view = asyncio.run(venue.query_order(order.instrument_id, order.client_order_id))
                fills = [] if view is None else asyncio.run(venue.order_fills(view))
                for action in resolve_order(order, view, fills, kernel.clock.now_ns()):
                    assert isinstance(action, ApplyEvent), action
                    kernel.on_venue_event(action.event)
        queries = self.executor.recover()
        ports: dict[Venue, VenueStatePort] = dict(self.venues)
        self.executor.resolve(asyncio.run(query_leg_fates(ports, queries)))
        return len(queries)

    def drain(self) -> None:
        kernel = self.kernel
        while kernel.next_due_ns() < (1 << 62):
            kernel.run_due(kernel.next_due_ns())


def plan(legs: int, mode: WorkflowMode) -> Plan:
    specs = (
        LegSpec(instrument_id=A.id, side=OrderSide.BUY, quantity=D("1"), limit_price=D("100.0")),
        LegSpec(instrument_id=B.id, side=OrderSide.SELL, quantity=D("1"), limit_price=D("100.0")),
        LegSpec(instrument_id=C.id, side=OrderSide.BUY, quantity=D("1"), limit_price=D("100.0")),
    )
    return Plan(legs=specs[:legs], policy=ExecutionPolicy(mode=mode, compensation_retry_ms=10))


def script(failing_leg: int | None, fate: Fate) -> Callable[[Order], Fate]:
    """Fill every order completely, except the failing leg's orders (compensations always fill)."""

    def decide(order: Order) -> Fate:
        parts = order.client_order_id.split("-")
        if failing_leg is not None and parts[1] == str(failing_leg):
            return fate
        return order.quantity

    return decide


Scenario = tuple[int, int | None, Fate, WorkflowStatus]
SCENARIOS: dict[str, Scenario] = {
    "2legs-filled": (2, None, D(0), WorkflowStatus.COMPLETED),
    "2legs-leg1-filled-30pct": (2, 1, D("0.3"), WorkflowStatus.COMPENSATED),
    "3legs-filled": (3, None, D(0), WorkflowStatus.COMPLETED),
    "3legs-leg2-rejected": (3, 2, REJECT, WorkflowStatus.COMPENSATED),
}


@dataclass
class Outcome:
    venues: dict[Venue, FakeVenue]
    state: WorkflowState
    crash: CrashAt
    looked_up: int = 0


def trial(
    make_store: Callable[..., SqlStateStore],
    scenario: Scenario,
    mode: WorkflowMode,
    crash_at: int,
    prefix: str,
    *,
    journaled: bool,
) -> Outcome:
    legs, failing, fate, _ = scenario
    clock = SimClock(T0)
    venues = {
        i.id.venue: FakeVenue(i.id.venue, clock, [i], script=script(failing, fate)) for i in INSTRUMENTS
    }
    crash = CrashAt(crash_at)
    node = Node(clock, venues, make_store(), prefix, crash, journaled=journaled)
    looked_up = 0
    try:
        node.strategy.ctx.execute(plan(legs, mode))
        node.drain()
    except SimulatedCrash:
        node.store.close()  # the process is gone: only what was committed remains
        node = Node(clock, venues, make_store(), prefix, None, journaled=journaled)
        looked_up = node.restart()
        node.drain()
    [state] = [s for s in node.saga.read_workflows(limit=1000) if s.workflow_id.startswith(prefix)]
    node.store.close()
    return Outcome(venues, state, crash, looked_up)


def check(venues: dict[Venue, FakeVenue], state: WorkflowState, scenario: Scenario, where: str) -> None:
    legs, _, _, expected = scenario
    seen = Counter(cid for venue in venues.values() for cid in venue.seen)
    assert all(n == 1 for n in seen.values()), f"{where}: a client order id was sent twice: {seen}"
    for leg in range(legs):
        sent = [cid for cid in seen if cid.startswith(f"{state.workflow_id}-{leg}-")]
        assert len(sent) == 1, f"{where}: leg {leg} reached the venue as {sent}"
    assert state.status is expected, f"{where}: ended {state.status}: {state.reason}"
    held = {iid: venue.positions.get(iid, D(0)) for venue in venues.values() for iid in venue.instruments}
    if expected is WorkflowStatus.COMPLETED:
        want = {spec.instrument_id: spec.side.sign * spec.quantity for spec in state.plan.legs}
        assert {iid: q for iid, q in held.items() if q} == want, f"{where}: venue positions {held}"
    else:
        assert all(q == 0 for q in held.values()), f"{where}: not flat after compensation: {held}"


@pytest.mark.slow
@pytest.mark.parametrize("journaled", [False, True], ids=["no-order-journal", "order-journal"])
@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize(
    "mode", [WorkflowMode.SIMULTANEOUS, WorkflowMode.SEQUENTIAL], ids=["simultaneous", "sequential"]
)
def test_a_crash_at_every_step_boundary_resumes_without_sending_any_order_twice(
    make_store: Callable[..., SqlStateStore], name: str, mode: WorkflowMode, journaled: bool
) -> None:
    scenario = SCENARIOS[name]
    clean = trial(make_store, scenario, mode, 0, "X0w", journaled=journaled)
    check(clean.venues, clean.state, scenario, "without a crash")
    boundaries = len(clean.crash.points)
    assert boundaries >= 2 * scenario[0] + 2  # start, each leg sent (committed + acted) and ended, finish
    looked_up = retried = 0
    for k in range(1, boundaries + 1):
        out = trial(make_store, scenario, mode, k, f"X{k}w", journaled=journaled)
        check(out.venues, out.state, scenario, f"crash at boundary {k} ({out.crash.points[-1]})")
        looked_up += out.looked_up
        retried += any(leg.attempts > 1 for leg in out.state.legs)
    # The trials went through both recovery paths: orders whose fate only the venue knew were looked up,
    # and a leg recorded as sent that never reached the venue went out again as a new attempt.
    assert looked_up > 0 and retried > 0
