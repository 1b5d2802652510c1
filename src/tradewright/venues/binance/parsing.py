"""Pure translations between Binance USD-M payloads and tradewright's model. No I/O here.

Every function takes a decoded payload (a `schemas` record, or the raw mapping a client returned) and
gives back model objects with exact Decimals; a payload that does not fit raises `VenueError` naming
what was wrong, so one bad message is counted and skipped rather than trusted.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from tradewright.core.errors import GridError, VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus, VenuePosition
from tradewright.model.data import TradeTick
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from tradewright.model.instrument import Instrument, InstrumentKind, to_decimal
from tradewright.venues.binance.schemas import (
    MAX_MAGNITUDE,
    AccountInfo,
    Filter,
    OrderTradeUpdate,
    OrderUpdate,
    RestOrder,
    SymbolInfo,
    UserTrade,
)

__all__ = [
    "BINANCE",
    "BOOK_BAND_PCT",
    "ORDER_STATUS",
    "UpdateFacts",
    "account_snapshot",
    "book_levels",
    "book_update",
    "decode",
    "end_event",
    "excerpt",
    "fill_from_trade",
    "fill_from_update",
    "instrument_from_symbol",
    "instrument_id",
    "order_update",
    "trade_tick",
    "update_facts",
    "venue_order",
]

BINANCE = Venue("BINANCE")
MS = 1_000_000
_MAX_MS = (2**63 - 1) // MS
#: How far (in %) a level among the top of the book may sit from the mid before the update is refused.
BOOK_BAND_PCT = 10
T = TypeVar("T")

ORDER_STATUS: dict[str, VenueOrderStatus] = {
    "NEW": VenueOrderStatus.OPEN,
    "PARTIALLY_FILLED": VenueOrderStatus.OPEN,
    "FILLED": VenueOrderStatus.FILLED,
    "CANCELED": VenueOrderStatus.CANCELED,
    "EXPIRED": VenueOrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": VenueOrderStatus.EXPIRED,
    "REJECTED": VenueOrderStatus.REJECTED,
}


def excerpt(payload: Any, limit: int = 300) -> str:
    """The start of a payload's text for a log line or an error (never raises, whatever the payload)."""
    try:
        text = msgspec.json.encode(payload).decode() if isinstance(payload, dict | list) else repr(payload)
    except (TypeError, ValueError, RecursionError, OverflowError):
        try:
            text = repr(payload)
        except (RecursionError, ValueError):
            text = f"<{type(payload).__name__} that cannot be shown>"
    # a lone surrogate cannot be written to a UTF-8 log: show it escaped
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def decode(kind: type[T], payload: Any, what: str) -> T:
    """Decode a JSON-like payload into a schema record, or raise `VenueError` naming the problem."""
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise VenueError(f"binance: malformed {what}: {exc}: {excerpt(payload)}") from None
    except UnicodeError as exc:  # text that is not valid Unicode (a lone surrogate)
        raise VenueError(f"binance: malformed {what}: not text ({exc}): {excerpt(payload)}") from None
    except RecursionError:
        raise VenueError(f"binance: malformed {what}: nested too deeply: {excerpt(payload)}") from None


def instrument_id(symbol: str) -> InstrumentId:
    """`BTCUSDT` (USD-M perpetual) -> `BTCUSDT-PERP.BINANCE`, as the data loaders name it."""
    return InstrumentId(f"{symbol}-PERP", BINANCE)


def _side(text: str) -> OrderSide:
    if text == "BUY":
        return OrderSide.BUY
    if text == "SELL":
        return OrderSide.SELL
    raise VenueError(f"binance: unknown side {text!r}")


def _status(text: str) -> VenueOrderStatus:
    status = ORDER_STATUS.get(text)
    if status is None:
        raise VenueError(f"binance: unknown order status {text!r}")
    return status


