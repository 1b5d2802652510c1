"""The store's trade journal, written by a live node: one line per fill saying whether it entered
(opened or added to) or exited (reduced or closed) its strategy's position on that market, at what
price and size, in which run — what `tradewright journal` and the API's journal read.

Positions here are each strategy's own (from its fills this session, plus what the node restored),
so two strategies on one market keep separate journals. A write that fails goes to `on_failure`
(the node stops new orders, as for any store failure); the fill itself was committed before.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderFilled, OrderSubmitted
from tradewright.store.ports import StateStore
from tradewright.store.records import JournalEntry, JournalKind

__all__ = ["TradeJournalSink"]

_ZERO = Decimal(0)


class TradeJournalSink:
    """An `EventSink` appending a `JournalEntry` per fill (see the module docstring)."""

    def __init__(
        self,
        store: StateStore,
        run_id: str,
        *,
        owners: dict[ClientOrderId, StrategyId] | None = None,
        on_failure: Callable[[StoreError], None] | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.owners: dict[ClientOrderId, StrategyId] = dict(owners or {})
        self.on_failure = on_failure
        self.net: dict[tuple[StrategyId, InstrumentId], Decimal] = {}
        self.written = 0

    def on_event(self, event: object) -> None:
        kind = type(event)
        if kind is OrderSubmitted:
            assert isinstance(event, OrderSubmitted)
            self.owners[event.client_order_id] = event.strategy_id
        elif kind is OrderFilled:
            assert isinstance(event, OrderFilled)
            self._fill(event)

    def on_command(self, command: object) -> None:
        return None

    def _fill(self, fill: OrderFilled) -> None:
        sid = self.owners.get(fill.client_order_id)
        if sid is None:
            return  # not an order of this session's strategies (e.g. found by reconciliation)
        key = (sid, fill.instrument_id)
        before = self.net.get(key, _ZERO)
        signed = fill.last_qty if fill.side is OrderSide.BUY else -fill.last_qty
        after = self.net[key] = before + signed
        exits = before != 0 and (before > 0) != (signed > 0)
        if exits:
            reason = (
                "closed the position"
                if after == 0
                else ("reduced" if (after > 0) == (before > 0) else "reversed")
            )
        else:
            reason = "opened a position" if before == 0 else "added to the position"
        entry = JournalEntry(
            ts_ns=fill.ts_event,
            strategy_id=sid,
            instrument_id=fill.instrument_id,
            kind=JournalKind.EXIT if exits else JournalKind.ENTRY,
            side=fill.side,
            price=fill.last_px,
            quantity=fill.last_qty,
            reason=f"{reason} ({fill.liquidity.value.lower()} fill, position {before} -> {after})",
            client_order_id=fill.client_order_id,
            run_id=self.run_id,
        )
        try:
            self.store.record_journal(entry)
        except StoreError as exc:
            if self.on_failure is None:
                raise
            self.on_failure(exc)
            return
        self.written += 1
