"""OKX v5 payloads -> tradewright's model. Pure functions, tested on recorded payloads.

Prices and sizes keep OKX's exact strings (CCXT's floats are never used): a book level, a fill, an order
size all come from the raw message.
"""

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
from tradewright.venues._ccxt.family import OrderView, PublicQuote, PublicTrade
from tradewright.venues.okx.schemas import OkxBalance, OkxFill, OkxInstrument, OkxOrder, OkxPosition

__all__ = [
    "OKX",
    "account_snapshot",
    "book_frames",
    "decode",
    "fill_from_push",
    "fill_from_row",
    "instrument_from_row",
    "order_view",
    "pushes",
    "quotes",
    "trades",
]

OKX = Venue("OKX")
MS = 1_000_000
T = TypeVar("T")

STATE: dict[str, VenueOrderStatus] = {
    "live": VenueOrderStatus.OPEN,
    "partially_filled": VenueOrderStatus.OPEN,
    "filled": VenueOrderStatus.FILLED,
    "canceled": VenueOrderStatus.CANCELED,
    "mmp_canceled": VenueOrderStatus.CANCELED,
}


def decode(kind: type[T], payload: Any, what: str) -> T:
    """Decode a JSON-like payload into a schema record, or raise `VenueError` naming the problem."""
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise VenueError(f"okx: malformed {what}: {exc}: {str(payload)[:300]}") from None


def _side(text: str) -> OrderSide:
    if text == "buy":
        return OrderSide.BUY
    if text == "sell":
        return OrderSide.SELL
    raise VenueError(f"okx: unknown side {text!r}")


# --- instruments ------------------------------------------------------------------------------------
def instrument_from_row(
    row: Mapping[str, Any], iid: InstrumentId, *, maker_fee: Decimal, taker_fee: Decimal
) -> Instrument:
    """The instrument (grid, minimum size, contract value, fees) of an OKX instrument row."""
    r = decode(OkxInstrument, row, "instrument")
    if r.instType == "SPOT":
        return Instrument(
            id=iid, kind=InstrumentKind.SPOT, base=r.baseCcy, quote=r.quoteCcy, settle=r.quoteCcy,
            tick_size=r.tickSz.normalize(), lot_size=r.lotSz.normalize(), min_size=r.minSz.normalize(),
            maker_fee=maker_fee, taker_fee=taker_fee,
        )  # fmt: skip
    base, _, quote = (r.uly or r.instId).partition("-")
    mult = Decimal(r.ctVal or "1") * Decimal(r.ctMult or "1")
    return Instrument(
        id=iid, kind=InstrumentKind.PERPETUAL if r.instType == "SWAP" else InstrumentKind.FUTURE, base=base, quote=quote,
        settle=r.settleCcy or quote, tick_size=r.tickSz.normalize(), lot_size=r.lotSz.normalize(),
        min_size=r.minSz.normalize(), maker_fee=maker_fee, taker_fee=taker_fee, multiplier=mult.normalize(),
        inverse=r.ctType == "inverse", expiry_ns=int(r.expTime) * MS if r.expTime else None,
    )  # fmt: skip


# --- market data ------------------------------------------------------------------------------------
def _levels(levels: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(lv[0]), str(lv[1])) for lv in levels)


def book_frames(message: Any) -> list[BookFrame]:
    """The `books` frames in a raw public message (snapshot or update, with checksum and, when OKX sends
    them, seqId/prevSeqId)."""
    if not isinstance(message, dict):
        return []
    arg = message.get("arg")
    if not isinstance(arg, dict) or arg.get("channel") != "books" or "data" not in message:
        return []
    snapshot = message.get("action") == "snapshot"
    out = []
    for data in message["data"]:
        try:
            seq, prev = data.get("seqId"), data.get("prevSeqId")
            out.append(BookFrame(
                market_id=str(arg["instId"]), snapshot=snapshot, bids=_levels(data.get("bids", ())),
                asks=_levels(data.get("asks", ())), checksum=None if data.get("checksum") is None else int(data["checksum"]),
                seq=None if seq is None else int(seq), prev_seq=None if prev is None or int(prev) == -1 else int(prev),
                ts_ms=int(data.get("ts") or 0), raw=str(message)[:400],
            ))  # fmt: skip
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise VenueError(f"okx: malformed books frame ({exc}): {str(message)[:300]}") from None
    return out


def trades(message: Any) -> list[PublicTrade]:
    if not isinstance(message, dict) or not isinstance(message.get("arg"), dict):
        return []
    if message["arg"].get("channel") != "trades":
        return []
    return [
        PublicTrade(
            str(t["instId"]),
            str(t["px"]),
            str(t["sz"]),
            1 if t["side"] == "buy" else -1,
            str(t["tradeId"]),
            int(t["ts"]),
        )
        for t in message.get("data", ())
    ]