# --- instruments ----------------------------------------------------------------------------------
def instrument_from_symbol(info: SymbolInfo, *, maker_fee: Decimal, taker_fee: Decimal) -> Instrument:
    """The instrument (grid, limits, fees) of a USD-M perpetual from its exchangeInfo entry."""
    if info.contractType != "PERPETUAL":
        raise VenueError(
            f"binance: {info.symbol} is a {info.contractType} contract; only perpetuals are supported"
        )
    by_type = {f.filterType: f for f in info.filters}
    price, lot = by_type.get("PRICE_FILTER"), by_type.get("LOT_SIZE")
    if price is None or price.tickSize is None or lot is None or lot.stepSize is None:
        raise VenueError(f"binance: {info.symbol} has no PRICE_FILTER tickSize or LOT_SIZE stepSize")
    notional = by_type.get("MIN_NOTIONAL")
    try:
        return _instrument(info, price.tickSize, lot, notional, maker_fee, taker_fee)
    except GridError as exc:  # a tick or lot of 0, say: the venue's rules make no grid
        raise VenueError(f"binance: {info.symbol} has unusable trading rules: {exc}") from None


def _instrument(
    info: SymbolInfo,
    tick: Decimal,
    lot: Filter,
    notional: Filter | None,
    maker_fee: Decimal,
    taker_fee: Decimal,
) -> Instrument:
    assert lot.stepSize is not None
    return Instrument(
        id=instrument_id(info.symbol),
        kind=InstrumentKind.PERPETUAL,
        base=info.baseAsset,
        quote=info.quoteAsset,
        settle=info.marginAsset,
        tick_size=tick.normalize(),
        lot_size=lot.stepSize.normalize(),
        min_size=(lot.minQty or Decimal(0)).normalize(),
        max_size=None if lot.maxQty is None else lot.maxQty.normalize(),
        min_notional=Decimal(0) if notional is None or notional.notional is None else notional.notional,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
    )


# --- orders and fills -----------------------------------------------------------------------------
def venue_order(order: RestOrder, iid: InstrumentId) -> VenueOrder:
    """An order as REST reported it."""
    return VenueOrder(
        client_order_id=ClientOrderId(order.clientOrderId),
        venue_order_id=VenueOrderId(str(order.orderId)),
        instrument_id=iid,
        side=_side(order.side),
        status=_status(order.status),
        quantity=order.origQty,
        filled_qty=order.executedQty,
        price=order.price if order.price else None,
        ts_ns=order.updateTime * MS,
    )


def fill_from_trade(
    trade: UserTrade, client_order_id: ClientOrderId, iid: InstrumentId, ts_init: int
) -> OrderFilled:
    """A fill from userTrades (which does not carry the client order id: the caller knows it)."""
    if trade.qty <= 0:
        raise VenueError(f"binance: trade {trade.id} has size {trade.qty}")
    return OrderFilled(
        client_order_id=client_order_id,
        instrument_id=iid,
        venue_order_id=VenueOrderId(str(trade.orderId)),
        trade_id=TradeId(str(trade.id)),
        side=_side(trade.side),
        last_px=trade.price,
        last_qty=trade.qty,
        liquidity=LiquiditySide.MAKER if trade.maker else LiquiditySide.TAKER,
        fee=trade.commission,
        fee_currency=trade.commissionAsset,
        ts_event=trade.time * MS,
        ts_init=ts_init,
    )


def order_update(payload: Mapping[str, Any]) -> OrderTradeUpdate:
    """Decode an ORDER_TRADE_UPDATE message of the user stream."""
    return decode(OrderTradeUpdate, payload, "ORDER_TRADE_UPDATE")


def fill_from_update(o: OrderUpdate, iid: InstrumentId, ts_init: int, settle: str) -> OrderFilled:
    """The fill an ORDER_TRADE_UPDATE with execution TRADE reports."""
    if o.last_qty <= 0 or o.trade_id <= 0:
        raise VenueError(f"binance: TRADE update of {o.client_order_id} without a size or trade id")
    return OrderFilled(
        client_order_id=ClientOrderId(o.client_order_id),
        instrument_id=iid,
        venue_order_id=VenueOrderId(str(o.order_id)),
        trade_id=TradeId(str(o.trade_id)),
        side=_side(o.side),
        last_px=o.last_px,
        last_qty=o.last_qty,
        liquidity=LiquiditySide.MAKER if o.maker else LiquiditySide.TAKER,
        fee=o.commission,
        fee_currency=o.commission_asset or settle,
        ts_event=o.trade_time * MS,
        ts_init=ts_init,
    )


class UpdateFacts(msgspec.Struct, frozen=True):
    """What one ORDER_TRADE_UPDATE says, as events: its fill, its ack, and its end (if it ended)."""

    client_order_id: ClientOrderId
    venue_order: VenueOrder
    ack: OrderAccepted | None
    fill: OrderFilled | None
    end: OrderEvent | None


