"""An in-memory `Journal` (the engine's commit-first port) for tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId, TradeId
from tradewright.model.commands import SubmitOrder
from tradewright.model.events import OrderDenied, OrderEvent, OrderFilled, OrderSubmitted
from tradewright.model.position import Position

__all__ = ["InMemoryJournal", "JournalRecord"]

JournalRecord = tuple[str, object]


class InMemoryJournal:
    """Keeps every record in order. `fail` makes writes raise `StoreError` with that text; `on_write`
    is called with each record before it is kept (to look at the kernel at that moment)."""

    def __init__(self) -> None:
        self.records: list[JournalRecord] = []
        self.positions: dict[str, Position] = {}
        self.balances: dict[str, Decimal] = {}
        self.fail: str | None = None
        self.on_write: Callable[[JournalRecord], None] | None = None
        self.batches = 0
        self._intents: dict[ClientOrderId, SubmitOrder] = {}
        self._fills: set[tuple[ClientOrderId, TradeId]] = set()
        self._staged: list[JournalRecord] | None = None

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.records]

    def record_intent(self, command: SubmitOrder, event: OrderSubmitted | OrderDenied) -> bool:
        if command.client_order_id in self._intents:
            return False
        self._write(("intent", event))
        self._intents[command.client_order_id] = command
        return True

    def record_held(self, command: SubmitOrder) -> bool:
        if command.client_order_id in self._intents:
            return False
        self._write(("held", command))
        self._intents[command.client_order_id] = command
        return True

    def record_order_event(self, event: OrderEvent) -> bool:
        if event.client_order_id not in self._intents:
            raise StoreError(f"order {event.client_order_id} was never recorded")
        self._write(("event", event))
        return True

    def record_fill(
        self, fill: OrderFilled, position_after: Position, balances_after: Mapping[str, Decimal]
    ) -> bool:
        key = (fill.client_order_id, fill.trade_id)
        if key in self._fills:
            return False
        self._write(("fill", (fill, position_after, dict(balances_after))))
        self._fills.add(key)
        self.positions[str(fill.instrument_id)] = position_after
        self.balances.update(balances_after)
        return True

    @contextmanager
    def batch(self) -> Iterator[None]:
        if self._staged is not None:
            yield
            return
        self._staged = []
        try:
            yield
            if self.fail is not None:
                raise StoreError(self.fail)
            self.records.extend(self._staged)
            self.batches += 1
        finally:
            self._staged = None

    def _write(self, record: JournalRecord) -> None:
        if self.fail is not None:
            raise StoreError(self.fail)
        if self.on_write is not None:
            self.on_write(record)
        if self._staged is not None:
            self._staged.append(record)
        else:
            self.records.append(record)
