"""Multi-leg execution plans: what a strategy asks the engine's executor to carry out as one unit.

A `Plan` is a list of legs — instrument (and so venue), side, size, limit price, time in force — and an
`ExecutionPolicy`: whether the legs go out one after another or all at once, how far a leg may be priced
through its limit (`max_slippage_bps`), how long a leg may work (`leg_timeout_ms`), and what to do when
a leg fails or fills short (`compensation`: unwind what filled, or hedge the missing size on another
venue). The executor runs a plan as a durable workflow (`tradewright.engine.executor`); the events it
records are in `tradewright.model.events` and the state they add up to in `tradewright.model.workflow`.

Sizes and prices are exact `Decimal`s on each instrument's grid (the executor checks the grid before it
records anything); basis points and times are in the names.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.enums import OrderSide, TimeInForce

__all__ = [
    "CompensationKind",
    "CompensationPolicy",
    "ExecutionPolicy",
    "LegSpec",
    "LegStatus",
    "Plan",
    "WorkflowMode",
    "WorkflowStatus",
]

MAX_LEGS = 10


class WorkflowMode(enum.StrEnum):
    """SEQUENTIAL: a leg goes out once the one before it has filled completely. SIMULTANEOUS: all at once."""

    SEQUENTIAL = "SEQUENTIAL"
    SIMULTANEOUS = "SIMULTANEOUS"


class CompensationPolicy(enum.StrEnum):
    """What to do with the legs that filled when another leg failed or filled short.

    UNWIND: trade every filled size back out (positions end flat). HEDGE: trade each leg's missing size
    on its `hedge_instrument_id` (another venue), so the whole plan's exposure ends hedged; if a leg has
    no hedge instrument, or a hedge order fills nothing, the workflow unwinds instead.
    """

    UNWIND = "UNWIND"
    HEDGE = "HEDGE"


class CompensationKind(enum.StrEnum):
    UNWIND = "UNWIND"  # opposite side, same instrument
    HEDGE = "HEDGE"  # same side as the failed leg, on its hedge instrument


class WorkflowStatus(enum.StrEnum):
    """Where a workflow is. The last four are terminal."""

    RUNNING = "RUNNING"  # legs being sent or worked
    COMPENSATING = "COMPENSATING"  # a leg failed: unwinding or hedging what filled
    COMPLETED = "COMPLETED"  # every leg filled completely
    COMPENSATED = "COMPENSATED"  # a leg failed and everything that filled was unwound or hedged
    ABORTED = "ABORTED"  # a leg failed before anything filled: nothing to undo
    UNRESOLVED = "UNRESOLVED"  # compensation ran out of attempts: an operator must close the residual

    @property
    def is_terminal(self) -> bool:
        return self not in (WorkflowStatus.RUNNING, WorkflowStatus.COMPENSATING)


class LegStatus(enum.StrEnum):
    """One leg (or compensation order) in the workflow's own books."""

    PENDING = "PENDING"  # not sent (yet, or again after an attempt that never reached the venue)
    SENT = "SENT"  # recorded as sent: its order may be working (or, after a crash, its fate unknown)
    FILLED = "FILLED"  # ended completely filled
    ENDED = "ENDED"  # ended short: rejected, denied, cancelled, expired, or never reached the venue


def _check_bps(name: str, value: Decimal | None, *, zero: bool = True) -> None:
    if value is None:
        return
    if not value.is_finite() or value < 0 or (value == 0 and not zero):
        raise ValueError(f"`{name}` must be a number {'>=' if zero else '>'} 0, got {value}")


class LegSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One leg: buy or sell `quantity` of `instrument_id` at `limit_price` or better.

    The order is sent at `limit_price` moved through by at most the slippage allowed (this leg's
    `max_slippage_bps`, else the policy's), rounded to the tick towards the limit. `hedge_instrument_id`
    names where to trade this leg's missing size under `CompensationPolicy.HEDGE` (the same asset on
    another venue, with the same price and size units).
    """

    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    limit_price: Decimal
    time_in_force: TimeInForce = TimeInForce.IOC
    max_slippage_bps: Decimal | None = None
    hedge_instrument_id: InstrumentId | None = None

    def __post_init__(self) -> None:
        if not self.quantity.is_finite() or self.quantity <= 0:
            raise ValueError(
                f"leg {self.side} {self.instrument_id}: quantity must be > 0, got {self.quantity}"
            )
        if not self.limit_price.is_finite():
            raise ValueError(f"leg {self.side} {self.instrument_id}: limit_price must be finite")
        if self.time_in_force is TimeInForce.GTD:
            raise ValueError(
                f"leg {self.side} {self.instrument_id}: GTD is not a leg time in force; the policy's "
                "leg_timeout_ms bounds how long a leg works"
            )
        if self.hedge_instrument_id == self.instrument_id:
            raise ValueError(f"leg {self.instrument_id}: the hedge instrument must be another instrument")
        _check_bps("max_slippage_bps", self.max_slippage_bps)


class ExecutionPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the executor works a plan's legs and compensates a failed one (see docs/arbitrage.md)."""

    mode: WorkflowMode = WorkflowMode.SIMULTANEOUS
    max_slippage_bps: Decimal = Decimal(0)
    leg_timeout_ms: Annotated[int, msgspec.Meta(ge=1)] = 5_000
    compensation: CompensationPolicy = CompensationPolicy.UNWIND
    # Compensation orders are IOC limits this far through the reference price (capped by risk's price band).
    unwind_slippage_bps: Decimal = Decimal(50)
    compensation_retry_ms: Annotated[int, msgspec.Meta(ge=0)] = 1_000
    compensation_attempts: Annotated[int, msgspec.Meta(ge=1)] = 10
    # Attempts per leg when an attempt never reached the venue (each attempt has its own client order id).
    send_attempts: Annotated[int, msgspec.Meta(ge=1, le=9)] = 3

    def __post_init__(self) -> None:
        _check_bps("max_slippage_bps", self.max_slippage_bps)
        _check_bps("unwind_slippage_bps", self.unwind_slippage_bps, zero=False)


class Plan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Legs to execute as one unit, and how. `tag` is free text carried into the workflow's records."""

    legs: tuple[LegSpec, ...]
    policy: ExecutionPolicy = ExecutionPolicy()
    tag: str = ""

    def __post_init__(self) -> None:
        if not 1 <= len(self.legs) <= MAX_LEGS:
            raise ValueError(f"a plan has 1 to {MAX_LEGS} legs, got {len(self.legs)}")
        seen: set[InstrumentId] = set()
        for leg in self.legs:
            if leg.instrument_id in seen:
                # Two legs on one instrument would net against each other in the position and the
                # venue's books: one leg of the summed size says the same thing without the ambiguity.
                raise ValueError(f"two legs trade {leg.instrument_id}: give one leg per instrument")
            seen.add(leg.instrument_id)
