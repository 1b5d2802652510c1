"""A multi-leg workflow's state and its state machine: the state that its recorded steps add up to.

`WorkflowState.begin(started)` makes the state from a `WorkflowStarted`; `state.apply(step)` returns the
state after one more step, or raises `InvalidStateTransition` naming the workflow, the step and why
(the state is immutable, so a refused step changes nothing). The executor applies a step only after it is
recorded, the saga store replays the recorded steps to rebuild a workflow after a restart, and both
refuse the same things, exactly as `Order.apply` does for orders.

Rules: legs are sent only while RUNNING, each attempt once (attempt n+1 after attempt n ended); a
compensation goes out only when no leg is in flight (so the sizes it is computed from are final); the
workflow finishes only when nothing is in flight.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NoReturn

import msgspec

from tradewright.core.errors import InvalidStateTransition
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model.enums import OrderSide
from tradewright.model.events import (
    CompensationEnded,
    CompensationSent,
    LegEnded,
    LegSent,
    WorkflowFinished,
    WorkflowStarted,
)
from tradewright.model.multileg import CompensationKind, LegStatus, Plan, WorkflowStatus

__all__ = ["STEP_TYPES", "CompensationState", "LegState", "WorkflowState", "WorkflowStep"]

WorkflowStep = WorkflowStarted | LegSent | LegEnded | CompensationSent | CompensationEnded | WorkflowFinished
STEP_TYPES: tuple[type[WorkflowStep], ...] = (
    WorkflowStarted,
    LegSent,
    LegEnded,
    CompensationSent,
    CompensationEnded,
    WorkflowFinished,
)
_ZERO = Decimal(0)


class LegState(msgspec.Struct, frozen=True, kw_only=True):
    """One leg as the workflow knows it: its current (last) attempt and what filled."""

    index: int
    status: LegStatus = LegStatus.PENDING
    attempts: int = 0
    client_order_id: ClientOrderId | None = None
    price: Decimal | None = None
    sent_ns: int | None = None
    deadline_ns: int | None = None
    filled_qty: Decimal = _ZERO
    avg_px: Decimal | None = None
    reason: str = ""


class CompensationState(msgspec.Struct, frozen=True, kw_only=True):
    """One compensation order (unwind or hedge of leg `leg`) and what filled."""

    index: int
    leg: int
    kind: CompensationKind
    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    price: Decimal
    reason: str
    sent_ns: int
    deadline_ns: int
    status: LegStatus = LegStatus.SENT
    filled_qty: Decimal = _ZERO
    avg_px: Decimal | None = None
    ended_ns: int | None = None
    end_reason: str = ""
    lost: bool = False  # it never reached the venue


class WorkflowState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything known about one workflow (also the read model operators see)."""

    workflow_id: str
    strategy_id: StrategyId
    plan: Plan
    status: WorkflowStatus
    legs: tuple[LegState, ...]
    compensations: tuple[CompensationState, ...] = ()
    steps: int = 1
    created_ns: int = 0
    updated_ns: int = 0
    reason: str = ""

    @classmethod
    def begin(cls, started: WorkflowStarted) -> WorkflowState:
        """The state right after `started` (the first step)."""
        return cls(
            workflow_id=started.workflow_id,
            strategy_id=started.strategy_id,
            plan=started.plan,
            status=WorkflowStatus.RUNNING,
            legs=tuple(LegState(index=i) for i in range(len(started.plan.legs))),
            created_ns=started.ts_event,
            updated_ns=started.ts_event,
        )

    @classmethod
    def replay(cls, steps: list[WorkflowStep]) -> WorkflowState:
        """Rebuild a workflow from its recorded steps, oldest first (the first is its WorkflowStarted)."""
        if not steps or not isinstance(steps[0], WorkflowStarted):
            raise InvalidStateTransition("a workflow's first step must be WorkflowStarted")
        state = cls.begin(steps[0])
        for step in steps[1:]:
            state = state.apply(step)
        return state

    # --- reading ----------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return not self.status.is_terminal

    def in_flight(self) -> list[ClientOrderId]:
        """Client order ids recorded as sent that have not ended (legs and compensations)."""
        out = [leg.client_order_id for leg in self.legs if leg.status is LegStatus.SENT]
        out += [c.client_order_id for c in self.compensations if c.status is LegStatus.SENT]
        return [cid for cid in out if cid is not None]

    def leg_of(self, client_order_id: ClientOrderId) -> LegState | None:
        for leg in self.legs:
            if leg.client_order_id == client_order_id:
                return leg
        return None

    def compensation_of(self, client_order_id: ClientOrderId) -> CompensationState | None:
        for comp in self.compensations:
            if comp.client_order_id == client_order_id:
                return comp
        return None

    def held(self) -> dict[tuple[int, InstrumentId], Decimal]:
        """Signed size this workflow holds, per (leg, instrument): each leg's fills plus its
        compensations' fills (a compensation is attributed to the leg it compensates)."""
        out: dict[tuple[int, InstrumentId], Decimal] = {}
        for spec, leg in zip(self.plan.legs, self.legs, strict=True):
            if leg.filled_qty:
                key = (leg.index, spec.instrument_id)
                out[key] = out.get(key, _ZERO) + spec.side.sign * leg.filled_qty
        for comp in self.compensations:
            if comp.filled_qty:
                key = (comp.leg, comp.instrument_id)
                out[key] = out.get(key, _ZERO) + comp.side.sign * comp.filled_qty
        return out

    # --- the state machine ------------------------------------------------------------------
    def apply(self, step: WorkflowStep) -> WorkflowState:
        """Return the state after `step`; raise `InvalidStateTransition` if the step is not legal now."""
        if step.workflow_id != self.workflow_id:
            self._refuse(step, f"it belongs to workflow {step.workflow_id}")
        if self.status.is_terminal:
            self._refuse(step, f"the workflow already finished ({self.status})")
        kind = type(step)
        if kind is LegSent:
            assert isinstance(step, LegSent)
            state = self._leg_sent(step)
        elif kind is LegEnded:
            assert isinstance(step, LegEnded)
            state = self._leg_ended(step)
        elif kind is CompensationSent:
            assert isinstance(step, CompensationSent)
            state = self._compensation_sent(step)
        elif kind is CompensationEnded:
            assert isinstance(step, CompensationEnded)
            state = self._compensation_ended(step)
        elif kind is WorkflowFinished:
            assert isinstance(step, WorkflowFinished)
            state = self._finished(step)
        else:
            self._refuse(step, "a workflow starts only once")
        return msgspec.structs.replace(state, steps=self.steps + 1, updated_ns=step.ts_event)

    def _leg(self, step: LegSent | LegEnded) -> LegState:
        if not 0 <= step.leg < len(self.legs):
            self._refuse(step, f"the plan has no leg {step.leg}")
        return self.legs[step.leg]

    def _with_leg(self, leg: LegState) -> tuple[LegState, ...]:
        return tuple(leg if i == leg.index else old for i, old in enumerate(self.legs))

    def _leg_sent(self, step: LegSent) -> WorkflowState:
        leg = self._leg(step)
        spec = self.plan.legs[step.leg]
        if self.status is not WorkflowStatus.RUNNING:
            self._refuse(step, f"legs are sent only while RUNNING, not {self.status}")
        if leg.status is not LegStatus.PENDING:
            self._refuse(step, f"leg {step.leg} is {leg.status}")
        if step.attempt != leg.attempts + 1 or step.attempt > self.plan.policy.send_attempts:
            self._refuse(step, f"leg {step.leg} is due attempt {leg.attempts + 1}, not {step.attempt}")
        if (step.instrument_id, step.side, step.quantity) != (spec.instrument_id, spec.side, spec.quantity):
            self._refuse(step, f"its terms differ from leg {step.leg} of the plan")
        sent = msgspec.structs.replace(
            leg,
            status=LegStatus.SENT,
            attempts=step.attempt,
            client_order_id=step.client_order_id,
            price=step.price,
            sent_ns=step.ts_event,
            deadline_ns=step.deadline_ns,
            filled_qty=_ZERO,
            avg_px=None,
            reason="",
        )
        return msgspec.structs.replace(self, legs=self._with_leg(sent))

    def _leg_ended(self, step: LegEnded) -> WorkflowState:
        leg = self._leg(step)
        spec = self.plan.legs[step.leg]
        if leg.status is not LegStatus.SENT or leg.client_order_id != step.client_order_id:
            self._refuse(step, f"leg {step.leg} has no order {step.client_order_id} in flight")
        if not _ZERO <= step.filled_qty <= spec.quantity:
            self._refuse(step, f"filled {step.filled_qty} is outside 0..{spec.quantity}")
        if step.lost and step.filled_qty:
            self._refuse(step, "an order that never reached the venue cannot have filled")
        full = step.filled_qty == spec.quantity
        if (step.status is LegStatus.FILLED) != full or step.status not in (
            LegStatus.FILLED,
            LegStatus.ENDED,
        ):
            self._refuse(
                step, f"status {step.status} does not match {step.filled_qty} of {spec.quantity} filled"
            )
        status: LegStatus = step.status
        if step.lost and leg.attempts < self.plan.policy.send_attempts:
            status = LegStatus.PENDING  # it never left: send it again, as a new attempt
        ended = msgspec.structs.replace(
            leg, status=status, filled_qty=step.filled_qty, avg_px=step.avg_px, reason=step.reason
        )
        return msgspec.structs.replace(self, legs=self._with_leg(ended))

    def _compensation_sent(self, step: CompensationSent) -> WorkflowState:
        if not 0 <= step.leg < len(self.legs):
            self._refuse(step, f"the plan has no leg {step.leg}")
        if step.index != len(self.compensations):
            self._refuse(step, f"the next compensation is number {len(self.compensations)}")
        if any(leg.status is LegStatus.SENT for leg in self.legs):
            self._refuse(step, "a leg is still in flight: compensate only once every leg has ended")
        if step.quantity <= 0:
            self._refuse(step, f"quantity must be > 0, got {step.quantity}")
        comp = CompensationState(
            index=step.index,
            leg=step.leg,
            kind=step.kind,
            client_order_id=step.client_order_id,
            instrument_id=step.instrument_id,
            side=step.side,
            quantity=step.quantity,
            price=step.price,
            reason=step.reason,
            sent_ns=step.ts_event,
            deadline_ns=step.deadline_ns,
        )
        return msgspec.structs.replace(
            self, status=WorkflowStatus.COMPENSATING, compensations=(*self.compensations, comp)
        )

    def _compensation_ended(self, step: CompensationEnded) -> WorkflowState:
        if not 0 <= step.index < len(self.compensations):
            self._refuse(step, f"there is no compensation {step.index}")
        comp = self.compensations[step.index]
        if comp.status is not LegStatus.SENT or comp.client_order_id != step.client_order_id:
            self._refuse(step, f"compensation {step.index} has no order {step.client_order_id} in flight")
        if not _ZERO <= step.filled_qty <= comp.quantity or (step.lost and step.filled_qty):
            self._refuse(step, f"filled {step.filled_qty} is not possible for {comp.quantity}")
        ended = msgspec.structs.replace(
            comp,
            status=LegStatus.FILLED if step.filled_qty == comp.quantity else LegStatus.ENDED,
            filled_qty=step.filled_qty,
            avg_px=step.avg_px,
            ended_ns=step.ts_event,
            end_reason=step.reason,
            lost=step.lost,
        )
        comps = tuple(ended if c.index == step.index else c for c in self.compensations)
        return msgspec.structs.replace(self, compensations=comps)

    def _finished(self, step: WorkflowFinished) -> WorkflowState:
        if not step.status.is_terminal:
            self._refuse(step, f"{step.status} is not an end state")
        if self.in_flight():
            self._refuse(step, f"orders are still in flight: {', '.join(self.in_flight())}")
        if step.status is WorkflowStatus.COMPLETED and any(
            leg.status is not LegStatus.FILLED for leg in self.legs
        ):
            self._refuse(step, "not every leg filled")
        return msgspec.structs.replace(self, status=step.status, reason=step.reason)

    def _refuse(self, step: WorkflowStep, why: str) -> NoReturn:
        raise InvalidStateTransition(f"workflow {self.workflow_id}: {type(step).__name__} refused: {why}")
