"""Records what a run produces: every event, fills with positions, equity samples, final orders."""

from __future__ import annotations

from decimal import Decimal
from typing import IO, Any

import msgspec

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
        self._samples: list[tuple[Any, ...]] = []
        self._formatted: list[tuple[str, ...]] | None = None
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
        # Stamped with the time the fill reached us (the kernel clock), so rows stay in time order.
        self.sample(self._kernel.clock.now_ns())

    def sample(self, ts_ns: int) -> None:
        """Record one equity sample at `ts_ns` (mark = mid of the book the strategy sees).

        Stores raw values only (cheap: this runs every sampling interval); `equity` formats them.
        """
        kernel = self._kernel
        bid, ask = kernel.books[self._iid].top_ticks()
        pos = kernel.portfolio.position(self._instrument)
        qty = pos.quantity
        if qty != 0 and (bid is None or ask is None):
            return  # cannot mark a position without a mid; the next sample will
        own_bid, own_ask = kernel.orders.best_prices(self._iid)
        # Raw values only; unrealised PnL is derived from the exact cost basis when rows are formatted.
        self._samples.append(
            (
                ts_ns,
                bid,
                ask,
                own_bid,
                own_ask,
                qty,
                kernel.portfolio.balance(self._instrument.settle),
                pos.realized_pnl,
                pos.cost_basis,
                pos.fees,
            )
        )
        self._formatted = None

    @property
    def equity(self) -> list[tuple[str, ...]]:
        """The equity rows as strings, in `EQUITY_COLUMNS` order."""
        if self._formatted is None:
            inst = self._instrument
            tick = inst.tick_size
            rows: list[tuple[str, ...]] = []
            for ts, bid, ask, own_bid, own_ask, qty, cash, realized, cost, fees in self._samples:
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
