"""The `StateStore` port: what the engine, the faces and the runners need from persistence.

Durability contract: a write method returns only after its transaction committed (`synchronous`
FULL on SQLite, `synchronous_commit = on` on PostgreSQL), unless it runs inside `batch()`, which commits
when the block exits. A failed commit raises `StoreError` (naming the backend and the operation) and
leaves nothing of the failed transaction behind. The three `record_*` methods for orders and fills are
idempotent, so retrying a call that raised `StoreError` is always safe: they return False when the
write had already happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Protocol

from tradewright.core.ids import StrategyId
from tradewright.model.commands import Command
from tradewright.model.events import OrderEvent, OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.model.position import Position
from tradewright.store.credentials import ApiKeyRecord, UserRecord
from tradewright.store.records import (
    AuditRecord,
    JournalEntry,
    RiskEventRecord,
    RunRecord,
    StoreState,
    StrategySnapshot,
)

__all__ = ["CredentialStore", "StateStore"]


class StateStore(Protocol):
    """Durable state for one node: orders, fills, positions, balances, snapshots and logs."""

    # --- orders and fills (commit before acting) --------------------------------------------
    def record_intent(self, order: Order) -> bool:
        """Store a new order before it is sent; its client order id is the idempotency key.

        `order` is INITIALIZED, or carries just its OrderSubmitted (or OrderDenied) event. Return True
        when stored, False when this very intent was already stored (a retry: no-op). Raise
        `InvalidOrderError` if the id is taken by different terms or the order has already moved on.
        """
        ...

    def record_order_event(self, event: OrderEvent) -> bool:
        """Append an order event and update the order's current state, in one transaction.

        Raise `InvalidStateTransition` (writing nothing) if the stored order cannot take the event or
        is unknown; `TypeError` for an OrderFilled (use `record_fill`). Return False if the event is the
        same as the last one stored for the order (a retry after an ambiguous failure).
        """
        ...

    def record_fill(
        self, fill: OrderFilled, position_after: Position, balances_after: Mapping[str, Decimal]
    ) -> bool:
        """Store a fill, the order's new state, the position and balances after it, in one transaction.

        `balances_after` maps currency to the new total (only the currencies the fill moved are
        needed). Return False, writing nothing, if this (venue, instrument, trade id, order) is stored.
        """
        ...

    def save_instrument(self, instrument: Instrument, *, ts_ns: int) -> None:
        """Insert or replace an instrument's definition."""
        ...

    def save_portfolio(
        self, positions_now: Iterable[Position], balances_now: Mapping[str, Decimal], *, ts_ns: int
    ) -> None:
        """Overwrite positions and balances outside a fill (reconciliation, settlement), in one transaction."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Group commit: the writes inside the block commit together when it exits (see SqlStateStore)."""
        ...

    # --- strategies, runs, logs -------------------------------------------------------------
    def save_strategy_snapshot(
        self, strategy_id: StrategyId, version: int, state: object, *, ts_ns: int
    ) -> StrategySnapshot:
        """Store a strategy's state (anything msgspec encodes as JSON); return the stored snapshot."""
        ...

    def start_run(self, run: RunRecord) -> None:
        """Record a run's start; later audit, risk and journal records without a run id get this one."""
        ...

    def end_run(self, run_id: str, *, ended_ns: int, exit_status: str) -> None:
        """Record a run's end ('ok', 'error: ...', 'killed')."""
        ...

    def record_command(self, command: Command, *, reason: str = "") -> None:
        """Audit a command: its actor, type, reason, time and the command itself."""
        ...

    def record_audit(self, record: AuditRecord) -> None:
        """Audit an action that is not a model command (a config reload, a manual halt)."""
        ...

    def record_risk_event(self, record: RiskEventRecord) -> None: ...

    def record_journal(self, entry: JournalEntry) -> None: ...

    # --- reads ------------------------------------------------------------------------------
    def load_state(self, *, orders_since_ns: int | None = None) -> StoreState:
        """Read what a restart needs in one consistent snapshot (see `StoreState`)."""
        ...

    def read_audit(self, *, since_ns: int = 0, limit: int = 1000) -> list[AuditRecord]: ...

    def read_risk_events(self, *, since_ns: int = 0, limit: int = 1000) -> list[RiskEventRecord]: ...

    def read_journal(
        self, *, strategy_id: StrategyId | None = None, since_ns: int = 0, limit: int = 1000
    ) -> list[JournalEntry]: ...

    def close(self) -> None: ...


class CredentialStore(Protocol):
    """API keys and operator accounts (hashes only) and the fills history, for the API and its CLI."""

    def read_fills(
        self, *, since_ns: int = 0, strategy_id: StrategyId | None = None, limit: int = 500
    ) -> list[OrderFilled]: ...

    def save_api_key(self, record: ApiKeyRecord) -> None: ...

    def revoke_api_key(self, key_id: str, *, ts_ns: int) -> bool: ...

    def api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    def api_keys(self) -> list[ApiKeyRecord]: ...

    def save_user(self, record: UserRecord) -> None: ...

    def remove_user(self, username: str) -> bool: ...

    def user(self, username: str) -> UserRecord | None: ...

    def users(self) -> list[UserRecord]: ...

    def record_audit(self, record: AuditRecord) -> None: ...

    def read_audit(self, *, since_ns: int = 0, limit: int = 1000) -> list[AuditRecord]: ...

    def read_risk_events(self, *, since_ns: int = 0, limit: int = 1000) -> list[RiskEventRecord]: ...

    def close(self) -> None: ...
