"""Pure conversions between model objects and table rows. No I/O here.

Messages are stored as msgspec JSON (Decimals as strings, so exact; tagged unions keep the type), and
orders are rebuilt by replaying their events through the model's own state machine, so a loaded order
is indistinguishable from one that lived through those events in memory.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from tradewright.core.errors import InvalidStateTransition, StoreError
from tradewright.core.ids import InstrumentId
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide
from tradewright.model.events import EVENT_TYPES, OrderEvent, OrderFilled, OrderSubmitted
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.model.position import Position

__all__ = [
    "decode_event",
    "decode_instrument",
    "decode_intent",
    "encode",
    "event_row",
    "fill_row",
    "instrument_row",
    "intent_of",
    "open_lots",
    "order_row",
    "order_state",
    "position_from_row",
    "position_row",
    "rebuild_order",
]

ORDER_EVENT_TYPES: tuple[type[OrderEvent], ...] = tuple(t for t in EVENT_TYPES if issubclass(t, OrderEvent))
_event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    functools.reduce(operator.or_, ORDER_EVENT_TYPES)
)
_intent_decoder = msgspec.json.Decoder(SubmitOrder)
_instrument_decoder = msgspec.json.Decoder(Instrument)
_lots_decoder = msgspec.json.Decoder(list[tuple[Decimal, Decimal]])
_encoder = msgspec.json.Encoder()


def encode(obj: object) -> str:
    """Encode any msgspec-supported object as JSON text."""
    return _encoder.encode(obj).decode()


def decode_event(payload: str) -> OrderEvent:
    event: OrderEvent = _event_decoder.decode(payload)
    return event


def decode_intent(payload: str) -> SubmitOrder:
    return _intent_decoder.decode(payload)


def decode_instrument(payload: str) -> Instrument:
    return _instrument_decoder.decode(payload)


# --- instruments ------------------------------------------------------------------------------
def instrument_row(instrument: Instrument, ts_ns: int) -> dict[str, Any]:
    return {
        "instrument_id": str(instrument.id),
        "venue": instrument.id.venue,
        "kind": instrument.kind.value,
        "base": instrument.base,
        "quote": instrument.quote,
        "settle": instrument.settle,
        "tick_size": instrument.tick_size,
        "lot_size": instrument.lot_size,
        "definition": encode(instrument),
        "updated_ns": ts_ns,
    }


# --- orders -----------------------------------------------------------------------------------
def intent_of(order: Order) -> SubmitOrder:
    """Return the command that created `order` (its original terms, before any modify)."""
    first = order.events[0] if order.events else None
    if isinstance(first, OrderSubmitted):
        return SubmitOrder(
            ts_init=order.ts_init,
            client_order_id=first.client_order_id,
            strategy_id=first.strategy_id,
            instrument_id=first.instrument_id,
            side=first.side,
            order_type=first.order_type,
            quantity=first.quantity,
            price=first.price,
            trigger_price=first.trigger_price,
            time_in_force=first.time_in_force,
            expire_ns=first.expire_ns,
            post_only=first.post_only,
            reduce_only=first.reduce_only,
            parent_order_id=first.parent_order_id,
            oca_group=first.oca_group,
        )
    return SubmitOrder(
        ts_init=order.ts_init,
        client_order_id=order.client_order_id,
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
        trigger_price=order.trigger_price,
        time_in_force=order.time_in_force,
        expire_ns=order.expire_ns,
        post_only=order.post_only,
        reduce_only=order.reduce_only,
        parent_order_id=order.parent_order_id,
        oca_group=order.oca_group,
    )


def order_state(order: Order) -> dict[str, Any]:
    """The `orders` columns that change as events are applied."""
    return {
        "quantity": order.quantity,
        "price": order.price,
        "status": order.status.value,
        "venue_order_id": order.venue_order_id,
        "filled_qty": order.filled_qty,
        "avg_px": order.avg_px,
        "fees": order.fees,
        "ts_last": order.ts_last,
        "event_count": len(order.events),
    }


def order_row(order: Order, intent: SubmitOrder) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "strategy_id": order.strategy_id,
        "instrument_id": str(order.instrument_id),
        "side": order.side.value,
        "order_type": order.order_type.value,
        "time_in_force": order.time_in_force.value,
        "trigger_price": order.trigger_price,
        "expire_ns": order.expire_ns,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "ts_init": order.ts_init,
        "intent": encode(intent),
        **order_state(order),
    }


def rebuild_order(intent: SubmitOrder, events: Iterable[OrderEvent]) -> Order:
    """Replay stored events onto a fresh order; a sequence the state machine refuses is corruption."""
    order = Order(intent)
    for event in events:
        try:
            order.apply(event)
        except InvalidStateTransition as exc:
            raise StoreError(f"stored events of order {intent.client_order_id} do not replay: {exc}") from exc
    return order


def event_row(event: OrderEvent, seq: int) -> dict[str, Any]:
    return {
        "client_order_id": event.client_order_id,
        "seq": seq,
        "event_type": type(event).__name__,
        "instrument_id": str(event.instrument_id),
        "venue_order_id": getattr(event, "venue_order_id", None),
        "ts_event": event.ts_event,
        "ts_init": event.ts_init,
        "payload": encode(event),
    }


# --- fills and positions ----------------------------------------------------------------------
def fill_row(fill: OrderFilled, strategy_id: str) -> dict[str, Any]:
    return {
        "venue": fill.instrument_id.venue,
        "instrument_id": str(fill.instrument_id),
        "trade_id": fill.trade_id,
        "client_order_id": fill.client_order_id,
        "strategy_id": strategy_id,
        "venue_order_id": fill.venue_order_id,
        "side": fill.side.value,
        "last_px": fill.last_px,
        "last_qty": fill.last_qty,
        "liquidity": fill.liquidity.value,
        "fee": fill.fee,
        "fee_currency": fill.fee_currency,
        "ts_event": fill.ts_event,
        "ts_init": fill.ts_init,
        "payload": encode(fill),
    }


def position_row(position: Position, ts_ns: int) -> dict[str, Any]:
    return {
        "instrument_id": str(position.instrument.id),
        "quantity": position.quantity,
        "avg_px": position.avg_px,
        "realized_pnl": position.realized_pnl,
        "fees": position.fees,
        "traded_volume": position.traded_volume,
        "lots": encode(open_lots(position)),
        "ts_last": ts_ns,
    }


def open_lots(position: Position) -> list[tuple[Decimal, Decimal]]:
    """The open size as (entry price, size > 0) FIFO lots, oldest first (realised PnL depends on which
    lot a later fill closes, so the lots are stored, not just the average price)."""
    return position.open_lots()


def position_from_row(row: Mapping[Any, Any], instruments: Mapping[InstrumentId, Instrument]) -> Position:
    """Rebuild a position through its public API: open each lot as a fill, then restore the totals."""
    iid = InstrumentId.parse(row["instrument_id"])
    instrument = instruments.get(iid)
    if instrument is None:
        raise StoreError(f"position in {iid} has no stored instrument")
    quantity = _money(row["quantity"])
    side = OrderSide.BUY if quantity > 0 else OrderSide.SELL
    position = Position(instrument)
    for price, size in _lots_decoder.decode(row["lots"]):
        position.apply_fill(side, price, size)
    position.realized_pnl = _money(row["realized_pnl"])
    position.fees = _money(row["fees"])
    position.traded_volume = _money(row["traded_volume"])
    if (position.quantity, position.avg_px) != (quantity, _money(row["avg_px"])):
        raise StoreError(
            f"position in {iid}: stored lots give {position.quantity} @ {position.avg_px}, "
            f"the row says {quantity} @ {row['avg_px']}"
        )
    return position


def _money(value: object) -> Decimal:
    if not isinstance(value, Decimal):
        raise StoreError(f"money column returned {type(value).__name__}, not Decimal")
    return value
