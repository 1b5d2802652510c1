"""Records what a run produces: every event, fills with positions, equity samples, final orders."""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import IO, Any

import msgspec
import numpy as np

from tradewright.core.clock import ns_to_iso
from tradewright.core.ids import InstrumentId
from tradewright.engine.kernel import Kernel
from tradewright.model.commands import Command
from tradewright.model.events import Event, OrderFilled
from tradewright.model.position import Position

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


_ZERO = Decimal(0)


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
        self._instrument = kernel.instruments[instrument_id]
        self.fills: list[tuple[str, ...]] = []
        self._samples: list[tuple[int, int | None, int | None, int]] = []
        self._grids: list[np.ndarray] = []  # compiled-loop samples, kept as arrays until rows are asked for
        self._snaps: list[tuple[Any, ...]] = []
        self.dirty = True
        self._formatted: list[tuple[str, ...]] | None = None
        self.n_events = 0
        self.max_abs_position = Decimal(0)
        self.maker_volume = Decimal(0)
        self.taker_volume = Decimal(0)

    # --- EventSink ----------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        self.n_events += 1
        self.dirty = True
        if self._events_file is not None:
            self._events_file.write(self._encoder.encode(event))
            self._events_file.write(b"\n")
        if type(event) is OrderFilled:  # exact type: cheaper than isinstance on every event
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
        # Stamped with the time the fill reached us (the kernel clock), so rows stay in time order.
        self.sample(self._kernel.clock.now_ns())

    # --- equity samples ---------------------------------------------------------------------
    # A sample is (time, best bid tick, best ask tick, state snapshot index). State snapshots (own quotes,
    # position, cash, PnL, fees) are taken only when an event changed them, so a compiled replay loop can
    # sample the book on a time grid without calling back into Python (see `add_grid`).

    def snapshot_index(self) -> int:
        """Index of a snapshot of the current account state, taking a new one only if it changed."""
        if self.dirty:
            kernel = self._kernel
            pos = kernel.portfolio.position(self._instrument)
            own_bid, own_ask = kernel.orders.best_prices(self._iid)
            self._snaps.append(
                (
                    own_bid,
                    own_ask,
                    pos.quantity,
                    kernel.portfolio.balance(self._instrument.settle),
                    pos.realized_pnl,
                    pos.cost_basis,
                    pos.fees,
                )
            )
            self.dirty = False
        return len(self._snaps) - 1

    def sample(self, ts_ns: int) -> None:
        """Record one equity sample at `ts_ns` now (mark = mid of the book the strategy sees)."""
        bid, ask = self._kernel.books[self._iid].top_ticks()
        self._samples.append((ts_ns, bid, ask, self.snapshot_index()))
        self._formatted = None

    def add_grid(self, grid: np.ndarray) -> None:
        """Add samples recorded by a compiled loop: rows of (time, bid tick, ask tick, snapshot index),
        -1 for an empty side. Kept as an array (a copy): turned into rows only when `equity` is read."""
        self._grids.append(np.array(grid, dtype=np.int64, copy=True))
        self._formatted = None

    def _grid_rows(self) -> list[tuple[int, int | None, int | None, int]]:
        rows: list[tuple[int, int | None, int | None, int]] = []
        for grid in self._grids:
            for ts, bid, ask, idx in grid.tolist():
                rows.append((ts, None if bid < 0 else bid, None if ask < 0 else ask, idx))
        return rows

    @property
    def equity(self) -> list[tuple[str, ...]]:
        """The equity rows as strings, in `EQUITY_COLUMNS` order (grid and event samples merged by time)."""
        if self._formatted is None:
            inst = self._instrument
            tick = inst.tick_size
            rows: list[tuple[str, ...]] = []
            merged = heapq.merge(self._grid_rows(), self._samples, key=lambda r: r[0])
            for ts, bid, ask, idx in merged:
                own_bid, own_ask, qty, cash, realized, cost, fees = self._snaps[idx]
                if qty != 0 and (bid is None or ask is None):
                    continue  # cannot mark a position without a mid
                unreal = _ZERO
                if bid is not None and ask is not None:
                    mid: Decimal | None = tick * (bid + ask) / 2
                    if qty != 0:
                        unreal = Position.unrealized_from_cost(inst, qty, cost, mid)  # type: ignore[arg-type]
                    equity = cash + self._kernel.portfolio.value_at(inst, qty, mid)  # type: ignore[arg-type]
                else:
                    mid = None
                    equity = cash
                rows.append(
                    (
                        str(ts),
                        ns_to_iso(ts),
                        _s(mid),
                        _s(None if bid is None else inst.ticks_to_price(bid)),
                        _s(None if ask is None else inst.ticks_to_price(ask)),
                        _s(own_bid),
                        _s(own_ask),
                        str(qty),
                        str(cash),
                        str(equity),
                        str(realized),
                        str(unreal),
                        str(fees),
                    )
                )
            self._formatted = rows
        return self._formatted
