"""What a multi-leg workflow does next, as a pure function of its state, the time and the market.

`decide(state, now_ns, market)` returns intents; the executor records each one that commits the
workflow to something (a leg or compensation order going out, the end) before carrying it out, and
then asks again. Nothing here has side effects, so every decision can be tested on its own and a
workflow rebuilt after a crash decides exactly what it would have decided before.

The rules (docs/arbitrage.md tells the same story for users):

- RUNNING, nothing failed: SIMULTANEOUS sends every pending leg; SEQUENTIAL sends the next leg once the
  one before has filled completely. All legs filled: COMPLETED.
- A leg or compensation order past its deadline (`leg_timeout_ms` after it was sent) is cancelled.
- A leg ended short (rejected, denied, cancelled, expired, filled in part, never reached the venue on
  every attempt): the legs still in flight are cancelled; once none is, compensation starts. Nothing
  filled anywhere: ABORTED.
- Compensation, UNWIND: every size the workflow holds (per leg and instrument) is traded back out with
  an IOC limit at the reference price moved through by min(`unwind_slippage_bps`, risk's
  `price_band_bps`), rounded to the tick inside that bound. HEDGE: each leg's missing size is traded on
  its hedge instrument, same side, priced the same way; a leg without a hedge instrument, a hedge that
  filled nothing, or hedges out of attempts switch the workflow to UNWIND (which also unwinds hedges).
- A compensation that filled short is retried `compensation_retry_ms` after it ended, at a fresh
  price, up to `compensation_attempts` orders per leg and instrument; then UNRESOLVED, naming the
  residual. A book with no price is looked at again every retry interval for as long as the attempts
  would have lasted, then counted the same way. Nothing left to compensate (less than one lot
  anywhere): COMPENSATED.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.multileg import (
    CompensationKind,
    CompensationPolicy,
    LegStatus,
    Plan,
    WorkflowMode,
    WorkflowStatus,
)
from tradewright.model.workflow import WorkflowState

__all__ = [
    "CancelInFlight",
    "Compensate",
    "Finish",
    "Intent",
    "MarketView",
    "SendLeg",
    "WakeAt",
    "band_price",
    "decide",
    "leg_price",
    "send_price",
]

_BPS = Decimal(10_000)
_ZERO = Decimal(0)
_MIN_WAIT_NS = 100_000_000  # how often an empty book is looked at again, at the least


class MarketView(Protocol):
    """What the rules read about the market: instruments, reference prices and risk's price band."""

    def instrument(self, instrument_id: InstrumentId) -> Instrument: ...

    def reference_price(self, instrument_id: InstrumentId) -> Decimal | None: ...

    def price_band_bps(self, instrument_id: InstrumentId) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class SendLeg:
    leg: int
    attempt: int
    price: Decimal
    deadline_ns: int


@dataclass(frozen=True, slots=True)
class CancelInFlight:
    client_order_id: ClientOrderId
    why: str


@dataclass(frozen=True, slots=True)
class Compensate:
    leg: int
    kind: CompensationKind
    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    price: Decimal
    deadline_ns: int
    reason: str


@dataclass(frozen=True, slots=True)
class WakeAt:
    """Nothing to do before `ts_ns` (a deadline or a retry): decide again then."""

    ts_ns: int


@dataclass(frozen=True, slots=True)
class Finish:
    status: WorkflowStatus
    reason: str


Intent = SendLeg | CancelInFlight | Compensate | WakeAt | Finish


def leg_price(inst: Instrument, side: OrderSide, limit: Decimal, slippage_bps: Decimal) -> Decimal:
    """The price a leg is sent at: its limit moved through by `slippage_bps`, rounded towards the limit."""
    if side is OrderSide.BUY:
        return max(inst.round_price_down(limit * (1 + slippage_bps / _BPS)), inst.make_price(limit))
    return min(inst.round_price_up(limit * (1 - slippage_bps / _BPS)), inst.make_price(limit))


def band_price(
    inst: Instrument, side: OrderSide, reference: Decimal, slippage_bps: Decimal, band_bps: Decimal | None
) -> Decimal:
    """A marketable compensation price: the reference moved through by min(slippage, band), inside the band."""
    bps = slippage_bps if band_bps is None else min(slippage_bps, band_bps)
    if side is OrderSide.SELL:
        return max(inst.round_price_up(reference * (1 - bps / _BPS)), inst.tick_size)
    price = inst.round_price_down(reference * (1 + bps / _BPS))
    if inst.kind is InstrumentKind.BINARY_OUTCOME:
        price = min(price, 1 - inst.tick_size)
    return price


