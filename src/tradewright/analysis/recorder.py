"""Records what a run produces: every event, fills with positions, equity samples, final orders."""

from __future__ import annotations

from decimal import Decimal
from typing import IO

import msgspec

from tradewright.core.clock import ns_to_iso
from tradewright.core.ids import InstrumentId
from tradewright.engine.kernel import Kernel
from tradewright.model.commands import Command
from tradewright.model.enums import OrderSide
from tradewright.model.events import Event, OrderFilled

__all__ = ["EQUITY_COLUMNS", "FILL_COLUMNS", "RunRecorder"]

FILL_COLUMNS = (
    "ts_event_ns",
    "ts_iso",
    "client_order_id",
    "venue_order_id",
    "trade_id",
    "instrument_id",
    "side",
    "price",
    "quantity",
    "liquidity",
    "fee",
    "fee_currency",
    "position_after",
    "realized_pnl_after",
)
EQUITY_COLUMNS = (
    "ts_ns",
    "ts_iso",
    "mid",
    "best_bid",
    "best_ask",
    "own_bid",
    "own_ask",
    "position",
    "cash",
    "equity",
    "realized_pnl",
    "unrealized_pnl",
    "fees",
)


def _s(value: object) -> str:
    return "" if value is None else str(value)


class RunRecorder:
    """An `EventSink` that keeps a run's rows in memory (fills, equity) and streams events to a file."""

    def __init__(
        self, kernel: Kernel, instrument_id: InstrumentId, events_file: IO[bytes] | None = None
    ) -> None:
        self._kernel = kernel
        self._iid = instrument_id
        self.instrument_id = instrument_id
        self._events_file = events_file
        self._encoder = msgspec.json.Encoder()
        self.fills: list[tuple[str, ...]] = []
        self.equity: list[tuple[str, ...]] = []
        self.n_events = 0
        self.max_abs_position = Decimal(0)
        self.maker_volume = Decimal(0)
        self.taker_volume = Decimal(0)

    # --- EventSink ----------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        self.n_events += 1
        if self._events_file is not None:
            self._events_file.write(self._encoder.encode(event))
            self._events_file.write(b"\n")
        if isinstance(event, OrderFilled):
            self._record_fill(event)

    def on_command(self, command: Command) -> None:
        if self._events_file is not None:
            self._events_file.write(self._encoder.encode(command))
            self._events_file.write(b"\n")

    # --- rows ---------------------------------------------------------------------------------
    def _record_fill(self, fill: OrderFilled) -> None:
        kernel = self._kernel
        inst = kernel.instruments[fill.instrument_id]
        pos = kernel.portfolio.position(inst)
        if fill.liquidity.value == "MAKER":
            self.maker_volume += fill.last_qty
        else:
            self.taker_volume += fill.last_qty
        self.max_abs_position = max(self.max_abs_position, abs(pos.quantity))
        self.fills.append(
            (
                str(fill.ts_event),
                ns_to_iso(fill.ts_event),
                fill.client_order_id,
                fill.venue_order_id,
                fill.trade_id,
                str(fill.instrument_id),
                fill.side.value,
                str(fill.last_px),
                str(fill.last_qty),
                fill.liquidity.value,
                str(fill.fee),
                fill.fee_currency,
                str(pos.quantity),
                str(pos.realized_pnl),
            )
        )
        self.sample(fill.ts_event)

    def sample(self, ts_ns: int) -> None:
        """Append one equity row at `ts_ns` (mark = mid of the book the strategy sees)."""
        kernel = self._kernel
        inst = kernel.instruments[self._iid]
        book = kernel.books[self._iid]
        mid = book.mid
        pos = kernel.portfolio.position(inst)
        cash = kernel.portfolio.balance(inst.settle)
        if mid is None:
            if pos.quantity != 0:
                return  # cannot mark a position without a mid; the next sample will
            equity = cash
            unreal = Decimal(0)
        else:
            value = kernel.portfolio.position_value(inst, mid)
            equity = cash + value
            unreal = pos.unrealized_pnl(mid)
        own_bid: Decimal | None = None
        own_ask: Decimal | None = None
        for order in kernel.orders.open_orders(self._iid):
            if order.price is None:
                continue
            if order.side is OrderSide.BUY:
                own_bid = order.price if own_bid is None else max(own_bid, order.price)
            else:
                own_ask = order.price if own_ask is None else min(own_ask, order.price)
        self.equity.append(
            (
                str(ts_ns),
                ns_to_iso(ts_ns),
                _s(mid),
                _s(book.best_bid),
                _s(book.best_ask),
                _s(own_bid),
                _s(own_ask),
                str(pos.quantity),
                str(cash),
                str(equity),
                str(pos.realized_pnl),
                str(unreal),
                str(pos.fees),
            )
        )