def update_facts(update: OrderTradeUpdate, iid: InstrumentId, ts_init: int, settle: str) -> UpdateFacts:
    """Split an order update into the events it implies (the kernel drops repeats)."""
    o = update.order
    cid = ClientOrderId(o.client_order_id)
    ts_event = update.time * MS
    view = VenueOrder(
        client_order_id=cid,
        venue_order_id=VenueOrderId(str(o.order_id)),
        instrument_id=iid,
        side=_side(o.side),
        status=_status(o.status),
        quantity=o.quantity,
        filled_qty=o.filled_qty,
        price=o.price if o.price else None,
        ts_ns=ts_event,
    )
    ack = OrderAccepted(
        client_order_id=cid,
        instrument_id=iid,
        venue_order_id=view.venue_order_id,
        ts_event=ts_event,
        ts_init=ts_init,
    )
    fill = fill_from_update(o, iid, ts_init, settle) if o.execution == "TRADE" else None
    return UpdateFacts(cid, view, ack, fill, end_event(view, ts_init))


def end_event(view: VenueOrder, ts_init: int) -> OrderEvent | None:
    """The event that ends an order the venue reports as ended (a filled order ends by its fills)."""
    common = {
        "client_order_id": view.client_order_id,
        "instrument_id": view.instrument_id,
        "ts_event": view.ts_ns,
        "ts_init": ts_init,
    }
    if view.status is VenueOrderStatus.CANCELED:
        return OrderCanceled(reason="canceled at the venue", **common)  # type: ignore[arg-type]
    if view.status is VenueOrderStatus.EXPIRED:
        return OrderExpired(**common)  # type: ignore[arg-type]
    if view.status is VenueOrderStatus.REJECTED:
        return OrderRejected(reason="rejected", message="rejected by the venue", **common)  # type: ignore[arg-type]
    return None


# --- account --------------------------------------------------------------------------------------
def account_snapshot(account: AccountInfo, instruments: Mapping[str, Instrument]) -> AccountSnapshot:
    """Positions (of the instruments, by Binance symbol) and cash from GET /fapi/v2/account.

    USD-M settles realised PnL into the wallet, while the portfolio books a fill's full notional as cash;
    the two agree through `cash = wallet - size x entry price` of the positions margined in that asset
    (exact up to the venue's rounding of the entry price). `as_of_ns` is the newest update shown.
    """
    as_of_ms = 0
    positions: dict[InstrumentId, VenuePosition] = {}
    cost: dict[str, Decimal] = {}
    for p in account.positions:
        as_of_ms = max(as_of_ms, p.updateTime)
        inst = instruments.get(p.symbol)
        if inst is None:
            continue
        if p.positionSide != "BOTH":
            raise VenueError(f"binance: {p.symbol} is in hedge mode ({p.positionSide}); use one-way mode")
        positions[inst.id] = VenuePosition(inst.id, p.positionAmt, p.entryPrice)
        cost[inst.settle] = cost.get(inst.settle, Decimal(0)) + p.positionAmt * p.entryPrice
    balances: dict[str, Decimal] = {}
    for a in account.assets:
        as_of_ms = max(as_of_ms, a.updateTime)
        balances[a.asset] = a.walletBalance - cost.get(a.asset, Decimal(0))
    return AccountSnapshot(as_of_ns=as_of_ms * MS, positions=positions, balances=balances)


# --- market data ----------------------------------------------------------------------------------
def book_levels(levels: Sequence[Sequence[Any]], instrument: Instrument, depth: int) -> list[tuple[int, int]]:
    """The first `depth` (price, size) levels of a CCXT book side as (ticks, lots).

    CCXT hands book levels over as floats. A float that came from Binance's decimal string converts
    back exactly through its shortest repr (`to_decimal`), and a price off the tick grid raises, so no
    rounded price reaches the book; a size is rounded down to whole lots (a level of less than one lot
    is dropped), as market data never becomes an order size. A price that is not finite, not > 0 or
    beyond the grid's range, and a size that is not finite or negative, raise `VenueError`.
    """
    if not isinstance(levels, list | tuple):
        raise VenueError(f"binance: a book side is not a list of levels: {excerpt(levels, 80)}")
    out: list[tuple[int, int]] = []
    for level in levels[:depth]:
        try:
            ticks = instrument.price_to_ticks(to_decimal(level[0], what="price"))
            size = to_decimal(level[1], what="size")
            if ticks <= 0 or size < 0 or size >= MAX_MAGNITUDE:
                raise GridError(f"price must be > 0 and size in 0..1e15, got {level[0]!r} x {level[1]!r}")
            lots = int(size / instrument.lot_size)
        except (GridError, IndexError, KeyError, TypeError, ArithmeticError) as exc:
            raise VenueError(f"binance: bad book level ({exc}): {excerpt(level, 80)}") from None
        if lots > 0:
            out.append((ticks, lots))
    return out


