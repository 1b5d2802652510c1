"""Bitget v2 spot payloads -> tradewright's model. Pure functions, tested on recorded payloads."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.venues._ccxt.books import BookFrame
from tradewright.venues._ccxt.family import OrderView, PublicTrade
from tradewright.venues.bitget.schemas import BitgetAsset, BitgetFill, BitgetOrder, BitgetSymbol

__all__ = [
    "BITGET",
    "account_snapshot",
    "book_frames",
    "fill_of",
    "instrument_from_symbol",
    "order_view",
    "pushes",
    "trades",
]

BITGET = Venue("BITGET")
MS = 1_000_000
T = TypeVar("T")
STATUS = {"live": VenueOrderStatus.OPEN, "new": VenueOrderStatus.OPEN, "partially_filled": VenueOrderStatus.OPEN,
          "filled": VenueOrderStatus.FILLED, "cancelled": VenueOrderStatus.CANCELED, "canceled": VenueOrderStatus.CANCELED}  # fmt: skip


def decode(kind: type[T], payload: Any, what: str) -> T:
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise VenueError(f"bitget: malformed {what}: {exc}: {str(payload)[:300]}") from None


def _side(text: str) -> OrderSide:
    if text == "buy":
        return OrderSide.BUY
    if text == "sell":
        return OrderSide.SELL
    raise VenueError(f"bitget: unknown side {text!r}")


def instrument_from_symbol(
    row: Mapping[str, Any], iid: InstrumentId, *, maker_fee: Decimal | None, taker_fee: Decimal | None
) -> Instrument:
    s = decode(BitgetSymbol, row, "symbol")
    return Instrument(
        id=iid, kind=InstrumentKind.SPOT, base=s.baseCoin, quote=s.quoteCoin, settle=s.quoteCoin,
        tick_size=Decimal(1).scaleb(-s.pricePrecision), lot_size=Decimal(1).scaleb(-s.quantityPrecision),
        min_size=s.minTradeAmount, min_notional=s.minTradeUSDT,
        maker_fee=s.makerFeeRate if maker_fee is None else maker_fee, taker_fee=s.takerFeeRate if taker_fee is None else taker_fee,
    )  # fmt: skip


def book_frames(message: Any) -> list[BookFrame]:
    """`books` frames (full depth, CRC32 of the top 25, the same rule as OKX)."""
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("arg"), dict)
        or message["arg"].get("channel") != "books"
    ):
        return []
    snapshot = message.get("action") == "snapshot"
    out = []
    try:
        for data in message.get("data", ()):
            seq = data.get("seq")
            out.append(BookFrame(
                market_id=str(message["arg"]["instId"]), snapshot=snapshot,
                bids=tuple((str(p), str(s)) for p, s, *_ in data.get("bids", ())),
                asks=tuple((str(p), str(s)) for p, s, *_ in data.get("asks", ())),
                checksum=None if data.get("checksum") is None else int(data["checksum"]),
                seq=None if seq is None else int(seq), ts_ms=int(data.get("ts") or 0), raw=str(message)[:400],
            ))  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise VenueError(f"bitget: malformed books frame ({exc}): {str(message)[:300]}") from None
    return out


def trades(message: Any) -> list[PublicTrade]:
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("arg"), dict)
        or message["arg"].get("channel") != "trade"
    ):
        return []
    if message.get("action") != "update":
        return []  # the snapshot is history from before the subscription
    inst = str(message["arg"]["instId"])
    return [
        PublicTrade(
            inst,
            str(t["price"]),
            str(t["size"]),
            1 if t["side"] == "buy" else -1,
            str(t["tradeId"]),
            int(t["ts"]),
        )
        for t in message.get("data", ())
    ]


def order_view(raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
    o = decode(BitgetOrder, raw, "order")
    status = STATUS.get(o.status)
    if status is None:
        raise VenueError(f"bitget: unknown order status {o.status!r}")
    filled = o.accBaseVolume if o.accBaseVolume is not None else o.baseVolume
    return VenueOrder(
        client_order_id=ClientOrderId(o.clientOid), venue_order_id=VenueOrderId(o.orderId), instrument_id=iid,
        side=_side(o.side), status=status, quantity=o.size, filled_qty=filled,
        price=Decimal(o.price) if o.price and o.orderType == "limit" else None, ts_ns=o.uTime * MS,
    )  # fmt: skip


def fill_from_push(raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled | None:
    """The fill an `orders` push reports (None when it is not about a fill)."""
    o = decode(BitgetOrder, raw, "order")
    if not o.tradeId or not o.fillPrice:
        return None
    return OrderFilled(
        client_order_id=ClientOrderId(o.clientOid), instrument_id=iid, venue_order_id=VenueOrderId(o.orderId),
        trade_id=TradeId(o.tradeId), side=_side(o.side), last_px=Decimal(o.fillPrice), last_qty=o.baseVolume,
        liquidity=LiquiditySide.MAKER if o.tradeScope == "maker" else LiquiditySide.TAKER,
        fee=-Decimal(o.fillFee or "0"), fee_currency=o.fillFeeCoin, ts_event=int(o.fillTime or o.uTime) * MS, ts_init=ts_init,
    )  # fmt: skip


def fill_of(raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
    """A fill from GET /api/v2/spot/trade/fills (Bitget writes the fee charged as a negative number)."""
    f = decode(BitgetFill, raw, "fill")
    if f.size <= 0:
        raise VenueError(f"bitget: fill {f.tradeId} has size {f.size}")
    return OrderFilled(
        client_order_id=ClientOrderId(""), instrument_id=iid, venue_order_id=VenueOrderId(f.orderId),
        trade_id=TradeId(f.tradeId), side=_side(f.side), last_px=f.priceAvg, last_qty=f.size,
        liquidity=LiquiditySide.MAKER if f.tradeScope == "maker" else LiquiditySide.TAKER,
        fee=-f.feeDetail.totalFee, fee_currency=f.feeDetail.feeCoin, ts_event=f.cTime * MS, ts_init=ts_init,
    )  # fmt: skip


def pushes(message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
    """Order updates (with the fill that caused each) of the `orders` channel."""
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("arg"), dict)
        or message["arg"].get("channel") != "orders"
    ):
        return []
    out = []
    for raw in message.get("data") or ():
        iid = markets.get(str(raw.get("instId") or raw.get("symbol") or ""))
        if iid is not None:
            out.append(OrderView(order_view(raw, iid), fill_from_push(raw, iid, ts_init)))
    return out


def account_snapshot(assets: list[Mapping[str, Any]]) -> AccountSnapshot:
    """Spot cash: every coin's available + frozen + locked."""
    balances: dict[str, Decimal] = {}
    as_of = 0
    for raw in assets:
        a = decode(BitgetAsset, raw, "asset")
        balances[a.coin] = a.available + a.frozen + a.locked
        as_of = max(as_of, a.uTime)
    return AccountSnapshot(as_of_ns=as_of * MS, balances=balances)
