"""The journal port: where a kernel makes its decisions durable before acting on them (commit first).

A kernel built with a journal (a live node's state store, see `tradewright.live.store_sink`) calls it
*before* it changes memory or sends anything:

- an order intent (the `SubmitOrder` and its `OrderSubmitted`) before the order is sent; a bracket child
  the engine holds until its entry fills is recorded at once (`record_held`) and released later;
- every other order event the order manager will apply (acks, cancels, pending requests), before the
  in-memory order changes; events the order manager ignores (duplicates, stale acks) are not recorded;
- a fill, with the position and balances it will produce, before the portfolio moves.

Each call returns True once the write is durable, False when the journal already held it (a repeat:
the kernel then neither applies a fill again nor sends an intent again), and raises `StoreError` when
it cannot commit: the kernel then changes nothing, sends nothing and refuses new orders
(`Kernel.halts`); cancels still go out. A backtest has no journal and pays nothing for any of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Protocol

from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderDenied, OrderEvent, OrderFilled, OrderSubmitted
from tradewright.model.instrument import Instrument
from tradewright.model.position import Position
from tradewright.portfolio.portfolio import Portfolio

__all__ = ["Journal", "copy_position", "preview_fill"]


class Journal(Protocol):
    """Durable record of the kernel's decisions, written before they take effect."""

    def record_intent(self, command: SubmitOrder, event: OrderSubmitted | OrderDenied) -> bool:
        """Store a new order with its first event (submitted, or denied before it left the node)."""
        ...

    def record_held(self, command: SubmitOrder) -> bool:
        """Store an order the engine holds back (a bracket child before its entry fills): status
        INITIALIZED, never sent until an `OrderSubmitted` releases it (`tradewright.engine.contingent`)."""
        ...

    def record_order_event(self, event: OrderEvent) -> bool:
        """Store an order event other than a fill, before the in-memory order applies it."""
        ...

    def record_fill(
        self, fill: OrderFilled, position_after: Position, balances_after: Mapping[str, Decimal]
    ) -> bool:
        """Store a fill with the position and balances it produces, before the portfolio moves."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Group the writes inside the block into one commit (act on them only after the block)."""
        ...


def copy_position(target: Position, source: Position) -> None:
    """Make a fresh (flat) `target` equal to `source`: its open FIFO lots and its running totals."""
    if target.quantity != 0 or target.open_lots():
        raise ValueError(f"copy_position needs a flat target, got {target}")
    side = OrderSide.BUY if source.quantity > 0 else OrderSide.SELL
    for price, size in source.open_lots():
        target.apply_fill(side, price, size)
    target.realized_pnl = source.realized_pnl
    target.fees = source.fees
    target.traded_volume = source.traded_volume


def preview_fill(
    portfolio: Portfolio, instrument: Instrument, fill: OrderFilled
) -> tuple[Position, dict[str, Decimal]]:
    """The position and the balances (of the currencies the fill moves) that `fill` will produce,
    computed by the portfolio's own rules on a copy: `portfolio` itself does not change."""
    moved = {instrument.settle, fill.fee_currency}
    shadow = Portfolio({currency: portfolio.balance(currency) for currency in moved})
    held = portfolio.find_position(instrument.id)
    if held is not None:
        copy_position(shadow.position(instrument), held)
    position = shadow.apply_fill(
        instrument, fill.side, fill.last_px, fill.last_qty, fill.fee, fill.fee_currency
    )
    return position, shadow.balances
