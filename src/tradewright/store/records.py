"""Records the store writes and reads besides the model's own types (orders, events, positions)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.model.position import Position

__all__ = [
    "AuditRecord",
    "JournalEntry",
    "JournalKind",
    "RiskEventRecord",
    "RunRecord",
    "StoreState",
    "StrategySnapshot",
]

T = TypeVar("T")


class RunRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One backtest, paper or live session. `config_hash` identifies the config that produced it."""

    run_id: str
    mode: str
    config_hash: str
    started_ns: int
    ended_ns: int | None = None
    exit_status: str | None = None


class StrategySnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy's saved state. `state` is JSON text; `version` is the strategy's own state format.

    `last_fill_id` is store-assigned on save: the fills committed after it are the ones to replay.
    """

    strategy_id: StrategyId
    version: int
    state: str
    ts_ns: int
    last_fill_id: int = 0

    def decode(self, type_: type[T]) -> T:
        """Decode the state into `type_` (a msgspec Struct, dict, ...); Decimals come back exact."""
        return msgspec.json.decode(self.state, type=type_)


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Who asked for what, and why: every command from the CLI, the API or a strategy.

    `detail` is JSON text (for a command: the command itself). `run_id` None on write means "the run
    the store was told about with `start_run`".
    """

    ts_ns: int
    actor: str
    action: str
    reason: str = ""
    detail: str | None = None
    run_id: str | None = None


class RiskEventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A risk decision worth keeping: a breaker tripped, trading state changed, the kill switch."""

    ts_ns: int
    kind: str
    message: str
    strategy_id: StrategyId | None = None
    instrument_id: InstrumentId | None = None
    detail: str | None = None
    run_id: str | None = None


class JournalKind(enum.StrEnum):
    ENTRY = "ENTRY"
    EXIT = "EXIT"


class JournalEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A trade journal line: why a position was entered or exited, its R multiple and market regime."""

    ts_ns: int
    strategy_id: StrategyId
    instrument_id: InstrumentId
    kind: JournalKind
    side: OrderSide
    price: Decimal
    quantity: Decimal
    reason: str
    r_multiple: Decimal | None = None
    regime: str | None = None
    client_order_id: ClientOrderId | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoreState:
    """What a restart needs, read in one consistent snapshot.

    The `Order` and `Position` objects are fresh copies rebuilt for the caller: orders by replaying their
    stored events through the model's state machine. `orders` holds every open order and, when asked
    for with `orders_since_ns`, every order active since then; `open_orders` is its open part (the same
    objects). `fills_since_snapshot` lists, for each strategy with a snapshot, its fills committed after
    that snapshot, oldest first.
    """

    instruments: dict[InstrumentId, Instrument]
    orders: dict[ClientOrderId, Order]
    open_orders: dict[ClientOrderId, Order]
    positions: dict[InstrumentId, Position]
    balances: dict[str, Decimal]
    snapshots: dict[StrategyId, StrategySnapshot]
    fills_since_snapshot: dict[StrategyId, list[OrderFilled]]
    last_run: RunRecord | None

    def summary(self) -> dict[str, Any]:
        """Count what was loaded (for a start-up log line)."""
        return {
            "instruments": len(self.instruments),
            "orders": len(self.orders),
            "open_orders": len(self.open_orders),
            "positions": len(self.positions),
            "balances": len(self.balances),
            "snapshots": len(self.snapshots),
        }
