"""Gate v4 futures payloads -> tradewright's model. Pure functions, tested on recorded payloads.

Contract sizes are signed (a sell is negative); prices are Gate's exact strings.
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
from tradewright.venues.gate.schemas import GateAccount, GateContract, GateOrder, GatePosition, GateTrade

__all__ = [
    "GATE",
    "REST_BOOK",
    "account_snapshot",
    "book_frames",
    "fill_of",
    "instrument_from_contract",
    "order_view",
    "pushes",
    "quotes",
    "trades",
]

GATE = Venue("GATE")
MS = 1_000_000
REST_BOOK = "__rest_order_book__"  # marks a REST snapshot handed to the tap (see GateData)
T = TypeVar("T")


def decode(kind: type[T], payload: Any, what: str) -> T:
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise VenueError(f"gate: malformed {what}: {exc}: {str(payload)[:300]}") from None


def _ns(seconds: Decimal | None) -> int:
    return 0 if seconds is None else int(seconds * 1000) * MS


def instrument_from_contract(
    row: Mapping[str, Any], iid: InstrumentId, *, maker_fee: Decimal | None, taker_fee: Decimal | None
) -> Instrument:
    """A USDT perpetual: one lot is one contract of `quanto_multiplier` base units."""
    c = decode(GateContract, row, "contract")
    base, _, quote = c.name.partition("_")
    return Instrument(
        id=iid, kind=InstrumentKind.PERPETUAL, base=base, quote=quote, settle=quote,
        tick_size=c.order_price_round.normalize(), lot_size=Decimal(1), min_size=c.order_size_min,
        max_size=c.order_size_max, multiplier=c.quanto_multiplier.normalize(),
        maker_fee=c.maker_fee_rate if maker_fee is None else maker_fee,
        taker_fee=c.taker_fee_rate if taker_fee is None else taker_fee,
    )  # fmt: skip


# --- market data ------------------------------------------------------------------------------------
def _levels(levels: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(lv["p"]), str(lv["s"])) for lv in levels)


def book_frames(message: Any) -> list[BookFrame]:
    """Diffs of `futures.order_book_update` (``U``/``u``), and the REST snapshot handed to the tap."""
    if not isinstance(message, dict):
        return []
    if REST_BOOK in message:
        raw = message[REST_BOOK]
        try:
            return [BookFrame(str(message["market_id"]), True, _levels(raw["bids"]), _levels(raw["asks"]),
                              last_id=int(raw["id"]), ts_ms=int(Decimal(str(raw.get("update", 0))) * 1000), raw=str(raw)[:400])]  # fmt: skip
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise VenueError(f"gate: malformed order-book snapshot ({exc})") from None
    if message.get("channel") != "futures.order_book_update" or message.get("event") != "update":
        return []
    r = message.get("result") or {}
    try:
        return [BookFrame(str(r["s"]), False, _levels(r.get("b", ())), _levels(r.get("a", ())), first_id=int(r["U"]),
                          last_id=int(r["u"]), ts_ms=int(r.get("t", 0)), raw=str(message)[:400])]  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise VenueError(f"gate: malformed order-book diff ({exc}): {str(message)[:300]}") from None


def trades(message: Any) -> list[PublicTrade]:
    if (
        not isinstance(message, dict)
        or message.get("channel") != "futures.trades"
        or message.get("event") != "update"
    ):
        return []
    out = []
    for t in message.get("result") or ():
        size = Decimal(str(t["size"]))
        out.append(
            PublicTrade(
                str(t["contract"]),
                str(t["price"]),
                str(abs(size)),
                1 if size > 0 else -1,
                str(t["id"]),
                int(t.get("create_time_ms", 0)),
            )
        )
    return out


def quotes(message: Any) -> list[PublicQuote]:
    if (
        not isinstance(message, dict)
        or message.get("channel") != "futures.book_ticker"
        or message.get("event") != "update"
    ):
        return []
    r = message.get("result") or {}
    if not r.get("b") or not r.get("a"):
        return []
    return [
        PublicQuote(
            str(r["s"]),
            str(r["b"]),
            str(r["B"]),
            str(r["a"]),
            str(r["A"]),
            int(r.get("u", 0)),
            int(r.get("t", 0)),
        )
    ]


# --- orders and fills -------------------------------------------------------------------------------
def _status(o: GateOrder) -> VenueOrderStatus:
    if o.status == "open":
        return VenueOrderStatus.OPEN
    if o.finish_as == "filled" or (
        o.left == 0 and o.status == "finished" and o.finish_as in (None, "", "_new")
    ):
        return VenueOrderStatus.FILLED
    if o.finish_as in ("ioc", "poc", "stp"):
        return VenueOrderStatus.EXPIRED
    return VenueOrderStatus.CANCELED


def order_view(raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
    o = decode(GateOrder, raw, "order")
    size = abs(o.size)
    return VenueOrder(
        client_order_id=ClientOrderId(o.text), venue_order_id=VenueOrderId(str(o.id)), instrument_id=iid,
        side=OrderSide.BUY if o.size > 0 else OrderSide.SELL, status=_status(o), quantity=size,
        filled_qty=size - abs(o.left), price=o.price if o.price else None,
        ts_ns=_ns(o.finish_time or o.update_time or o.create_time),
    )  # fmt: skip


def fill_of(raw: Mapping[str, Any], iid: InstrumentId, settle: str, ts_init: int) -> OrderFilled:
    t = decode(GateTrade, raw, "trade")
    if t.size == 0:
        raise VenueError(f"gate: trade {t.id} has size 0")
    return OrderFilled(
        client_order_id=ClientOrderId(t.text), instrument_id=iid, venue_order_id=VenueOrderId(t.order_id),
        trade_id=TradeId(str(t.id)), side=OrderSide.BUY if t.size > 0 else OrderSide.SELL, last_px=t.price,
        last_qty=abs(t.size), liquidity=LiquiditySide.MAKER if t.role == "maker" else LiquiditySide.TAKER,
        fee=t.fee, fee_currency=settle, ts_event=_ns(t.create_time), ts_init=ts_init,
    )  # fmt: skip


def pushes(message: Any, markets: Mapping[str, InstrumentId], settle: str, ts_init: int) -> list[OrderView]:
    if not isinstance(message, dict) or message.get("event") != "update":
        return []
    channel = message.get("channel")
    if channel not in ("futures.orders", "futures.usertrades"):
        return []
    out = []
    for raw in message.get("result") or ():
        iid = markets.get(str(raw.get("contract", "")))
        if iid is None:
            continue
        if channel == "futures.orders":
            out.append(OrderView(order_view(raw, iid)))
        else:
            out.append(OrderView(None, fill_of(raw, iid, settle, ts_init)))
    return out


def account_snapshot(
    account: Mapping[str, Any], positions: list[Mapping[str, Any]], instruments: Mapping[str, Instrument]
) -> AccountSnapshot:
    """Cash (``total - size x entry x contract value`` of the open positions) and net positions."""
    a = decode(GateAccount, account, "account")
    out: dict[InstrumentId, VenuePosition] = {}
    cost = Decimal(0)
    as_of = 0
    for raw in positions:
        p = decode(GatePosition, raw, "position")
        inst = instruments.get(p.contract)
        if inst is None:
            continue
        out[inst.id] = VenuePosition(inst.id, p.size, p.entry_price)
        cost += p.size * p.entry_price * inst.multiplier
        as_of = max(as_of, p.update_time)
    return AccountSnapshot(
        as_of_ns=as_of * 1_000_000_000, positions=out, balances={a.currency: a.total - cost}
    )
