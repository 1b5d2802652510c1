"""Every multi-leg workflow of a run, rebuilt from its events, with what its orders really did in cash.

An `EventSink`: it replays the workflow steps the executor publishes (`WorkflowStarted` … `WorkflowFinished`)
into `WorkflowState`s with the same state machine the executor uses, and attributes every fill of a leg
or compensation order (by client order id) to its workflow. A workflow's **realised edge** is the cash
its orders moved, fees included: for a completed arbitrage, sell proceeds minus buy cost minus fees (the
profit locked in by two equal, opposite positions); for a compensated one, what the failed attempt and its
unwind cost. The executor's own read model keeps only recent workflows; this one keeps all of a run's
(a backtest's report lists them), or the latest `keep` of them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewright.core.ids import ClientOrderId
from tradewright.model.commands import Command
from tradewright.model.events import (
    CompensationSent,
    Event,
    LegSent,
    OrderFilled,
    WorkflowEvent,
    WorkflowRefused,
    WorkflowStarted,
)
from tradewright.model.instrument import Instrument
from tradewright.model.multileg import CompensationKind, WorkflowStatus
from tradewright.model.workflow import STEP_TYPES, WorkflowState, WorkflowStep

__all__ = ["WORKFLOW_COLUMNS", "WorkflowLedger", "WorkflowRecord"]

_ZERO = Decimal(0)

WORKFLOW_COLUMNS = (
    "workflow_id",
    "strategy_id",
    "status",
    "tag",
    "started_ns",
    "ended_ns",
    "legs",
    "compensations",
    "hedges",
    "planned_edge_quote",
    "realized_edge_quote",
    "fees_quote",
    "reason",
)


@dataclass(slots=True)
class WorkflowRecord:
    """One workflow: its state and the cash its orders moved (fees included) and paid in fees."""

    state: WorkflowState
    cash_flow: Decimal = _ZERO
    fees: Decimal = _ZERO
    fills: list[OrderFilled] = field(default_factory=list)


class WorkflowLedger:
    """See the module docstring. `instruments` maps ids to definitions (the kernel's dict)."""

    def __init__(self, instruments: dict[Any, Instrument], *, keep: int | None = None) -> None:
        self._instruments = instruments
        self._keep = keep
        self.records: OrderedDict[str, WorkflowRecord] = OrderedDict()
        self._cids: dict[ClientOrderId, str] = {}
        self.refused = 0
        self.refusals: dict[str, int] = {}

    # --- EventSink ----------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if type(event) is OrderFilled:
            wid = self._cids.get(event.client_order_id)
            if wid is not None and wid in self.records:
                self._fill(self.records[wid], event)
            return
        if not isinstance(event, WorkflowEvent):
            return
        if isinstance(event, WorkflowRefused):
            self.refused += 1
            key = event.reason.partition(":")[0] if event.reason.startswith("risk") else event.reason
            self.refusals[key] = self.refusals.get(key, 0) + 1
            return
        if not isinstance(event, STEP_TYPES):
            return
        step: WorkflowStep = event
        if isinstance(step, WorkflowStarted):
            self.records[step.workflow_id] = WorkflowRecord(WorkflowState.begin(step))
            if self._keep is not None and len(self.records) > self._keep:
                self.records.popitem(last=False)
            return
        record = self.records.get(step.workflow_id)
        if record is None:
            return  # started before this ledger listened (a resumed workflow): the executor reports it
        if isinstance(step, LegSent | CompensationSent):
            self._cids[step.client_order_id] = step.workflow_id
        record.state = record.state.apply(step)

    def on_command(self, command: Command) -> None:
        pass

    def _fill(self, record: WorkflowRecord, fill: OrderFilled) -> None:
        inst = self._instruments[fill.instrument_id]
        sign = fill.side.sign
        if inst.inverse:
            flow = sign * fill.last_qty * inst.multiplier / fill.last_px
        else:
            flow = -sign * fill.last_px * fill.last_qty * inst.multiplier
        record.cash_flow += flow - fill.fee
        record.fees += fill.fee
        record.fills.append(fill)

    # --- reading ------------------------------------------------------------------------------
    def planned_edge(self, state: WorkflowState) -> Decimal:
        """Cash the plan would move if every leg filled at its limit, taker fees included."""
        total = _ZERO
        for spec in state.plan.legs:
            inst = self._instruments[spec.instrument_id]
            notional = spec.limit_price * spec.quantity * inst.multiplier
            total += -spec.side.sign * notional - notional * inst.taker_fee
        return total

    def summary(self) -> dict[str, Any]:
        """Counts by end state, legs, compensations and hedges, planned and realised edge (exact)."""
        by_status: dict[str, int] = {s.value.lower(): 0 for s in WorkflowStatus}
        legs = comps = hedges = 0
        realized = planned = fees = _ZERO
        realized_completed = _ZERO
        for record in self.records.values():
            state = record.state
            by_status[state.status.value.lower()] += 1
            legs += sum(1 for leg in state.legs if leg.attempts)
            comps += len(state.compensations)
            hedges += sum(1 for c in state.compensations if c.kind is CompensationKind.HEDGE)
            realized += record.cash_flow
            fees += record.fees
            if state.status is WorkflowStatus.COMPLETED:
                planned += self.planned_edge(state)
                realized_completed += record.cash_flow
        return {
            "workflows": len(self.records),
            **{f"workflows_{k}": v for k, v in by_status.items()},
            "workflows_refused": self.refused,
            "workflow_refusals": dict(sorted(self.refusals.items())),
            "legs_sent": legs,
            "compensations": comps,
            "hedges": hedges,
            "planned_edge_completed_quote": str(planned),
            "realized_edge_completed_quote": str(realized_completed),
            "realized_edge_quote": str(realized),
            "workflow_fees_quote": str(fees),
        }

    def rows(self) -> list[tuple[str, ...]]:
        """One row per workflow, in `WORKFLOW_COLUMNS` order: legs as `cid side qty@avg/filled` items."""
        out: list[tuple[str, ...]] = []
        for wid, record in self.records.items():
            state = record.state
            legs = []
            for spec, leg in zip(state.plan.legs, state.legs, strict=True):
                legs.append(
                    f"{leg.client_order_id or '-'} {spec.side.value} {spec.instrument_id} "
                    f"{leg.filled_qty}/{spec.quantity}@{leg.avg_px if leg.avg_px is not None else '-'} {leg.status.value}"
                )
            comps = [
                f"{c.client_order_id} {c.kind.value} {c.side.value} {c.instrument_id} "
                f"{c.filled_qty}/{c.quantity}@{c.avg_px if c.avg_px is not None else '-'}"
                for c in state.compensations
            ]
            out.append(
                (
                    wid,
                    str(state.strategy_id),
                    state.status.value,
                    state.plan.tag,
                    str(state.created_ns),
                    str(state.updated_ns) if not state.is_open else "",
                    " | ".join(legs),
                    " | ".join(comps),
                    str(sum(1 for c in state.compensations if c.kind is CompensationKind.HEDGE)),
                    str(self.planned_edge(state)),
                    str(record.cash_flow),
                    str(record.fees),
                    state.reason,
                )
            )
        return out
