"""Pure translations between Alpaca's terms and ours, tested on the documented payloads.

Alpaca's ids: the order `id` (a UUID) is the venue order id; our client order id is Alpaca's
`client_order_id` (at most 128 characters). Bracket legs get ids of Alpaca's making; the adapter keeps
which leg is which of our orders. Alpaca charges no commission on these orders: fills carry a zero fee.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import VenueOrder, VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument, InstrumentKind, TradingSession
from tradewright.model.orders import Order
from tradewright.venues._common.numbers import on_grid
from tradewright.venues.alpaca.schemas import Activity, RawAsset, RawOrder

__all__ = [
    "END_EVENTS",
    "activity_fill",
    "bracket_body",
    "exact",
    "fill_event",
    "instrument_of",
    "instrument_symbol",
    "order_body",
    "rfc3339_ns",
    "venue_order",
    "venue_status",
]

END_EVENTS = frozenset({"canceled", "expired", "rejected", "done_for_day"})
_OPEN = frozenset({"new", "accepted", "partially_filled", "pending_new", "held", "accepted_for_bidding",
                   "pending_cancel", "pending_replace", "calculated", "stopped", "suspended"})  # fmt: skip
_TIF = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}
_TYPES = {OrderType.MARKET: "market", OrderType.LIMIT: "limit", OrderType.STOP_MARKET: "stop", OrderType.STOP_LIMIT: "stop_limit"}
_EQUITY_SESSIONS = (
    TradingSession(name="rth", tz="America/New_York", open="09:30", close="16:00"),
    TradingSession(name="extended", tz="America/New_York", open="04:00", close="20:00"),
)


def exact(value: object, step: Decimal, what: str) -> Decimal:
    """Alpaca's number (text, or a float from alpaca-py's streams) exactly on `step`'s grid."""
    return on_grid(repr(value) if isinstance(value, float) else str(value), step, what, "Alpaca")


