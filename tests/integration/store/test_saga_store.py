"""The saga tables on SQLite and PostgreSQL: steps committed before acting, checked by the workflow's own
state machine, replayed on restart, compensations audited in the same commit."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import msgspec
import pytest
from sqlalchemy import update

from tests.unit.model.workflow_steps import (
    IA,
    IB,
    comp_ended,
    comp_sent,
    ended,
    finished,
    plan,
    sent,
    started,
)
from tradewright.core.errors import InvalidStateTransition, StoreError
from tradewright.core.ids import ClientOrderId
from tradewright.model.enums import OrderSide
from tradewright.model.multileg import LegStatus, WorkflowStatus
from tradewright.model.workflow import WorkflowState, WorkflowStep
from tradewright.store import SqlSagaStore, SqlStateStore
from tradewright.store.schema import saga_workflows

D = Decimal


def record(saga: SqlSagaStore, *builders: Callable[[WorkflowState], WorkflowStep]) -> WorkflowState:
    state = saga.begin(started())
    assert state is not None
    for build in builders:
        state = saga.append(build(state))
    return state


def compensating(saga: SqlSagaStore) -> WorkflowState:
    return record(
        saga,
        lambda s: sent(s, 0),
        lambda s: sent(s, 1),
        lambda s: ended(s, 0, "1"),
        lambda s: ended(s, 1, "0.3", reason="expired"),
        lambda s: comp_sent(s, 0, IA, OrderSide.SELL, "1"),
    )


def test_steps_round_trip_and_replay_to_the_state_each_append_returned(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    state = compensating(saga)
    assert state.status is WorkflowStatus.COMPENSATING and state.steps == 6
    assert saga.load_open() == [state]
    assert WorkflowState.replay(saga.steps("W1")) == state
    assert saga.read_workflows() == [state]
    assert state.legs[1].filled_qty == D("0.3") and state.compensations[0].quantity == D("1")


def test_a_restarted_store_sees_every_committed_step(make_store: Callable[..., SqlStateStore]) -> None:
    first = make_store()
    state = compensating(SqlSagaStore(first))
    first.close()  # the process ends; only what was committed remains

    again = SqlSagaStore(make_store())
    assert again.load_open() == [state]
    assert again.steps("W1")[-1].client_order_id == "W1-C0"  # type: ignore[union-attr]


def test_a_taken_workflow_id_is_refused_without_writing(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    assert saga.begin(started()) is not None
    assert saga.begin(started(plan(3))) is None
    assert len(saga.steps("W1")) == 1 and saga.load_open()[0].plan == plan()


def test_a_step_the_workflow_cannot_take_is_refused_and_writes_nothing(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    state = record(saga, lambda s: sent(s, 0))
    with pytest.raises(InvalidStateTransition, match="leg 0 is SENT"):
        saga.append(sent(state, 0, attempt=2))
    with pytest.raises(InvalidStateTransition, match="still in flight"):
        saga.append(finished(WorkflowStatus.ABORTED))
    assert len(saga.steps("W1")) == 2 and saga.load_open() == [state]
    with pytest.raises(InvalidStateTransition, match="not in the store"):
        saga.append(msgspec.structs.replace(sent(state, 1), workflow_id="W9"))


def test_repeating_the_last_step_is_a_no_op_so_a_retry_after_an_ambiguous_failure_is_safe(
    store: SqlStateStore,
) -> None:
    saga = SqlSagaStore(store)
    state = WorkflowState.begin(started())
    saga.begin(started())
    step = sent(state, 0)
    after = saga.append(step)
    assert saga.append(step) == after
    assert len(saga.steps("W1")) == 2


def test_two_nodes_on_one_database_cannot_both_send_the_same_leg(
    make_store: Callable[..., SqlStateStore],
) -> None:
    one, two = SqlSagaStore(make_store()), SqlSagaStore(make_store())
    state = one.begin(started())
    assert state is not None
    one.append(sent(state, 0))
    with pytest.raises(InvalidStateTransition, match="leg 0 is SENT"):
        two.append(msgspec.structs.replace(sent(state, 0), ts_event=2_001, ts_init=2_001))


def test_two_writers_taking_turns_on_one_workflow_each_build_on_the_others_steps(
    make_store: Callable[..., SqlStateStore],
) -> None:
    one, two = SqlSagaStore(make_store()), SqlSagaStore(make_store())
    state = one.begin(started())
    assert state is not None
    state = one.append(sent(state, 0))
    state = two.append(sent(state, 1))  # `one` has not seen this step
    state = one.append(ended(state, 0, "1"))  # its own copy is stale: it reads the workflow back
    state = two.append(ended(state, 1, "1"))
    assert one.load_open() == two.load_open() == [state]
    assert [type(s).__name__ for s in one.steps("W1")] == [
        "WorkflowStarted",
        "LegSent",
        "LegSent",
        "LegEnded",
        "LegEnded",
    ]


def test_the_database_refuses_to_record_one_client_order_id_as_sent_twice(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    record(saga, lambda s: sent(s, 0))
    other = msgspec.structs.replace(started(), workflow_id="W2")
    w2 = saga.begin(other)
    assert w2 is not None
    forged = msgspec.structs.replace(sent(w2, 0), workflow_id="W2")  # client order id W1-0-1, W1's
    with pytest.raises(StoreError, match=r"(?i)unique"):
        saga.append(forged)
    assert len(saga.steps("W2")) == 1


def test_a_compensation_and_its_audit_record_commit_together(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    state = compensating(saga)
    [audit] = store.read_audit()
    assert (audit.actor, audit.action, audit.ts_ns) == ("executor", "Compensate", 4_000)
    assert audit.reason == state.compensations[0].reason
    assert '"client_order_id":"W1-C0"' in (audit.detail or "")


def test_saga_writes_inside_a_state_store_batch_commit_or_roll_back_with_it(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    state = record(saga, lambda s: sent(s, 0), lambda s: sent(s, 1), lambda s: ended(s, 0, "1"))
    with pytest.raises(RuntimeError), store.batch():
        saga.append(ended(state, 1, "0"))
        raise RuntimeError("the process fails before the batch commits")
    assert saga.load_open() == [state]  # nothing of the batch was kept
    with store.batch():
        after = saga.append(ended(state, 1, "0"))
        after = saga.append(comp_sent(after, 0, IA, OrderSide.SELL, "1"))
    assert saga.load_open() == [after] and len(store.read_audit()) == 1


def test_finished_workflows_leave_the_open_set_but_stay_readable(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    state = compensating(saga)
    state = saga.append(comp_ended(state, 0, "1"))
    state = saga.append(comp_sent(state, 1, IB, OrderSide.BUY, "0.3"))
    state = saga.append(comp_ended(state, 1, "0.3"))
    state = saga.append(finished(WorkflowStatus.COMPENSATED, "unwound: leg 1 ended with 0.3 of 1 filled"))
    assert saga.load_open() == []
    [read] = saga.read_workflows()
    assert read.status is WorkflowStatus.COMPENSATED and read.reason.startswith("unwound")
    assert [c.status for c in read.compensations] == [LegStatus.FILLED, LegStatus.FILLED]
    assert saga.read_workflows(open_only=True) == []
    assert saga.read_workflows(since_ns=read.updated_ns + 1) == []


def test_money_in_steps_comes_back_exact(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    state = record(saga, lambda s: sent(s, 0), lambda s: ended(s, 0, "0.3"))
    step = comp_sent(state, 0, IA, OrderSide.SELL, "0.30000001")
    saga.append(msgspec.structs.replace(step, price=D("123456789.123456789")))
    [loaded] = saga.load_open()
    assert loaded.compensations[0].quantity == D("0.30000001")
    assert loaded.compensations[0].price == D("123456789.123456789")


def test_a_state_that_disagrees_with_its_steps_is_refused_on_load(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    state = record(saga, lambda s: sent(s, 0))
    forged = msgspec.structs.replace(state, reason="edited by hand")
    with store.engine.begin() as conn:
        conn.execute(update(saga_workflows).values(state=msgspec.json.encode(forged).decode()))
    with pytest.raises(StoreError, match="replay to a state other than the one stored"):
        saga.load_open()


def test_client_order_ids_of_sent_steps_are_the_workflow_leg_and_attempt(store: SqlStateStore) -> None:
    saga = SqlSagaStore(store)
    record(saga, lambda s: sent(s, 0), lambda s: ended(s, 0, "0", lost=True), lambda s: sent(s, 0, attempt=2))
    ids = [getattr(step, "client_order_id", None) for step in saga.steps("W1")]
    assert ids == [None, ClientOrderId("W1-0-1"), ClientOrderId("W1-0-1"), ClientOrderId("W1-0-2")]
