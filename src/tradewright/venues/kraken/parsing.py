"""Kraken payloads -> tradewright's model. Pure functions, tested on recorded payloads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import VenueOrder, VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument, InstrumentKind, to_decimal
from tradewright.venues._ccxt.books import BookFrame
from tradewright.venues._ccxt.family import OrderView, PublicTrade
from tradewright.venues.kraken.schemas import KrakenExecution, KrakenOrder, KrakenPair, KrakenTrade

__all__ = ["KRAKEN", "book_frames", "fill_of", "instrument_from_pair", "order_view", "pushes", "trades"]

KRAKEN = Venue("KRAKEN")
MS = 1_000_000
T = TypeVar("T")
STATUS = {"pending": VenueOrderStatus.OPEN, "open": VenueOrderStatus.OPEN, "closed": VenueOrderStatus.FILLED,
          "canceled": VenueOrderStatus.CANCELED, "expired": VenueOrderStatus.EXPIRED}  # fmt: skip
V2_STATUS = {"pending_new": VenueOrderStatus.OPEN, "new": VenueOrderStatus.OPEN, "partially_filled": VenueOrderStatus.OPEN,
             "filled": VenueOrderStatus.FILLED, "canceled": VenueOrderStatus.CANCELED, "expired": VenueOrderStatus.EXPIRED}  # fmt: skip


def decode(kind: type[T], payload: Any, what: str) -> T:
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise VenueError(f"kraken: malformed {what}: {exc}: {str(payload)[:300]}") from None


def _side(text: str) -> OrderSide:
    if text == "buy":
        return OrderSide.BUY
    if text == "sell":
        return OrderSide.SELL
    raise VenueError(f"kraken: unknown side {text!r}")


def _iso_ns(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000) * 1000
    except ValueError:
        raise VenueError(f"kraken: bad timestamp {text!r}") from None


def instrument_from_pair(
    row: Mapping[str, Any], iid: InstrumentId, *, maker_fee: Decimal | None, taker_fee: Decimal | None
) -> Instrument:
    """A spot pair: tick = 10^-pair_decimals, lot = 10^-lot_decimals, fees from the first fee tier (percent)."""
    p = decode(KrakenPair, row, "asset pair")
    taker = p.fees[0][1] / 100 if p.fees else Decimal(0)
    maker = p.fees_maker[0][1] / 100 if p.fees_maker else taker
    base, _, quote = (p.wsname or f"{p.base}/{p.quote}").partition("/")
    return Instrument(
        id=iid, kind=InstrumentKind.SPOT, base=base, quote=quote, settle=quote,
        tick_size=Decimal(1).scaleb(-p.pair_decimals), lot_size=Decimal(1).scaleb(-p.lot_decimals), min_size=p.ordermin,
        min_notional=p.costmin, maker_fee=maker if maker_fee is None else maker_fee, taker_fee=taker if taker_fee is None else taker_fee,
    )  # fmt: skip


def _levels(levels: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(to_decimal(lv["price"])), str(to_decimal(lv["qty"]))) for lv in levels)


def book_frames(message: Any) -> list[BookFrame]:
    """WebSocket v2 `book` frames. Levels are JSON numbers here; the verified book writes them at the
    pair's precision, as Kraken's checksum does."""
    if (
        not isinstance(message, dict)
        or message.get("channel") != "book"
        or message.get("type") not in ("snapshot", "update")
    ):
        return []
    out = []
    try:
        for data in message.get("data", ()):
            out.append(BookFrame(
                market_id=str(data["symbol"]), snapshot=message["type"] == "snapshot", bids=_levels(data.get("bids", ())),
                asks=_levels(data.get("asks", ())), checksum=None if data.get("checksum") is None else int(data["checksum"]),
                ts_ms=_iso_ns(str(data["timestamp"])) // MS if data.get("timestamp") else 0, raw=str(message)[:400],
            ))  # fmt: skip
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise VenueError(f"kraken: malformed book frame ({exc}): {str(message)[:300]}") from None
    return out


def trades(message: Any) -> list[PublicTrade]:
    if not isinstance(message, dict) or message.get("channel") != "trade" or message.get("type") != "update":
        return []
    return [
        PublicTrade(
            str(t["symbol"]),
            str(to_decimal(t["price"])),
            str(to_decimal(t["qty"])),
            1 if t["side"] == "buy" else -1,
            str(t["trade_id"]),
            _iso_ns(str(t["timestamp"])) // MS,
        )
        for t in message.get("data", ())
    ]


def order_view(raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
    """A REST order row (with its `txid`)."""
    o = decode(KrakenOrder, raw, "order")
    status = STATUS.get(o.status)
    if status is None:
        raise VenueError(f"kraken: unknown order status {o.status!r}")
    if status is VenueOrderStatus.FILLED and o.vol_exec < o.vol:
        status = VenueOrderStatus.CANCELED
    return VenueOrder(
        client_order_id=ClientOrderId(o.cl_ord_id or ""), venue_order_id=VenueOrderId(o.txid), instrument_id=iid,
        side=_side(o.descr.type), status=status, quantity=o.vol, filled_qty=o.vol_exec,
        price=o.descr.price if o.descr.ordertype == "limit" else None, ts_ns=int((o.closetm or o.opentm) * 1000) * MS,
    )  # fmt: skip


def fill_of(raw: Mapping[str, Any], iid: InstrumentId, fee_ccy: str, ts_init: int) -> OrderFilled:
    """A TradesHistory row (with its `txid`)."""
    t = decode(KrakenTrade, raw, "trade")
    if t.vol <= 0:
        raise VenueError(f"kraken: trade {t.txid} has size {t.vol}")
    return OrderFilled(
        client_order_id=ClientOrderId(""), instrument_id=iid, venue_order_id=VenueOrderId(t.ordertxid), trade_id=TradeId(t.txid),
        side=_side(t.type), last_px=t.price, last_qty=t.vol, liquidity=LiquiditySide.MAKER if t.maker else LiquiditySide.TAKER,
        fee=t.fee, fee_currency=fee_ccy, ts_event=int(t.time * 1000) * MS, ts_init=ts_init,
    )  # fmt: skip


def _execution(raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderView:
    e = decode(KrakenExecution, raw, "execution")
    status = V2_STATUS.get(e.order_status)
    if status is None:
        raise VenueError(f"kraken: unknown order status {e.order_status!r}")
    order = None
    if e.order_qty is not None:
        order = VenueOrder(
            client_order_id=ClientOrderId(e.cl_ord_id), venue_order_id=VenueOrderId(e.order_id), instrument_id=iid,
            side=_side(e.side), status=status, quantity=e.order_qty, filled_qty=e.cum_qty or Decimal(0),
            price=e.limit_price, ts_ns=_iso_ns(e.timestamp),
        )  # fmt: skip
    fill = None
    if e.exec_type == "trade" and e.last_qty is not None and e.last_price is not None:
        fee, fee_ccy = Decimal(0), ""
        if e.fees:
            fee, fee_ccy = to_decimal(e.fees[0].get("qty", 0)), str(e.fees[0].get("asset", ""))
        fill = OrderFilled(
            client_order_id=ClientOrderId(e.cl_ord_id), instrument_id=iid, venue_order_id=VenueOrderId(e.order_id),
            trade_id=TradeId(e.exec_id), side=_side(e.side), last_px=e.last_price, last_qty=e.last_qty,
            liquidity=LiquiditySide.MAKER if e.liquidity_ind == "m" else LiquiditySide.TAKER, fee=fee, fee_currency=fee_ccy,
            ts_event=_iso_ns(e.timestamp), ts_init=ts_init,
        )  # fmt: skip
    return OrderView(order, fill)


def pushes(message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
    """Order updates and fills of the WebSocket v2 `executions` channel."""
    if not isinstance(message, dict) or message.get("channel") != "executions":
        return []
    out = []
    for raw in message.get("data") or ():
        iid = markets.get(str(raw.get("symbol", "")))
        if iid is not None:
            out.append(_execution(raw, iid, ts_init))
    return out