def quotes(message: Any) -> list[PublicQuote]:
    if not isinstance(message, dict) or not isinstance(message.get("arg"), dict):
        return []
    if message["arg"].get("channel") != "tickers":
        return []
    return [
        PublicQuote(
            str(t["instId"]),
            str(t["bidPx"]),
            str(t["bidSz"]),
            str(t["askPx"]),
            str(t["askSz"]),
            int(t["ts"]),
            int(t["ts"]),
        )
        for t in message.get("data", ())
        if t.get("bidPx") and t.get("askPx")
    ]


# --- orders and fills -------------------------------------------------------------------------------
def order_view(raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
    """An order as REST or the `orders` channel report it (the client order id is OKX's clOrdId)."""
    o = decode(OkxOrder, raw, "order")
    status = STATE.get(o.state)
    if status is None:
        raise VenueError(f"okx: unknown order state {o.state!r}")
    return VenueOrder(
        client_order_id=ClientOrderId(o.clOrdId), venue_order_id=VenueOrderId(o.ordId), instrument_id=iid,
        side=_side(o.side), status=status, quantity=o.sz, filled_qty=o.accFillSz,
        price=Decimal(o.px) if o.px and o.ordType != "market" else None, ts_ns=o.uTime * MS,
    )  # fmt: skip


def fill_from_push(raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled | None:
    """The fill an `orders` push reports (None when the push is not about a fill)."""
    o = decode(OkxOrder, raw, "order")
    if not o.tradeId or not o.fillSz or Decimal(o.fillSz) <= 0:
        return None
    return OrderFilled(
        client_order_id=ClientOrderId(o.clOrdId), instrument_id=iid, venue_order_id=VenueOrderId(o.ordId),
        trade_id=TradeId(o.tradeId), side=_side(o.side), last_px=Decimal(o.fillPx), last_qty=Decimal(o.fillSz),
        liquidity=LiquiditySide.MAKER if o.execType == "M" else LiquiditySide.TAKER,
        fee=_fill_fee(raw), fee_currency=o.feeCcy, ts_event=int(o.fillTime or o.uTime) * MS, ts_init=ts_init,
    )  # fmt: skip


def _fill_fee(raw: Mapping[str, Any]) -> Decimal:
    """OKX's push carries `fillFee` for this fill where it sends it (negative = charged; ours: positive)."""
    value = raw.get("fillFee")
    return -Decimal(str(value)) if value not in (None, "") else Decimal(0)


def fill_from_row(raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
    """A fill from GET /api/v5/trade/fills (OKX writes the fee charged as a negative number)."""
    f = decode(OkxFill, raw, "fill")
    if f.fillSz <= 0:
        raise VenueError(f"okx: fill {f.tradeId} has size {f.fillSz}")
    return OrderFilled(
        client_order_id=ClientOrderId(f.clOrdId), instrument_id=iid, venue_order_id=VenueOrderId(f.ordId),
        trade_id=TradeId(f.tradeId), side=_side(f.side), last_px=f.fillPx, last_qty=f.fillSz,
        liquidity=LiquiditySide.MAKER if f.execType == "M" else LiquiditySide.TAKER, fee=-f.fee,
        fee_currency=f.feeCcy, ts_event=f.ts * MS, ts_init=ts_init,
    )  # fmt: skip


def pushes(message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
    """Order updates of an `orders` channel message, for the markets we trade."""
    if not isinstance(message, dict) or not isinstance(message.get("arg"), dict):
        return []
    if message["arg"].get("channel") != "orders" or "data" not in message:
        return []
    out = []
    for raw in message["data"]:
        iid = markets.get(str(raw.get("instId", "")))
        if iid is None:
            continue
        out.append(OrderView(order_view(raw, iid), fill_from_push(raw, iid, ts_init)))
    return out


# --- account ----------------------------------------------------------------------------------------
def account_snapshot(
    balance: Mapping[str, Any], positions: list[Mapping[str, Any]], instruments: Mapping[str, Instrument]
) -> AccountSnapshot:
    """Balances (cash per currency) and net positions of the instruments (by OKX id).

    For contracts the portfolio books each fill's full price x size as cash, while OKX keeps the cash
    balance with PnL settled; they agree through ``cash = balance - size x entry x contract value``.
    """
    b = decode(OkxBalance, balance, "balance")
    as_of = b.uTime
    out_positions: dict[InstrumentId, VenuePosition] = {}
    cost: dict[str, Decimal] = {}
    for raw in positions:
        p = decode(OkxPosition, raw, "position")
        inst = instruments.get(p.instId)
        if inst is None or inst.kind is InstrumentKind.SPOT:
            continue
        entry = Decimal(p.avgPx) if p.avgPx else Decimal(0)
        out_positions[inst.id] = VenuePosition(inst.id, p.pos, entry)
        cost[inst.settle] = cost.get(inst.settle, Decimal(0)) + p.pos * entry * inst.multiplier
        as_of = max(as_of, p.uTime)
    balances = {d.ccy: d.cashBal - cost.get(d.ccy, Decimal(0)) for d in b.details}
    for d in b.details:
        as_of = max(as_of, d.uTime)
    return AccountSnapshot(as_of_ns=as_of * MS, positions=out_positions, balances=balances)
