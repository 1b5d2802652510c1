"""The saga store port: where the multi-leg executor records each workflow step before acting on it.

Contract (the same commit-before-acting rules as the order `Journal`):

- `begin(started)` stores a new workflow with its first step; it returns the state, or None when the
  workflow id is already taken (the caller picks another id).
- `append(step)` stores one more step of an open workflow and returns the state after it, once durable.
  The store applies the step to its own copy of the workflow with the model's state machine
  (`WorkflowState.apply`), so a step the workflow cannot take raises `InvalidStateTransition` and
  writes nothing. Appending the step already stored last is a no-op that returns the current state (a
  retry after an ambiguous failure). A failed commit raises `StoreError`.
- A `CompensationSent` step is stored together with its audit record (who, what, why) in one commit.
- `load_open()` rebuilds every unfinished workflow by replaying its steps (what a restart resumes);
  `read_workflows` pages through workflows for operators.

`MemorySagaStore` below is the in-memory implementation for backtests and paper runs (nothing to survive
there); `tradewright.store.SqlSagaStore` is the durable one, on the node's SQLite or PostgreSQL store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tradewright.core.errors import InvalidStateTransition
from tradewright.model.events import CompensationSent, WorkflowStarted
from tradewright.model.workflow import WorkflowState, WorkflowStep

__all__ = ["CompensationAudit", "MemorySagaStore", "SagaStore"]


class SagaStore(Protocol):
    """Durable steps of multi-leg workflows (module docstring)."""

    def begin(self, started: WorkflowStarted) -> WorkflowState | None: ...

    def append(self, step: WorkflowStep) -> WorkflowState: ...

    def load_open(self) -> list[WorkflowState]: ...

    def read_workflows(
        self, *, open_only: bool = False, since_ns: int = 0, limit: int = 100
    ) -> list[WorkflowState]: ...


@dataclass(frozen=True, slots=True)
class CompensationAudit:
    """What the in-memory store keeps of each compensation (the SQL store writes an audit row)."""

    ts_ns: int
    workflow_id: str
    client_order_id: str
    reason: str


class MemorySagaStore:
    """`SagaStore` in memory: same rules, nothing durable (backtests, paper runs, tests)."""

    def __init__(self) -> None:
        self._states: dict[str, WorkflowState] = {}
        self._steps: dict[str, list[WorkflowStep]] = {}
        self.audit: list[CompensationAudit] = []

    def begin(self, started: WorkflowStarted) -> WorkflowState | None:
        if started.workflow_id in self._states:
            return None
        state = WorkflowState.begin(started)
        self._states[started.workflow_id] = state
        self._steps[started.workflow_id] = [started]
        return state

    def append(self, step: WorkflowStep) -> WorkflowState:
        state = self._states.get(step.workflow_id)
        if state is None:
            raise InvalidStateTransition(
                f"workflow {step.workflow_id} is not in the store; begin comes first"
            )
        steps = self._steps[step.workflow_id]
        if steps[-1] == step:
            return state
        state = state.apply(step)
        self._states[step.workflow_id] = state
        steps.append(step)
        if isinstance(step, CompensationSent):
            self.audit.append(
                CompensationAudit(step.ts_event, step.workflow_id, step.client_order_id, step.reason)
            )
        return state

    def steps(self, workflow_id: str) -> list[WorkflowStep]:
        """Every step of one workflow, oldest first."""
        return list(self._steps.get(workflow_id, ()))

    def load_open(self) -> list[WorkflowState]:
        return [WorkflowState.replay(self._steps[wid]) for wid, s in self._states.items() if s.is_open]

    def read_workflows(
        self, *, open_only: bool = False, since_ns: int = 0, limit: int = 100
    ) -> list[WorkflowState]:
        chosen = [
            s for s in self._states.values() if s.updated_ns >= since_ns and (s.is_open or not open_only)
        ]
        return sorted(chosen, key=lambda s: (s.created_ns, s.workflow_id))[:limit]