def decide(state: WorkflowState, now_ns: int, market: MarketView) -> list[Intent]:
    """Everything the workflow should do now (module docstring); [] when it only waits for answers."""
    if not state.is_open:
        return []
    out: list[Intent] = _deadlines(state, now_ns)
    legs = state.legs
    if state.status is WorkflowStatus.RUNNING:
        in_flight = [leg for leg in legs if leg.status is LegStatus.SENT]
        failed = [leg for leg in legs if leg.status is LegStatus.ENDED]
        if failed:
            why = f"leg {failed[0].index} ended short"
            out += [CancelInFlight(leg.client_order_id, why) for leg in in_flight if leg.client_order_id]
            return out if in_flight else out + _compensate(state, now_ns, market)
        if all(leg.status is LegStatus.FILLED for leg in legs):
            return [Finish(WorkflowStatus.COMPLETED, "every leg filled")]
        pending = [leg for leg in legs if leg.status is LegStatus.PENDING]
        if state.plan.policy.mode is WorkflowMode.SEQUENTIAL:
            if in_flight or not pending:
                return out
            pending = pending[:1]
        return out + [_send(state, leg.index, now_ns, market) for leg in pending]
    return out + _compensate(state, now_ns, market)


def _deadlines(state: WorkflowState, now_ns: int) -> list[Intent]:
    out: list[Intent] = []
    timeout = state.plan.policy.leg_timeout_ms
    for leg in state.legs:
        if leg.status is LegStatus.SENT and leg.client_order_id and leg.deadline_ns is not None:
            if now_ns >= leg.deadline_ns:
                out.append(
                    CancelInFlight(leg.client_order_id, f"leg {leg.index} timed out after {timeout} ms")
                )
            else:
                out.append(WakeAt(leg.deadline_ns))
    for comp in state.compensations:
        if comp.status is LegStatus.SENT:
            if now_ns >= comp.deadline_ns:
                out.append(CancelInFlight(comp.client_order_id, f"compensation {comp.index} timed out"))
            else:
                out.append(WakeAt(comp.deadline_ns))
    return out


def send_price(plan: Plan, index: int, inst: Instrument) -> Decimal:
    """The price leg `index` of `plan` goes out at (its own slippage, else the policy's)."""
    spec = plan.legs[index]
    slippage = plan.policy.max_slippage_bps if spec.max_slippage_bps is None else spec.max_slippage_bps
    return leg_price(inst, spec.side, spec.limit_price, slippage)


def _send(state: WorkflowState, index: int, now_ns: int, market: MarketView) -> SendLeg:
    plan = state.plan
    price = send_price(plan, index, market.instrument(plan.legs[index].instrument_id))
    deadline = now_ns + plan.policy.leg_timeout_ms * 1_000_000
    return SendLeg(index, state.legs[index].attempts + 1, price, deadline)


def _failure(state: WorkflowState) -> str:
    """Why the workflow compensates: the first leg that ended short, in words."""
    for spec, leg in zip(state.plan.legs, state.legs, strict=True):
        if leg.status is LegStatus.ENDED:
            return (
                f"leg {leg.index} ({spec.side} {spec.quantity} {spec.instrument_id}) ended with "
                f"{leg.filled_qty} of {spec.quantity} filled: {leg.reason or 'no reason given'}"
            )
    return "a leg failed"


