"""Events: immutable records of what happened, named in the past tense.

Every event carries `ts_event` (when it happened at its source, e.g. the venue) and `ts_init` (when
tradewright created the record), both UTC nanoseconds. Prices and sizes are exact `Decimal`s on the
instrument's grid. `tradewright schema` exports the JSON schema of every type listed in `EVENT_TYPES`.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Literal

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, TradeId, VenueOrderId
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.multileg import CompensationKind, LegStatus, Plan, WorkflowStatus

__all__ = [
    "EVENT_TYPES",
    "BreakerReset",
    "BreakerTripped",
    "CommandDenied",
    "CompensationEnded",
    "CompensationSent",
    "Event",
    "FlattenFinished",
    "FlattenStarted",
    "LegEnded",
    "LegSent",
    "MarketResolved",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderModifyRejected",
    "OrderPendingCancel",
    "OrderPendingUpdate",
    "OrderRejected",
    "OrderSubmitted",
    "OrderUpdated",
    "PositionChanged",
    "RiskEvent",
    "RiskScope",
    "TimerFired",
    "TradingState",
    "TradingStateChanged",
    "VenueIntegrityViolation",
    "WorkflowEvent",
    "WorkflowFinished",
    "WorkflowRefused",
    "WorkflowStarted",
]


# gc=False: an event holds only values (ids, Decimals, enums), never a reference back to anything that
# could hold it, so it can never be part of a cycle; untracked, the hundreds of thousands a backtest
# creates cost the garbage collector nothing (backtests also pause it during the replay).
class Event(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """Base of all events."""

    ts_event: int
    ts_init: int


class OrderEvent(Event, frozen=True, kw_only=True):
    """An event in one order's life, keyed by its client order id."""

    client_order_id: ClientOrderId
    instrument_id: InstrumentId


class OrderSubmitted(OrderEvent, frozen=True, kw_only=True):
    """The order passed risk and was sent to the venue (it is durable before it is sent)."""

    strategy_id: StrategyId
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_ns: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    parent_order_id: ClientOrderId | None = None  # a contingent order (see `SubmitOrder`)
    oca_group: str = ""


class OrderDenied(OrderEvent, frozen=True, kw_only=True):
    """Refused before it left the node (risk, grid, state). `reason` is machine-readable."""

    reason: str
    message: str


class OrderAccepted(OrderEvent, frozen=True, kw_only=True):
    venue_order_id: VenueOrderId


class OrderRejected(OrderEvent, frozen=True, kw_only=True):
    """The venue refused the order."""

    reason: str
    message: str = ""


class OrderPendingCancel(OrderEvent, frozen=True, kw_only=True):
    """A cancel request was sent."""


class OrderPendingUpdate(OrderEvent, frozen=True, kw_only=True):
    """A modify (cancel/replace) request was sent."""


class OrderCanceled(OrderEvent, frozen=True, kw_only=True):
    reason: str = ""


class OrderCancelRejected(OrderEvent, frozen=True, kw_only=True):
    """The venue refused a cancel (e.g. the order had already filled)."""

    reason: str


class OrderUpdated(OrderEvent, frozen=True, kw_only=True):
    """The venue applied a modify: new price and/or size (size is the new total, not the remainder)."""

    quantity: Decimal
    price: Decimal | None = None
    venue_order_id: VenueOrderId | None = None


class OrderModifyRejected(OrderEvent, frozen=True, kw_only=True):
    reason: str


class OrderExpired(OrderEvent, frozen=True, kw_only=True):
    """A GTD order reached its expiry, or an IOC/FOK order's unfilled rest was removed by the venue."""


class OrderFilled(OrderEvent, frozen=True, kw_only=True):
    """A (partial) fill. `fee` is in `fee_currency`; a negative fee is a rebate."""

    venue_order_id: VenueOrderId
    trade_id: TradeId
    side: OrderSide
    last_px: Decimal
    last_qty: Decimal
    liquidity: LiquiditySide
    fee: Decimal
    fee_currency: str


class PositionChanged(Event, frozen=True, kw_only=True):
    """A fill changed a position. `quantity` is signed (long > 0)."""

    instrument_id: InstrumentId
    quantity: Decimal
    avg_px: Decimal
    realized_pnl: Decimal
    fees: Decimal


class TimerFired(Event, frozen=True, kw_only=True):
    name: str


class MarketResolved(Event, frozen=True, kw_only=True):
    """A prediction market resolved: the outcome token settles at `settlement_px` (1 for the winner, 0
    for the loser, 0.5 each on a 50-50 resolution). One event per outcome token; `market_id` names the
    market (condition id), `resolution` is YES, NO or SPLIT and `winning_outcome` the winner's label."""

    instrument_id: InstrumentId
    settlement_px: Decimal
    market_id: str = ""
    resolution: str = ""
    winning_outcome: str = ""