def rfc3339_ns(text: str) -> int:
    """``2024-01-02T15:04:05.123456789Z`` (or with an offset) -> UTC ns, keeping the nanoseconds."""
    head, dot, rest = text.partition(".")
    frac, tail = "", ""
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        frac, tail = digits, rest[len(digits):]
    else:
        for i, ch in enumerate(head[19:], start=19):
            if ch in "Z+-":
                head, tail = head[:i], head[i:]
                break
    stamp = datetime.fromisoformat(head + (tail.replace("Z", "+00:00") or "+00:00"))
    return int(stamp.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def instrument_symbol(symbol: str) -> str:
    """Our symbol for an Alpaca symbol (``BTC/USD`` -> ``BTCUSD``: ids have no slash)."""
    return symbol.replace("/", "")


def instrument_of(asset: RawAsset, venue: str) -> Instrument:
    crypto = asset.asset_class == "crypto"
    tick = exact(asset.price_increment or "0.01", Decimal("1e-9"), "price increment")
    lot = exact(asset.min_trade_increment or ("0.000000001" if crypto else "1"), Decimal("1e-9"), "trade increment")
    if tick <= 0 or lot <= 0:
        raise VenueError(f"Alpaca asset {asset.symbol}: price increment {tick} / trade increment {lot} must be > 0")
    base, _, quote = asset.symbol.partition("/")
    return Instrument(
        id=InstrumentId(instrument_symbol(asset.symbol), Venue(venue)),
        kind=InstrumentKind.SPOT,
        base=base,
        quote=quote or "USD",
        settle=quote or "USD",
        tick_size=tick.normalize() if tick != tick.to_integral_value() else tick,
        lot_size=lot.normalize() if lot != lot.to_integral_value() else Decimal(int(lot)),
        min_size=exact(asset.min_order_size or lot, Decimal("1e-9"), "min order size") if asset.min_order_size else lot,
        sessions=() if crypto else _EQUITY_SESSIONS,
    )


def _number(value: Decimal) -> str:
    return format(value, "f")


def order_body(order: Order, symbol: str, *, extended_hours: bool = False) -> dict[str, Any]:
    """POST /v2/orders for one of our orders (quantities and prices as exact strings)."""
    if order.post_only:
        raise VenueError("Alpaca has no post-only orders")
    kind = _TYPES.get(order.order_type)
    if kind is None:
        raise VenueError(f"{order.order_type} orders are not supported on Alpaca by this adapter")
    tif = _TIF.get(order.time_in_force)
    if tif is None:
        raise VenueError(f"time in force {order.time_in_force} is not offered by Alpaca")
    body: dict[str, Any] = {
        "symbol": symbol,
        "qty": _number(order.quantity),
        "side": "buy" if order.side is OrderSide.BUY else "sell",
        "type": kind,
        "time_in_force": tif,
        "client_order_id": str(order.client_order_id),
        "extended_hours": extended_hours,
    }
    if order.price is not None:
        body["limit_price"] = _number(order.price)
    if order.trigger_price is not None:
        body["stop_price"] = _number(order.trigger_price)
    return body


def bracket_body(entry: Order, stop: Order, target: Order | None, symbol: str) -> dict[str, Any]:
    """One POST for an entry with its exits (`order_class` bracket; oto with a stop only)."""
    body = order_body(entry, symbol)
    if entry.time_in_force is TimeInForce.GTC:
        body["time_in_force"] = "gtc"
    assert stop.trigger_price is not None
    body["stop_loss"] = {"stop_price": _number(stop.trigger_price)}
    if stop.price is not None:
        body["stop_loss"]["limit_price"] = _number(stop.price)
    if target is not None:
        assert target.price is not None
        body["take_profit"] = {"limit_price": _number(target.price)}
        body["order_class"] = "bracket"
    else:
        body["order_class"] = "oto"
    return body


def venue_status(status: str, filled: Decimal, total: Decimal) -> VenueOrderStatus:
    if status == "filled" or (total > 0 and filled >= total):
        return VenueOrderStatus.FILLED
    if status in _OPEN:
        return VenueOrderStatus.OPEN
    if status == "rejected":
        return VenueOrderStatus.REJECTED if filled == 0 else VenueOrderStatus.CANCELED
    if status in ("expired", "done_for_day"):
        return VenueOrderStatus.EXPIRED
    return VenueOrderStatus.CANCELED  # canceled, replaced (the replacement carries on)


def venue_order(raw: RawOrder, cid: ClientOrderId, inst: Instrument, ts_ns: int) -> VenueOrder:
    total = exact(raw.qty or 0, inst.lot_size, "order qty")
    filled = exact(raw.filled_qty or 0, inst.lot_size, "filled qty")
    price = exact(raw.limit_price, inst.tick_size, "limit price") if raw.limit_price not in (None, "") else None
    return VenueOrder(
        client_order_id=cid,
        venue_order_id=VenueOrderId(raw.id),
        instrument_id=inst.id,
        side=OrderSide.BUY if raw.side == "buy" else OrderSide.SELL,
        status=venue_status(raw.status, filled, total),
        quantity=total,
        filled_qty=filled,
        price=price,
        ts_ns=rfc3339_ns(raw.updated_at) if raw.updated_at else ts_ns,
    )


def fill_event(
    cid: ClientOrderId, venue_order_id: str, side: str, price: object, qty: object, trade_id: str, ts_event: int,
    inst: Instrument, ts_init: int,
) -> OrderFilled:
    """Our fill for one Alpaca execution (a trade update or a FILL activity); Alpaca charges no fee."""
    quantity = exact(qty, inst.lot_size, f"fill qty of execution {trade_id}")
    if quantity <= 0:
        raise VenueError(f"Alpaca execution {trade_id} has qty {quantity}")
    return OrderFilled(
        client_order_id=cid,
        instrument_id=inst.id,
        venue_order_id=VenueOrderId(venue_order_id),
        trade_id=TradeId(trade_id),
        side=OrderSide.BUY if side == "buy" else OrderSide.SELL,
        last_px=exact(price, inst.tick_size, f"fill price of execution {trade_id}"),
        last_qty=quantity,
        liquidity=LiquiditySide.TAKER,
        fee=Decimal(0),
        fee_currency=inst.settle,
        ts_event=ts_event,
        ts_init=ts_init,
    )


def activity_fill(activity: Activity, cid: ClientOrderId, inst: Instrument, ts_init: int) -> OrderFilled:
    """A FILL activity as our fill; its trade id is the execution id (the part after ``::`` of Alpaca's
    ``<time>::<execution id>``), the same as the trade update of that execution carried."""
    return fill_event(
        cid, activity.order_id, activity.side, activity.price, activity.qty, activity.id.rpartition("::")[2],
        rfc3339_ns(activity.transaction_time), inst, ts_init,
    )
