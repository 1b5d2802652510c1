"""The operator port: the one boundary between a running node and the faces that watch and steer it
(the REST/WebSocket API, the dashboard, `tradewright status|halt|resume|flatten`, metrics).

Reads return plain records (`operator_views`); commands take a `CommandContext` (command id + actor)
and return a `CommandResult`, which is also streamed on the `commands` channel. Every command goes
through the kernel's own paths — cancels and orders through risk and the journal, trading states
through the risk engine — never around them. Refusals the caller must act on raise `OperatorError`
with a `kind` ("not_found", "conflict", "invalid") the API maps to 404/409/422.

`KernelOperator` (operator_adapter.py) implements it over what any node has — kernel, risk engine,
optional store, venue health sources — so the paper node (replayed feed + simulated venue) and the live
node (real venues) serve it alike, and a node with many venues and strategies plugs in unchanged.
A face is attached to a node as a `NodeService`: an async context manager factory the node enters
once its kernel runs and exits when it stops (the CLI builds the API's; the node never imports it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any, Protocol

from tradewright.core.errors import TradewrightError
from tradewright.live.operator_events import Subscription
from tradewright.live.operator_views import (
    BalanceView,
    BookView,
    CommandContext,
    CommandResult,
    DailyPnl,
    EquityPoint,
    FillView,
    FlattenPreview,
    HealthInfo,
    InstrumentInfo,
    LatencyStats,
    LimitView,
    LogLine,
    OrderView,
    PnlSummary,
    PositionView,
    RiskEventView,
    RiskState,
    StatusReport,
    StrategyInfo,
    SystemInfo,
    VenueInfo,
    WorkflowView,
)

__all__ = ["NodeService", "OperatorError", "OperatorPort"]


class OperatorError(TradewrightError):
    """A command or read the node refuses: `kind` is "not_found", "conflict" or "invalid"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class OperatorPort(Protocol):
    """See the module docstring. Called on the node's event loop thread only."""

    # --- reads ------------------------------------------------------------------------------
    def system(self) -> SystemInfo: ...

    def health(self) -> HealthInfo: ...

    def venues(self) -> list[VenueInfo]: ...

    def instruments(self) -> list[InstrumentInfo]: ...

    def book(self, instrument_id: str, depth: int) -> BookView: ...

    def strategies(self) -> list[StrategyInfo]: ...

    def orders(
        self, *, open_only: bool, strategy_id: str | None, instrument_id: str | None, limit: int
    ) -> list[OrderView]: ...

    def order(self, client_order_id: str) -> OrderView: ...

    def fills(self, *, since_ns: int, strategy_id: str | None, limit: int) -> list[FillView]: ...

    def positions(self) -> list[PositionView]: ...

    def balances(self) -> list[BalanceView]: ...

    def pnl(self) -> PnlSummary: ...

    def equity(self, *, since_ns: int, step_s: int) -> list[EquityPoint]: ...

    def daily_pnl(self) -> list[DailyPnl]: ...

    def risk_state(self) -> RiskState: ...

    def limits(self) -> list[LimitView]: ...

    def risk_events(self, *, since_ns: int, limit: int) -> list[RiskEventView]: ...

    def logs(self, *, level: str, since_ns: int, limit: int) -> list[LogLine]: ...

    def latency(self) -> list[LatencyStats]: ...

    def status(self) -> StatusReport: ...

    def workflows(self, *, open_only: bool, limit: int) -> list[WorkflowView]:
        """Multi-leg workflows (open, or also the recently finished) with their legs and compensations."""
        ...

    def workflow(self, workflow_id: str) -> WorkflowView: ...

    # --- commands ---------------------------------------------------------------------------
    def strategy_command(self, ctx: CommandContext, strategy_id: str, action: str) -> CommandResult:
        """`action`: start, stop, pause or resume."""
        ...

    def change_params(
        self, ctx: CommandContext, strategy_id: str, changes: dict[str, Any], max_change_pct: float
    ) -> CommandResult: ...

    def signal(
        self, ctx: CommandContext, strategy_id: str, name: str, value: Decimal | None, text: str
    ) -> CommandResult: ...

    def cancel_order(self, ctx: CommandContext, client_order_id: str) -> CommandResult: ...

    def cancel_all(
        self,
        ctx: CommandContext,
        *,
        venue: str | None,
        instrument_id: str | None,
        strategy_id: str | None,
    ) -> CommandResult: ...

    def set_trading_state(
        self, ctx: CommandContext, state: str, scope: str, target: str, reason: str
    ) -> CommandResult:
        """`state`: HALTED or REDUCING (operator hold); `scope`: node, venue or instrument."""
        ...

    def resume(
        self, ctx: CommandContext, scope: str, target: str, reason: str, engine_halts: bool
    ) -> CommandResult:
        """Lift every hold on a scope (breakers, kill switch, operator); with `engine_halts`, the engine's
        own halts there too (never a failed store's)."""
        ...

    def change_limit(self, ctx: CommandContext, name: str, value: Decimal | None) -> CommandResult: ...

    def is_loosening(self, name: str, value: Decimal | None) -> bool:
        """True when setting limit `name` to `value` allows more than now (admin only)."""
        ...

    def flatten_prepare(self, ctx: CommandContext, ttl_s: float) -> FlattenPreview: ...

    def flatten_execute(self, ctx: CommandContext, confirm_token: str, reason: str) -> CommandResult: ...

    # --- streaming --------------------------------------------------------------------------
    @property
    def mode(self) -> str: ...

    def subscribe(self, channels: Iterable[str], queue_size: int) -> Subscription:
        """A subscription that first receives a snapshot of each channel, then its numbered deltas."""
        ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    def add_channels(self, subscription: Subscription, channels: Iterable[str]) -> None:
        """Follow more channels (a snapshot of each first)."""
        ...

    def remove_channels(self, subscription: Subscription, channels: Iterable[str]) -> None: ...

    def command_event(self, ctx: CommandContext, kind: str, data: dict[str, Any]) -> None:
        """Publish a command's progress on the `commands` channel (the API announces acceptance)."""
        ...

    def enable_tracing(self, provider: Any = None) -> None:
        """Export OpenTelemetry spans of the order path from now on (see `live/tracing.py`)."""
        ...


NodeService = Callable[[OperatorPort], AbstractAsyncContextManager[Any]]
"""A face attached to a running node: entered once the kernel runs, exited when the node stops."""