class TradingState(enum.StrEnum):
    """What may trade: everything, only orders that reduce exposure, or nothing new (cancels always pass)."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


RiskScope = Literal["node", "venue", "instrument"]


class RiskEvent(Event, frozen=True, kw_only=True):
    """Base of what the risk engine decided (state changes, breakers, kill switch, refused commands)."""


class TradingStateChanged(RiskEvent, frozen=True, kw_only=True):
    """The trading state in force for a node, a venue or an instrument changed.

    `target` is "" for the node, the venue name, or the instrument id; `cause` names what set or
    released the state (a breaker, "kill_switch", "operator").
    """

    scope: RiskScope
    target: str
    state: TradingState
    previous: TradingState
    cause: str
    reason: str


class BreakerTripped(RiskEvent, frozen=True, kw_only=True):
    """A circuit breaker or tripwire fired and set `action` on its scope. `reason` says what it measured."""

    breaker: str
    scope: RiskScope
    target: str
    action: TradingState
    reason: str


class BreakerReset(RiskEvent, frozen=True, kw_only=True):
    """A breaker stopped holding its scope (cool-down elapsed, a new trading day, or an operator reset)."""

    breaker: str
    scope: RiskScope
    target: str
    reason: str


class CommandDenied(RiskEvent, frozen=True, kw_only=True):
    """A cancel or modify was refused before it left the node (the order keeps working unchanged)."""

    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    command: str
    reason: str
    message: str


class FlattenStarted(RiskEvent, frozen=True, kw_only=True):
    """The kill switch fired: open orders are being cancelled and `positions` (signed sizes) closed."""

    reason: str
    actor: str
    orders_canceled: int
    positions: dict[str, Decimal]


class FlattenFinished(RiskEvent, frozen=True, kw_only=True):
    """The kill switch ended: `complete` is False when positions or orders remain after every attempt."""

    reason: str
    complete: bool
    attempts: int
    residual: dict[str, Decimal]
    open_orders: int


class VenueIntegrityViolation(RiskEvent, frozen=True, kw_only=True):
    """A venue reported something that cannot be true of our order (a fill off the grid, beyond the
    order's limit, larger than what is left, not a number); it was not booked. `reason` says which."""

    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    trade_id: str
    reason: str


# --- multi-leg workflows (tradewright.engine.executor) ----------------------------------------
class WorkflowEvent(Event, frozen=True, kw_only=True):
    """A step of a multi-leg workflow. Every one except `WorkflowRefused` is recorded (durably, in a
    live node's saga tables) before the executor acts on it; `tradewright.model.workflow` replays them."""

    workflow_id: str
    strategy_id: StrategyId


class WorkflowStarted(WorkflowEvent, frozen=True, kw_only=True):
    """A plan was accepted and its workflow begun (nothing sent yet)."""

    plan: Plan


class WorkflowRefused(WorkflowEvent, frozen=True, kw_only=True):
    """A plan was refused before anything was recorded or sent (trading state, a risk limit, bad input)."""

    reason: str
    message: str


class LegSent(WorkflowEvent, frozen=True, kw_only=True):
    """A leg's order is about to go out: recorded first, so after a crash its fate is looked up, never guessed.

    The client order id is `<workflow id>-<leg>-<attempt>`; `deadline_ns` is when it is cancelled if it
    is still working.
    """

    leg: int
    attempt: int
    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    price: Decimal
    time_in_force: TimeInForce
    deadline_ns: int


class LegEnded(WorkflowEvent, frozen=True, kw_only=True):
    """A leg's order ended. `status` FILLED, or ENDED with what did fill; `lost` means it never reached
    the venue (the venue does not know its client order id), so the leg may be sent again as a new attempt."""

    leg: int
    attempt: int
    client_order_id: ClientOrderId
    status: LegStatus
    filled_qty: Decimal
    avg_px: Decimal | None = None
    lost: bool = False
    reason: str = ""


class CompensationSent(WorkflowEvent, frozen=True, kw_only=True):
    """A compensation order is about to go out (unwind or hedge of leg `leg`), with the reason: the audit
    record of every compensation. Its client order id is `<workflow id>-C<index>`."""

    index: int
    leg: int
    kind: CompensationKind
    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    price: Decimal
    deadline_ns: int
    reason: str


class CompensationEnded(WorkflowEvent, frozen=True, kw_only=True):
    """A compensation order ended (filled, partly filled, or not at all; `lost`: it never reached the venue)."""

    index: int
    client_order_id: ClientOrderId
    filled_qty: Decimal
    avg_px: Decimal | None = None
    lost: bool = False
    reason: str = ""


class WorkflowFinished(WorkflowEvent, frozen=True, kw_only=True):
    """The workflow ended: COMPLETED, COMPENSATED, ABORTED or UNRESOLVED, and why."""

    status: WorkflowStatus
    reason: str


EVENT_TYPES: tuple[type[Event], ...] = (
    OrderSubmitted,
    OrderDenied,
    OrderAccepted,
    OrderRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderCanceled,
    OrderCancelRejected,
    OrderUpdated,
    OrderModifyRejected,
    OrderExpired,
    OrderFilled,
    PositionChanged,
    TimerFired,
    MarketResolved,
    TradingStateChanged,
    BreakerTripped,
    BreakerReset,
    CommandDenied,
    FlattenStarted,
    FlattenFinished,
    VenueIntegrityViolation,
    WorkflowStarted,
    WorkflowRefused,
    LegSent,
    LegEnded,
    CompensationSent,
    CompensationEnded,
    WorkflowFinished,
)