def book_update(
    book: Any, instrument: Instrument, depth: int, band_pct: int = BOOK_BAND_PCT
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The top `depth` levels a side of a CCXT order book, checked as a whole: (bids, asks).

    Beyond each level's own checks (`book_levels`): bids strictly fall and asks strictly rise, the best
    bid is below the best ask, and every level lies within `band_pct` % of the mid — the top levels of a
    real book sit within a fraction of a percent of it. Anything else raises `VenueError` naming the
    update (its update id and time) and what is wrong with it.
    """
    try:
        raw_bids, raw_asks = book["bids"], book["asks"]
        name = f"order book update u={book.get('nonce')} at {book.get('timestamp')}"
    except (KeyError, TypeError, AttributeError) as exc:
        raise VenueError(
            f"binance: an order book update without bids and asks: {excerpt(book)}: {exc!r}"
        ) from None
    bids = book_levels(raw_bids, instrument, depth)
    asks = book_levels(raw_asks, instrument, depth)
    for side, levels, falling in (("bids", bids, True), ("asks", asks, False)):
        for (a, _), (b, _) in itertools.pairwise(levels):
            if (b >= a) if falling else (b <= a):
                raise VenueError(f"binance: {name}: {side} are not in price order ({a} then {b} ticks)")
    if bids and asks:
        best_bid, best_ask = bids[0][0], asks[0][0]
        if best_bid >= best_ask:
            raise VenueError(
                f"binance: {name}: crossed book, best bid {instrument.ticks_to_price(best_bid)} >= "
                f"best ask {instrument.ticks_to_price(best_ask)}"
            )
        mid2 = best_bid + best_ask
        for side, levels in (("bid", bids), ("ask", asks)):
            for tick, _ in levels:
                if abs(2 * tick - mid2) * 100 > band_pct * mid2:
                    raise VenueError(
                        f"binance: {name}: {side} level {instrument.ticks_to_price(tick)} is more than "
                        f"{band_pct}% from the mid {instrument.ticks_to_price(mid2) / 2}"
                    )
    return bids, asks


def trade_tick(trade: Mapping[str, Any], instrument: Instrument, ts_init: int) -> TradeTick:
    """A public trade from CCXT's parsed form (the raw `info` keeps Binance's exact strings)."""
    try:
        info = trade.get("info") or {}
        price = to_decimal(info.get("p", trade.get("price")), what="price")
        size = to_decimal(info.get("q", trade.get("amount")), what="size")
        buyer_maker = info.get("m")
        ts_ms = int(str(info.get("T", trade.get("timestamp"))))
        trade_id = str(info.get("t", trade.get("id", "")))
        if not (0 < price < MAX_MAGNITUDE and 0 < size < MAX_MAGNITUDE and 0 <= ts_ms <= _MAX_MS):
            raise ValueError("price and size must be > 0 and below 1e15, the time within 64-bit ns")
        if buyer_maker is not None and not isinstance(buyer_maker, bool):
            raise ValueError(f"`m` must be true or false, got {excerpt(buyer_maker, 40)}")
    except (GridError, TypeError, ValueError, AttributeError, ArithmeticError, RecursionError) as exc:
        raise VenueError(f"binance: bad trade ({exc}): {excerpt(trade, 200)}") from None
    aggressor = None if buyer_maker is None else (OrderSide.SELL if buyer_maker else OrderSide.BUY)
    return TradeTick(
        instrument_id=instrument.id,
        price=price,
        size=size,
        aggressor=aggressor,
        trade_id=trade_id,
        ts_event=ts_ms * MS,
        ts_init=ts_init,
    )
