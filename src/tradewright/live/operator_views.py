"""What the operator port returns: plain frozen records (stdlib dataclasses, so the API can use them as
its response models unchanged). Money is `Decimal` (exact; JSON strings on the wire), times are UTC
integer nanoseconds (`_ns`), durations carry their unit in the name."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "BalanceView",
    "BookLevel",
    "BookView",
    "CommandContext",
    "CommandResult",
    "DailyPnl",
    "EquityPoint",
    "FillView",
    "FlattenPreview",
    "HealthInfo",
    "Hold",
    "InstrumentInfo",
    "LatencyStats",
    "LegView",
    "LimitView",
    "LogLine",
    "MarketStatus",
    "Offender",
    "OrderView",
    "PnlLine",
    "PnlSummary",
    "PositionView",
    "RiskEventView",
    "RiskState",
    "StatusReport",
    "StrategyInfo",
    "SystemInfo",
    "VenueInfo",
    "WorkflowView",
]


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who asks (`actor`, e.g. "api:k_3f9a1c2e" or "user:alice") and the command's id (its result is
    streamed on the `commands` channel under this id)."""

    command_id: str
    actor: str


@dataclass(frozen=True, slots=True)
class CommandResult:
    """`status`: "done" (carried out), "accepted" (started; progress follows on a channel) or
    "refused" (nothing was done; `message` says why)."""

    command_id: str
    action: str
    status: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SystemInfo:
    node: str
    mode: str
    version: str
    pid: int
    started_ns: int
    clock_ns: int
    uptime_s: float
    trading_state: str
    kill_switch_active: bool
    config_hash: str
    store: str
    strategies: int
    instruments: int


@dataclass(frozen=True, slots=True)
class HealthInfo:
    status: str
    ready: bool
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class VenueInfo:
    """`health`: UP, DEGRADED or DOWN; `last_update_age_ms` None before the first market data."""

    venue: str
    health: str
    reason: str
    simulated: bool
    last_update_age_ms: int | None
    book_updates: int
    book_resyncs: int
    sequence_gaps: int
    malformed: int
    reconnects: int
    ack_p50_ms: float | None
    ack_p99_ms: float | None


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    instrument_id: str
    venue: str
    symbol: str
    kind: str
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    trading_state: str


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    size: Decimal
    own: Decimal  # our working size at this price


@dataclass(frozen=True, slots=True)
class BookView:
    instrument_id: str
    ts_ns: int
    bids: list[BookLevel]
    asks: list[BookLevel]
    mid: Decimal | None
    spread_ticks: int | None
    own_bid: Decimal | None  # our best working bid / ask price
    own_ask: Decimal | None


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    """`state`: running, paused, stopped (by an operator) or failed (a hook raised)."""

    strategy_id: str
    class_name: str
    instruments: list[str]
    state: str
    accepts_signals: bool
    accepts_params: bool
    params: dict[str, Any]
    open_orders: int
    fills: int


@dataclass(frozen=True, slots=True)
class OrderView:
    client_order_id: str
    venue_order_id: str | None
    strategy_id: str
    instrument_id: str
    side: str
    order_type: str
    time_in_force: str
    price: Decimal | None
    quantity: Decimal
    filled_qty: Decimal
    avg_px: Decimal | None
    status: str
    post_only: bool
    reduce_only: bool
    ts_init_ns: int
    ts_last_ns: int


@dataclass(frozen=True, slots=True)
class FillView:
    ts_ns: int
    client_order_id: str
    venue_order_id: str
    trade_id: str
    strategy_id: str
    instrument_id: str
    side: str
    price: Decimal
    quantity: Decimal
    liquidity: str
    fee: Decimal
    fee_currency: str


@dataclass(frozen=True, slots=True)
class PositionView:
    instrument_id: str
    quantity: Decimal
    avg_px: Decimal
    mark: Decimal | None
    notional: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    fees: Decimal


@dataclass(frozen=True, slots=True)
class BalanceView:
    currency: str
    total: Decimal


@dataclass(frozen=True, slots=True)
class PnlLine:
    instrument_id: str
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class PnlSummary:
    """`net` = realized + unrealized − fees; `equity` = balances + unrealized (in the settle currency)."""

    ts_ns: int
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    net: Decimal
    equity: Decimal
    by_instrument: list[PnlLine]


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts_ns: int
    equity: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class DailyPnl:
    day: str
    net: Decimal
    fees: Decimal
    fills: int


@dataclass(frozen=True, slots=True)
class Hold:
    scope: str
    target: str
    cause: str
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class RiskState:
    """The strictest state in force anywhere, every hold behind it, and the engine's own halts."""

    state: str
    holds: list[Hold]
    engine_halts: dict[str, str]
    kill_switch_active: bool
    denials: dict[str, int]


@dataclass(frozen=True, slots=True)
class LimitView:
    """A risk limit the API can change: tighter (operator) or looser (admin); None = not set."""

    name: str
    value: Decimal | None
    unit: str


@dataclass(frozen=True, slots=True)
class RiskEventView:
    ts_ns: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class LogLine:
    ts_ns: int
    level: str
    logger: str
    message: str


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Quantiles over the most recent samples, in microseconds; `count` is every sample since start."""

    name: str
    count: int
    p50_us: float | None
    p99_us: float | None
    max_us: float | None


@dataclass(frozen=True, slots=True)
class FlattenPreview:
    """What `flatten/execute` will do, and the single-use token it needs (valid until `expires_ns`)."""

    confirm_token: str
    expires_ns: int
    mode: str
    orders_to_cancel: int
    positions: list[PositionView]


@dataclass(frozen=True, slots=True)
class MarketStatus:
    instrument_id: str
    trading_state: str
    quoting: bool
    own_bid: Decimal | None
    own_ask: Decimal | None
    position: Decimal
    open_orders: int
    book_updates: int
    book_resyncs: int
    resync_ratio: float
    orders_submitted: int
    cancels_sent: int
    cancel_rate_denials: int
    rejects: int
    fills: int


@dataclass(frozen=True, slots=True)
class Offender:
    """Something that misbehaves most: `kind` e.g. "rejects", "cancel_rate_denials", "book_resyncs"."""

    kind: str
    target: str
    count: int


@dataclass(frozen=True, slots=True)
class LegView:
    """One order of a multi-leg workflow: a leg (`kind` LEG, its last attempt) or a compensation (UNWIND
    or HEDGE of leg `leg`). `status`: PENDING (not sent yet), SENT (in flight), FILLED or ENDED (short)."""

    index: int
    leg: int
    kind: str
    instrument_id: str
    side: str
    quantity: Decimal
    price: Decimal | None
    status: str
    client_order_id: str | None
    attempts: int
    filled_qty: Decimal
    avg_px: Decimal | None
    reason: str


@dataclass(frozen=True, slots=True)
class WorkflowView:
    """A multi-leg workflow (docs/arbitrage.md): RUNNING, COMPENSATING, or how it ended and why."""

    workflow_id: str
    strategy_id: str
    status: str
    tag: str
    mode: str
    compensation: str
    created_ns: int
    updated_ns: int
    reason: str
    legs: list[LegView]
    compensations: list[LegView]


@dataclass(frozen=True, slots=True)
class StatusReport:
    system: SystemInfo
    venues: list[VenueInfo]
    markets: list[MarketStatus]
    strategies: list[StrategyInfo]
    latency: list[LatencyStats]
    offenders: list[Offender]
    workflows: list[WorkflowView] = field(default_factory=list)  # the open multi-leg workflows