def _compensate(state: WorkflowState, now_ns: int, market: MarketView) -> list[Intent]:
    held = state.held()
    reason = _failure(state)
    if not any(held.values()) and not state.compensations:
        return [Finish(WorkflowStatus.ABORTED, f"nothing filled, nothing to undo: {reason}")]
    policy = state.plan.policy
    hedging = policy.compensation is CompensationPolicy.HEDGE and not _hedge_failed(state)
    targets = _hedges(state, market) if hedging else _unwinds(held, market)
    busy = {(c.leg, c.kind, c.instrument_id) for c in state.compensations if c.status is LegStatus.SENT}
    retry_ns = policy.compensation_retry_ms * 1_000_000
    deadline = now_ns + policy.leg_timeout_ms * 1_000_000
    out: list[Intent] = []
    stuck: list[str] = []
    for leg, kind, iid, side, qty in targets:
        key = (leg, kind, iid)
        if key in busy:
            continue  # its order is in flight: what it fills decides what is left
        tried = [c for c in state.compensations if (c.leg, c.kind, c.instrument_id) == key]
        if len(tried) >= policy.compensation_attempts:
            stuck.append(f"{side} {qty} {iid} (leg {leg})")
            continue
        ended = [c.ended_ns for c in tried if c.ended_ns is not None]
        if ended and now_ns < max(ended) + retry_ns:  # a retry: give the book time to refill
            out.append(WakeAt(max(ended) + retry_ns))
            continue
        ref = market.reference_price(iid)
        if ref is None:
            # An empty book: nothing to price against. Look again every retry interval, for as long as
            # the attempts would have lasted; then give up on it like on a compensation out of attempts.
            wait_ns = max(retry_ns, _MIN_WAIT_NS)
            if now_ns - state.updated_ns >= policy.compensation_attempts * wait_ns:
                stuck.append(f"{side} {qty} {iid} (leg {leg}: no price, its book is empty)")
            else:
                out.append(WakeAt(now_ns + wait_ns))
            continue
        price = band_price(
            market.instrument(iid), side, ref, policy.unwind_slippage_bps, market.price_band_bps(iid)
        )
        why = f"{kind.lower()} {side} {qty} {iid} for leg {leg}: {reason}"
        out.append(Compensate(leg, kind, iid, side, qty, price, deadline, why))
    if busy or out:
        return out
    if stuck:
        attempts = policy.compensation_attempts
        return [
            Finish(
                WorkflowStatus.UNRESOLVED,
                f"compensation ran out of {attempts} attempts; still to trade: {', '.join(stuck)} ({reason})",
            )
        ]
    return [Finish(WorkflowStatus.COMPENSATED, f"{'hedged' if hedging else 'unwound'}: {reason}")]


Target = tuple[int, CompensationKind, InstrumentId, OrderSide, Decimal]


def _unwinds(held: dict[tuple[int, InstrumentId], Decimal], market: MarketView) -> list[Target]:
    """Every size held (per leg and instrument), to be traded back out."""
    out: list[Target] = []
    for (leg, iid), signed in sorted(held.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        qty = market.instrument(iid).round_size_down(abs(signed))
        if qty > 0:
            side = OrderSide.SELL if signed > 0 else OrderSide.BUY
            out.append((leg, CompensationKind.UNWIND, iid, side, qty))
    return out


def _missing(state: WorkflowState, leg: int) -> Decimal:
    """How much of leg `leg` is still missing after its fills and its hedges' fills."""
    spec = state.plan.legs[leg]
    hedged = sum(
        (c.filled_qty for c in state.compensations if c.leg == leg and c.kind is CompensationKind.HEDGE),
        _ZERO,
    )
    return spec.quantity - state.legs[leg].filled_qty - hedged


def _hedge_failed(state: WorkflowState) -> bool:
    """True when hedging cannot finish the job, so the workflow unwinds instead."""
    attempts = state.plan.policy.compensation_attempts
    for spec, leg in zip(state.plan.legs, state.legs, strict=True):
        if _missing(state, leg.index) <= 0:
            continue
        if spec.hedge_instrument_id is None:
            return True
        hedges = [c for c in state.compensations if c.leg == leg.index and c.kind is CompensationKind.HEDGE]
        if len(hedges) >= attempts:
            return True
    # A hedge order that filled nothing: that venue is not taking it now, so stop adding exposure there.
    return any(
        c.kind is CompensationKind.HEDGE and c.status is LegStatus.ENDED and c.filled_qty == 0 and not c.lost
        for c in state.compensations
    )


def _hedges(state: WorkflowState, market: MarketView) -> list[Target]:
    """Each leg's missing size, to be traded on its hedge instrument (same side as the leg)."""
    out: list[Target] = []
    for index, spec in enumerate(state.plan.legs):
        hedge = spec.hedge_instrument_id
        if hedge is None:
            continue
        qty = market.instrument(hedge).round_size_down(_missing(state, index))
        if qty > 0:
            out.append((index, CompensationKind.HEDGE, hedge, spec.side, qty))
    return out
