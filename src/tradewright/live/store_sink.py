"""The live node's glue between the kernel and the state store: the kernel's `Journal` (commit before
acting) and an `EventSink` for what is not an order event (risk decisions, the audit of commands).

The store package does not know the engine and the engine does not know the store; this module, in
the live runtime, connects them. Every journal call commits before it returns (the kernel acts only
afterwards); audit records of commands are grouped into the same transaction as the write that
carries the command out, so a command costs no commit of its own (group commit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

from tradewright.core.errors import InvalidOrderError, InvalidStateTransition, StoreError
from tradewright.core.ids import InstrumentId
from tradewright.live.crash import CrashHooks
from tradewright.model.commands import Command, SubmitOrder
from tradewright.model.events import (
    CommandDenied,
    Event,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderPendingCancel,
    OrderSubmitted,
    RiskEvent,
    VenueIntegrityViolation,
)
from tradewright.model.orders import Order
from tradewright.model.position import Position
from tradewright.store import codec
from tradewright.store.ports import StateStore
from tradewright.store.records import RiskEventRecord

__all__ = ["StoreSink", "risk_record"]


class StoreSink:
    """Journal and event sink over a `StateStore`. Store failures raise `StoreError` to the kernel
    (journal calls) or go to `on_failure` (events the kernel only reports)."""

    def __init__(
        self,
        store: StateStore,
        *,
        hooks: CrashHooks | None = None,
        on_failure: Callable[[StoreError], None] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.store = store
        self._hooks = hooks or CrashHooks()
        self._on_failure = on_failure
        self._log = log or logging.getLogger("tradewright.live.store")
        self._commands: list[Command] = []
        self._group: list[OrderEvent] | None = None  # cancels staged in the kernel's group commit
        self.writes = 0

    # --- Journal ------------------------------------------------------------------------------
    def record_intent(self, command: SubmitOrder, event: OrderSubmitted | OrderDenied) -> bool:
        order = Order(command)
        order.apply(event)
        with self.store.batch():
            self._write_commands()
            try:
                stored = self.store.record_intent(order)
            except InvalidOrderError as exc:
                # The id is taken by other terms: whatever that order was, this one must not go out.
                self._log.error("intent of %s refused by the store: %s", command.client_order_id, exc)
                stored = False
        self.writes += 1
        if stored and type(event) is OrderSubmitted:
            self._hooks.reached("after_intent_commit")
        return stored

    def record_held(self, command: SubmitOrder) -> bool:
        """Store a bracket child the engine holds (INITIALIZED: in the store, not sent)."""
        with self.store.batch():
            self._write_commands()
            try:
                stored = self.store.record_intent(Order(command))
            except InvalidOrderError as exc:
                self._log.error("held order %s refused by the store: %s", command.client_order_id, exc)
                stored = False
        self.writes += 1
        return stored

    def record_order_event(self, event: OrderEvent) -> bool:
        with self.store.batch():
            self._write_commands()
            try:
                stored = self.store.record_order_event(event)
            except InvalidStateTransition as exc:
                raise StoreError(f"the store cannot take {type(event).__name__}: {exc}") from exc
        self.writes += 1
        if type(event) is OrderPendingCancel:
            if self._group is not None:
                self._group.append(event)  # durable only when the group commits
            else:
                self._hooks.reached("after_cancel_commit")
        return stored

    def record_fill(
        self, fill: OrderFilled, position_after: Position, balances_after: Mapping[str, Decimal]
    ) -> bool:
        with self.store.batch():
            self._write_commands()
            try:
                stored = self.store.record_fill(fill, position_after, balances_after)
            except InvalidStateTransition as exc:
                raise StoreError(f"the store cannot take fill {fill.trade_id}: {exc}") from exc
        self.writes += 1
        if stored:
            self._hooks.reached("after_fill_commit")
        return stored

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for every journal write inside (the kernel sends nothing until it exits)."""
        if self._group is not None:  # nested: part of the outer group
            with self.store.batch():
                yield
            return
        staged: list[OrderEvent] = []
        self._group = staged
        try:
            with self.store.batch():
                yield
        finally:
            self._group = None
        for _ in staged:
            self._hooks.reached("after_cancel_commit")

    # --- EventSink ----------------------------------------------------------------------------
    def on_command(self, command: Command) -> None:
        """Audit a command with the next write (the one that carries it out), or at the next `flush`."""
        self._commands.append(command)

    def on_event(self, event: Event) -> None:
        """Record risk decisions (order events and fills went through the journal already)."""
        if isinstance(event, RiskEvent):
            try:
                with self.store.batch():
                    self._write_commands()
                    self.store.record_risk_event(risk_record(event))
            except StoreError as exc:
                self._failed(exc)

    def flush(self) -> None:
        """Write the audit of commands that led to no write (denied cancels, cancel-all on nothing)."""
        if not self._commands:
            return
        try:
            with self.store.batch():
                self._write_commands()
        except StoreError as exc:
            self._failed(exc)

    def _write_commands(self) -> None:
        commands, self._commands = self._commands, []
        for command in commands:
            self.store.record_command(command)

    def _failed(self, exc: StoreError) -> None:
        self._log.critical("the state store failed: %s", exc)
        if self._on_failure is not None:
            self._on_failure(exc)


def risk_record(event: RiskEvent) -> RiskEventRecord:
    """A risk event as the store keeps it: its kind, a sentence, its instrument, and the event itself."""
    message = str(getattr(event, "reason", "") or getattr(event, "message", "") or type(event).__name__)
    instrument_id: InstrumentId | None = None
    if isinstance(event, CommandDenied):
        instrument_id = event.instrument_id
        message = event.message
    elif isinstance(event, VenueIntegrityViolation):
        instrument_id = event.instrument_id
    elif getattr(event, "scope", None) == "instrument":
        try:
            instrument_id = InstrumentId.parse(str(getattr(event, "target", "")))
        except ValueError:
            instrument_id = None
    return RiskEventRecord(
        ts_ns=event.ts_init,
        kind=type(event).__name__,
        message=message,
        instrument_id=instrument_id,
        detail=codec.encode(event),
    )
