"""The operators' read model of multi-leg workflows: open (and recently finished) workflows with their legs,
states, client order ids, fills and compensations, from the kernel's executor (`MultiLegExecutor.workflows`),
and the executor's figures for metrics (leg delta, open-leg exposure)."""

from __future__ import annotations

from tradewright.engine.executor import ExecutorFigures, MultiLegExecutor
from tradewright.engine.kernel import Kernel
from tradewright.live.operator_views import LegView, WorkflowView
from tradewright.model.workflow import WorkflowState

__all__ = ["executor_figures", "find_workflow", "workflow_view", "workflow_views"]


def _executor(kernel: Kernel) -> MultiLegExecutor | None:
    executor = kernel.executor
    return executor if isinstance(executor, MultiLegExecutor) else None


def workflow_views(kernel: Kernel, *, open_only: bool, limit: int) -> list[WorkflowView]:
    """The newest `limit` workflows (open ones, or with `open_only=False` the recently finished too), oldest
    first; none on a node without an executor."""
    executor = _executor(kernel)
    if executor is None:
        return []
    states = executor.workflows(open_only=open_only)
    return [workflow_view(s) for s in states[-limit:]] if limit > 0 else []


def find_workflow(kernel: Kernel, workflow_id: str) -> WorkflowView | None:
    """One workflow, open or recently finished (None if the executor does not hold it)."""
    executor = _executor(kernel)
    state = None if executor is None else executor.workflow(workflow_id)
    return None if state is None else workflow_view(state)


def workflow_view(state: WorkflowState) -> WorkflowView:
    plan = state.plan
    legs = [
        LegView(
            index=leg.index,
            leg=leg.index,
            kind="LEG",
            instrument_id=str(spec.instrument_id),
            side=spec.side.value,
            quantity=spec.quantity,
            price=leg.price if leg.price is not None else spec.limit_price,
            status=leg.status.value,
            client_order_id=leg.client_order_id,
            attempts=leg.attempts,
            filled_qty=leg.filled_qty,
            avg_px=leg.avg_px,
            reason=leg.reason,
        )
        for spec, leg in zip(plan.legs, state.legs, strict=True)
    ]
    comps = [
        LegView(
            index=c.index,
            leg=c.leg,
            kind=c.kind.value,
            instrument_id=str(c.instrument_id),
            side=c.side.value,
            quantity=c.quantity,
            price=c.price,
            status=c.status.value,
            client_order_id=c.client_order_id,
            attempts=1,
            filled_qty=c.filled_qty,
            avg_px=c.avg_px,
            reason=c.end_reason or c.reason,
        )
        for c in state.compensations
    ]
    return WorkflowView(
        workflow_id=state.workflow_id,
        strategy_id=str(state.strategy_id),
        status=state.status.value,
        tag=plan.tag,
        mode=plan.policy.mode.value,
        compensation=plan.policy.compensation.value,
        created_ns=state.created_ns,
        updated_ns=state.updated_ns,
        reason=state.reason,
        legs=legs,
        compensations=comps,
    )


def executor_figures(kernel: Kernel) -> ExecutorFigures | None:
    """Leg delta, open-leg exposure and counts (None on a node without an executor)."""
    executor = _executor(kernel)
    return None if executor is None else executor.figures()
