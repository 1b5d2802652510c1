"""Bybit v5 payloads -> tradewright's model. Pure functions, tested on recorded v5 payloads."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus, VenuePosition
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.venues._ccxt.books import BookFrame
from tradewright.venues._ccxt.family import OrderView, PublicTrade
from tradewright.venues.bybit.schemas import (
    BybitCoin,
    BybitExecution,
    BybitInstrument,
    BybitOrder,
    BybitPosition,
)

__all__ = [
    "BYBIT",
    "account_snapshot",
    "book_frames",
    "fill_of",
    "instrument_from_row",
    "order_view",
    "pushes",
    "trades",
]

BYBIT = Venue("BYBIT")
MS = 1_000_000
T = TypeVar("T")
STATUS = {
    "New": VenueOrderStatus.OPEN, "PartiallyFilled": VenueOrderStatus.OPEN, "Untriggered": VenueOrderStatus.OPEN,
    "Filled": VenueOrderStatus.FILLED, "Cancelled": VenueOrderStatus.CANCELED,
    "PartiallyFilledCanceled": VenueOrderStatus.CANCELED, "Deactivated": VenueOrderStatus.CANCELED,
    "Rejected": VenueOrderStatus.REJECTED,
}  # fmt: skip


def decode(kind: type[T], payload: Any, what: str) -> T:
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise VenueError(f"bybit: malformed {what}: {exc}: {str(payload)[:300]}") from None


def _side(text: str) -> OrderSide:
    if text == "Buy":
        return OrderSide.BUY
    if text == "Sell":
        return OrderSide.SELL
    raise VenueError(f"bybit: unknown side {text!r}")


def instrument_from_row(
    row: Mapping[str, Any], iid: InstrumentId, *, maker_fee: Decimal, taker_fee: Decimal
) -> Instrument:
    r = decode(BybitInstrument, row, "instrument")
    return Instrument(
        id=iid, kind=InstrumentKind.PERPETUAL, base=r.baseCoin, quote=r.quoteCoin, settle=r.settleCoin or r.quoteCoin,
        tick_size=r.priceFilter.tickSize.normalize(), lot_size=r.lotSizeFilter.qtyStep.normalize(),
        min_size=r.lotSizeFilter.minOrderQty, max_size=r.lotSizeFilter.maxOrderQty,
        min_notional=r.lotSizeFilter.minNotionalValue, maker_fee=maker_fee, taker_fee=taker_fee,
    )  # fmt: skip


def book_frames(message: Any) -> list[BookFrame]:
    """`orderbook.<N>.<symbol>` frames: a snapshot (or a delta with ``u`` = 1: Bybit restarted) resets;
    every other delta's ``u`` must be the previous one's + 1."""
    if not isinstance(message, dict) or not str(message.get("topic", "")).startswith("orderbook."):
        return []
    try:
        data = message["data"]
        u = int(data["u"])
        snapshot = message.get("type") == "snapshot" or u == 1
        return [BookFrame(
            market_id=str(data["s"]), snapshot=snapshot, bids=tuple((str(p), str(s)) for p, s in data.get("b", ())),
            asks=tuple((str(p), str(s)) for p, s in data.get("a", ())), seq=u, prev_seq=None if snapshot else u - 1,
            last_id=u, ts_ms=int(message.get("ts", 0)), raw=str(message)[:400],
        )]  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise VenueError(f"bybit: malformed order-book frame ({exc}): {str(message)[:300]}") from None


def trades(message: Any) -> list[PublicTrade]:
    if not isinstance(message, dict) or not str(message.get("topic", "")).startswith("publicTrade."):
        return []
    return [
        PublicTrade(
            str(t["s"]), str(t["p"]), str(t["v"]), 1 if t["S"] == "Buy" else -1, str(t["i"]), int(t["T"])
        )
        for t in message.get("data", ())
    ]


def order_view(raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
    o = decode(BybitOrder, raw, "order")
    status = STATUS.get(o.orderStatus)
    if status is None:
        raise VenueError(f"bybit: unknown order status {o.orderStatus!r}")
    price = Decimal(o.price) if o.price and o.orderType == "Limit" else None
    return VenueOrder(
        client_order_id=ClientOrderId(o.orderLinkId), venue_order_id=VenueOrderId(o.orderId), instrument_id=iid,
        side=_side(o.side), status=status, quantity=o.qty, filled_qty=o.cumExecQty, price=price, ts_ns=o.updatedTime * MS,
    )  # fmt: skip


def fill_of(raw: Mapping[str, Any], iid: InstrumentId, settle: str, ts_init: int) -> OrderFilled:
    e = decode(BybitExecution, raw, "execution")
    if e.execQty <= 0:
        raise VenueError(f"bybit: execution {e.execId} has size {e.execQty}")
    return OrderFilled(
        client_order_id=ClientOrderId(e.orderLinkId), instrument_id=iid, venue_order_id=VenueOrderId(e.orderId),
        trade_id=TradeId(e.execId), side=_side(e.side), last_px=e.execPrice, last_qty=e.execQty,
        liquidity=LiquiditySide.MAKER if e.isMaker else LiquiditySide.TAKER, fee=e.execFee, fee_currency=settle,
        ts_event=e.execTime * MS, ts_init=ts_init,
    )  # fmt: skip


def pushes(message: Any, markets: Mapping[str, InstrumentId], settle: str, ts_init: int) -> list[OrderView]:
    if not isinstance(message, dict):
        return []
    topic = message.get("topic")
    if topic not in ("order", "execution"):
        return []
    out = []
    for raw in message.get("data") or ():
        iid = markets.get(str(raw.get("symbol", "")))
        if iid is None:
            continue
        if topic == "order":
            out.append(OrderView(order_view(raw, iid)))
        elif raw.get("execType", "Trade") == "Trade":
            out.append(OrderView(None, fill_of(raw, iid, settle, ts_init)))
    return out


def account_snapshot(
    coins: list[Mapping[str, Any]], positions: list[Mapping[str, Any]], instruments: Mapping[str, Instrument]
) -> AccountSnapshot:
    """Cash (wallet balance less size x entry of the open positions) and net positions."""
    out: dict[InstrumentId, VenuePosition] = {}
    cost: dict[str, Decimal] = {}
    as_of = 0
    for raw in positions:
        p = decode(BybitPosition, raw, "position")
        inst = instruments.get(p.symbol)
        if inst is None or p.size == 0:
            continue
        qty = p.size if p.side == "Buy" else -p.size
        out[inst.id] = VenuePosition(inst.id, qty, p.avgPrice)
        cost[inst.settle] = cost.get(inst.settle, Decimal(0)) + qty * p.avgPrice * inst.multiplier
        as_of = max(as_of, p.updatedTime)
    balances = {}
    for raw in coins:
        c = decode(BybitCoin, raw, "wallet coin")
        balances[c.coin] = c.walletBalance - cost.get(c.coin, Decimal(0))
    return AccountSnapshot(as_of_ns=as_of * MS, positions=out, balances=balances)
