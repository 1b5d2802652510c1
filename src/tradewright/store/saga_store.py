"""`SqlSagaStore`: the multi-leg executor's saga tables on the node's SQLite or PostgreSQL store.

It implements `tradewright.engine.saga.SagaStore` in the order journal's style: each step is one
transaction, committed before the executor acts on it; the step is checked against the workflow's
state with the model's own state machine first (a step the workflow cannot take raises
`InvalidStateTransition` and writes nothing); the workflow row carries `step_count`, so a write based on
a stale view fails with a `StoreError` instead of overwriting another writer's step (the store keeps the
state it last wrote for each open workflow, so a step costs one UPDATE and one INSERT, and reads the
workflow back only when that copy turns out stale); a `CompensationSent`
and its audit record commit together. Restart reads rebuild every open workflow by replaying its steps
and check the result against the stored state.

It shares the `SqlStateStore`'s transactions (one lock; a write inside the state store's `batch()`
joins that batch), so the saga and the orders can never disagree about what was committed first.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from tradewright.core.errors import InvalidStateTransition, StoreError
from tradewright.model.events import CompensationSent, LegEnded, LegSent, WorkflowStarted
from tradewright.model.multileg import WorkflowStatus
from tradewright.model.workflow import STEP_TYPES, WorkflowState, WorkflowStep
from tradewright.store import codec
from tradewright.store.engine import describe
from tradewright.store.schema import audit, saga_steps, saga_workflows
from tradewright.store.sql_store import SqlStateStore
from tradewright.store.transactions import Tx

__all__ = ["SqlSagaStore"]

_step_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(functools.reduce(operator.or_, STEP_TYPES))
_state_decoder = msgspec.json.Decoder(WorkflowState)
_OPEN = (WorkflowStatus.RUNNING.value, WorkflowStatus.COMPENSATING.value)
AUDIT_ACTOR = "executor"


def decode_step(payload: str) -> WorkflowStep:
    step: WorkflowStep = _step_decoder.decode(payload)
    return step


class SqlSagaStore:
    """Durable workflow steps on the state store's database (module docstring)."""

    def __init__(self, store: SqlStateStore) -> None:
        self._store = store
        self._txns = store.transactions
        self._where = describe(store.engine)
        self._node = store.node_id
        dialect = postgresql if store.backend == "postgresql" else sqlite
        self._insert: Callable[[Table], Any] = dialect.insert
        # The state (and last step) this store wrote for each open workflow: a write based on it is
        # guarded by the step count, so a stale copy only costs a read, never a wrong write.
        self._known: dict[str, tuple[WorkflowState, WorkflowStep]] = {}

    def __repr__(self) -> str:
        return f"SqlSagaStore({self._where})"

    # --- writes -------------------------------------------------------------------------------
    def begin(self, started: WorkflowStarted) -> WorkflowState | None:
        """Store a new workflow with its first step; None if the workflow id is taken."""
        state = WorkflowState.begin(started)
        with self._txns.write("saga begin") as tx:
            if (
                tx.write(
                    self._insert(saga_workflows).on_conflict_do_nothing(),
                    {**_workflow_row(state), "node_id": self._node},
                ).rowcount
                == 0
            ):
                return None
            tx.write(insert(saga_steps), {**_step_row(started, 1), "node_id": self._node})
            self._known[state.workflow_id] = (state, started)
        return state

    def append(self, step: WorkflowStep) -> WorkflowState:
        """Store one more step; return the workflow's state after it (module docstring)."""
        wid = step.workflow_id
        with self._txns.write(f"saga {type(step).__name__}") as tx:
            try:
                after = self._append_known(tx, step) or self._append_loaded(tx, step)
            except BaseException:
                self._known.pop(wid, None)
                raise
            if after.is_open:
                self._known[wid] = (after, step)
            else:
                self._known.pop(wid, None)
        return after

    def _append_known(self, tx: Tx, step: WorkflowStep) -> WorkflowState | None:
        """The fast path: apply the step to the state this store last wrote, and write it if the database
        still holds that state (the guarded update says so); None when that cannot be trusted."""
        known = self._known.get(step.workflow_id)
        if known is None or known[1] == step:  # a repeat is confirmed against the database, not memory
            return None
        state = known[0]
        try:
            after = state.apply(step)
        except InvalidStateTransition:
            return None  # perhaps only this copy is stale: judge against the database
        if not self._write(tx, step, state.steps, after):
            return None
        return after

    def _append_loaded(self, tx: Tx, step: WorkflowStep) -> WorkflowState:
        """The careful path: read the workflow as the database holds it, then apply and write."""
        wid = step.workflow_id
        row = tx.conn.execute(
            select(saga_workflows.c.step_count, saga_workflows.c.state).where(
                saga_workflows.c.workflow_id == wid
            )
        ).first()
        if row is None:
            raise InvalidStateTransition(f"workflow {wid} is not in the store; begin comes first")
        state = _state_decoder.decode(row.state)
        if _last_step(tx.conn, wid, row.step_count) == step:
            return state  # a retry of the last call, whose commit did happen
        after = state.apply(step)
        if not self._write(tx, step, row.step_count, after):
            raise StoreError(
                f"{self._where}: workflow {wid} was changed by another writer (expected {row.step_count} "
                "stored steps); reload it before writing again"
            )
        return after

    def _write(self, tx: Tx, step: WorkflowStep, steps_before: int, after: WorkflowState) -> bool:
        """Write the step if the workflow row still has `steps_before` steps; False (nothing written) if not."""
        wid = step.workflow_id
        updated = tx.write(
            update(saga_workflows).where(
                and_(saga_workflows.c.workflow_id == wid, saga_workflows.c.step_count == steps_before)
            ),
            {
                "status": after.status.value,
                "step_count": after.steps,
                "updated_ns": after.updated_ns,
                "reason": after.reason,
                "state": codec.encode(after),
            },
        )
        if updated.rowcount != 1:
            return False
        tx.write(insert(saga_steps), {**_step_row(step, after.steps), "node_id": self._node})
        if isinstance(step, CompensationSent):
            tx.write(
                insert(audit),
                {
                    "node_id": self._node,
                    "ts_ns": step.ts_event,
                    "run_id": self._store.run_id,
                    "actor": AUDIT_ACTOR,
                    "action": "Compensate",
                    "reason": step.reason,
                    "detail": codec.encode(step),
                },
            )
        return True

    # --- reads --------------------------------------------------------------------------------
    def load_open(self) -> list[WorkflowState]:
        """Every unfinished workflow, rebuilt by replaying its steps (one consistent snapshot)."""
        with self._txns.read("saga load_open") as conn:
            rows = conn.execute(
                select(saga_workflows.c.workflow_id, saga_workflows.c.state)
                .where(and_(saga_workflows.c.node_id == self._node, saga_workflows.c.status.in_(_OPEN)))
                .order_by(saga_workflows.c.created_ns, saga_workflows.c.workflow_id)
            ).all()
            out = []
            for row in rows:
                replayed = WorkflowState.replay(_steps(conn, row.workflow_id))
                if replayed != _state_decoder.decode(row.state):
                    raise StoreError(
                        f"{self._where}: workflow {row.workflow_id}: its steps replay to a state other than "
                        "the one stored; the saga tables were changed by hand or by another program"
                    )
                out.append(replayed)
        return out

    def read_workflows(
        self, *, open_only: bool = False, since_ns: int = 0, limit: int = 100
    ) -> list[WorkflowState]:
        """Workflows updated since `since_ns` (only unfinished ones with `open_only`), oldest first."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        query = select(saga_workflows.c.state).where(
            and_(saga_workflows.c.node_id == self._node, saga_workflows.c.updated_ns >= since_ns)
        )
        if open_only:
            query = query.where(saga_workflows.c.status.in_(_OPEN))
        query = query.order_by(saga_workflows.c.created_ns, saga_workflows.c.workflow_id).limit(limit)
        with self._txns.read("saga read_workflows") as conn:
            return [_state_decoder.decode(state) for state in conn.execute(query).scalars()]

    def steps(self, workflow_id: str) -> list[WorkflowStep]:
        """Every recorded step of one workflow, oldest first."""
        with self._txns.read("saga steps") as conn:
            return _steps(conn, workflow_id)


def _steps(conn: Connection, workflow_id: str) -> list[WorkflowStep]:
    payloads = conn.execute(
        select(saga_steps.c.payload).where(saga_steps.c.workflow_id == workflow_id).order_by(saga_steps.c.seq)
    ).scalars()
    return [decode_step(p) for p in payloads]


def _last_step(conn: Connection, workflow_id: str, seq: int) -> WorkflowStep:
    payload = conn.execute(
        select(saga_steps.c.payload).where(
            and_(saga_steps.c.workflow_id == workflow_id, saga_steps.c.seq == seq)
        )
    ).scalar_one()
    return decode_step(payload)


def _workflow_row(state: WorkflowState) -> dict[str, Any]:
    return {
        "workflow_id": state.workflow_id,
        "strategy_id": state.strategy_id,
        "status": state.status.value,
        "step_count": state.steps,
        "created_ns": state.created_ns,
        "updated_ns": state.updated_ns,
        "reason": state.reason,
        "plan": codec.encode(state.plan),
        "state": codec.encode(state),
    }


def _step_row(step: WorkflowStep, seq: int) -> dict[str, Any]:
    sends = isinstance(step, LegSent | CompensationSent)
    return {
        "workflow_id": step.workflow_id,
        "seq": seq,
        "step_type": type(step).__name__,
        "leg": step.leg if isinstance(step, LegSent | LegEnded | CompensationSent) else None,
        "sent_client_order_id": step.client_order_id if sends else None,  # type: ignore[union-attr]
        "ts_ns": step.ts_event,
        "payload": codec.encode(step),
    }
