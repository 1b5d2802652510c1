"""Pure translations between IB's terms and ours: contracts to instruments, orders to IB's order fields,
order states and executions to our events. Tested on the payloads the local gateway sends.

Prices and sizes arrive from ib-async as floats parsed from IB's decimal text; `exact` recovers that
text (a float's shortest repr) and puts it on the instrument's grid, refusing anything off it.
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.venue_state import VenueOrder, VenueOrderStatus
from tradewright.model.calendar import ContractMonth, last_trading_ns
from tradewright.model.contracts import CONTRACTS
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument, InstrumentKind, TradingSession
from tradewright.model.orders import Order
from tradewright.venues._common.numbers import on_grid
from tradewright.venues.ib.schemas import IbBar, IbContract, IbExecution, IbOrderState

__all__ = [
    "DONE_STATES",
    "OPEN_STATES",
    "exact",
    "fill_event",
    "ib_bar",
    "ib_contract",
    "ib_execution",
    "ib_order_fields",
    "ib_order_state",
    "instrument_of",
    "sessions_of",
    "text",
    "venue_order",
    "venue_order_status",
]

_UNSET = sys.float_info.max
_NS = 1_000_000_000
OPEN_STATES = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted", "PendingCancel"})
DONE_STATES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
_TYPES = {
    OrderType.LIMIT: "LMT",
    OrderType.MARKET: "MKT",
    OrderType.STOP_MARKET: "STP",
    OrderType.STOP_LIMIT: "STP LMT",
}
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.GTD: "GTD"}
_STOCK_SESSIONS = (
    TradingSession(name="rth", tz="America/New_York", open="09:30", close="16:00"),
    TradingSession(name="extended", tz="America/New_York", open="04:00", close="20:00"),
)


def text(value: object) -> str:
    """IB's number as the decimal text it was sent as ("" when unset)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value == _UNSET or not math.isfinite(value):
            return ""
        return repr(value)
    return str(value)


def exact(value: object, step: Decimal, what: str) -> Decimal:
    """A price or size on its grid (`step`), exactly; `VenueError` naming it when it is not."""
    return on_grid(text(value), step, what, "IB")


# --- contracts and instruments -----------------------------------------------------------------
def ib_contract(details: Any) -> IbContract:
    """The facts of one `ContractDetails`."""
    c = details.contract
    return IbContract(
        con_id=int(c.conId),
        symbol=str(c.symbol),
        sec_type=str(c.secType),
        last_trade=str(c.lastTradeDateOrContractMonth or ""),
        multiplier=str(c.multiplier or ""),
        exchange=str(c.exchange or ""),
        primary_exchange=str(c.primaryExchange or ""),
        currency=str(c.currency or ""),
        local_symbol=str(c.localSymbol or ""),
        trading_class=str(c.tradingClass or ""),
        min_tick=text(details.minTick),
        long_name=str(details.longName or ""),
        time_zone=str(details.timeZoneId or ""),
        trading_hours=str(details.tradingHours or ""),
        liquid_hours=str(details.liquidHours or ""),
    )


def sessions_of(contract: IbContract) -> tuple[TradingSession, ...]:
    """The instrument's daily sessions: the contract table's for the futures it knows (Globex, then the
    regular session), otherwise the first session of IB's trading and liquid hours."""
    if contract.sec_type == "FUT" and contract.symbol in CONTRACTS:
        return CONTRACTS[contract.symbol].sessions
    if contract.sec_type == "STK":
        return _STOCK_SESSIONS
    out = []
    for name, hours in (("trading", contract.trading_hours), ("rth", contract.liquid_hours)):
        session = _first_session(name, hours, contract.time_zone)
        if session is not None:
            out.append(session)
    return tuple(out)


def _first_session(name: str, hours: str, zone: str) -> TradingSession | None:
    for part in hours.split(";"):
        start, dash, end = part.partition("-")
        if not dash or "CLOSED" in part:
            continue
        open_, close = start.partition(":")[2], end.partition(":")[2]
        if len(open_) == 4 and len(close) == 4:
            try:
                return TradingSession(name=name, tz=zone or "UTC", open=f"{open_[:2]}:{open_[2:]}", close=f"{close[:2]}:{close[2:]}")
            except ValueError:
                return None
    return None


def instrument_of(
    contract: IbContract, venue: str, *, maker_fee: Decimal = Decimal(0), taker_fee: Decimal = Decimal(0)
) -> Instrument:
    """Our instrument for a qualified contract: ``MNQH5.IB`` (futures by local symbol), ``AAPL.IB``."""
    try:
        tick = Decimal(contract.min_tick)
    except InvalidOperation:
        raise VenueError(f"IB contract {contract.local_symbol}: min tick {contract.min_tick!r} is not a number") from None
    if tick <= 0:
        raise VenueError(f"IB contract {contract.local_symbol}: min tick must be > 0, got {tick}")
    future = contract.sec_type == "FUT"
    symbol = (contract.local_symbol or contract.symbol).replace(" ", "")
    expiry: int | None = None
    if future and len(contract.last_trade) >= 8:
        expiry = _expiry_ns(contract)
    return Instrument(
        id=InstrumentId(symbol, Venue(venue)),
        kind=InstrumentKind.FUTURE if future else InstrumentKind.SPOT,
        base=contract.symbol,
        quote=contract.currency,
        settle=contract.currency,
        tick_size=tick,
        lot_size=Decimal(1),
        min_size=Decimal(1),
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        multiplier=Decimal(contract.multiplier) if contract.multiplier else Decimal(1),
        expiry_ns=expiry,
        sessions=sessions_of(contract),
    )


def _expiry_ns(contract: IbContract) -> int:
    day = date(int(contract.last_trade[:4]), int(contract.last_trade[4:6]), int(contract.last_trade[6:8]))
    try:
        return last_trading_ns(ContractMonth.parse(contract.local_symbol, near=day.year))
    except (ValueError, ConfigError):  # a root without expiry rules: the last trading date, midnight UTC
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * _NS


# --- orders out ----------------------------------------------------------------------------------
def ib_order_fields(order: Order) -> dict[str, Any]:
    """IB order attributes for one of our orders (our client order id travels as `orderRef`).

    Refuses, with `VenueError`, what IB cannot express: post-only orders.
    """
    if order.post_only:
        raise VenueError("IB has no post-only orders for these contracts")
    kind = _TYPES.get(order.order_type)
    if kind is None:
        raise VenueError(f"{order.order_type} orders are not supported on IB by this adapter")
    fields: dict[str, Any] = {
        "action": "BUY" if order.side is OrderSide.BUY else "SELL",
        "totalQuantity": float(order.quantity),
        "orderType": kind,
        "tif": _TIF[order.time_in_force],
        "orderRef": str(order.client_order_id),
    }
    if order.price is not None:
        fields["lmtPrice"] = float(order.price)
    if order.trigger_price is not None:
        fields["auxPrice"] = float(order.trigger_price)
    if order.time_in_force is TimeInForce.GTD and order.expire_ns is not None:
        stamp = datetime.fromtimestamp(order.expire_ns / _NS, UTC)
        fields["goodTillDate"] = stamp.strftime("%Y%m%d %H:%M:%S") + " UTC"
    if order.oca_group and order.parent_order_id is None:
        fields["ocaGroup"] = order.oca_group
        fields["ocaType"] = 2  # the rest reduced by each fill, with block (one-cancels-all by quantity)
    return fields


# --- state and fills in ------------------------------------------------------------------------
def ib_order_state(trade: Any) -> IbOrderState:
    o, st = trade.order, trade.orderStatus
    return IbOrderState(
        order_id=int(o.orderId),
        perm_id=int(o.permId or st.permId or 0),
        client_id=int(o.clientId),
        parent_id=int(o.parentId or 0),
        order_ref=str(o.orderRef or ""),
        con_id=int(trade.contract.conId or 0),
        action=str(o.action),
        total_quantity=text(o.totalQuantity),
        order_type=str(o.orderType),
        lmt_price=text(o.lmtPrice),
        status=str(st.status),
        filled=text(st.filled),
        remaining=text(st.remaining),
    )


def ib_execution(fill: Any) -> IbExecution:
    ex = fill.execution
    report = fill.commissionReport
    commission = None
    if report is not None and report.execId == ex.execId:
        commission = text(report.commission) or None
    when = ex.time if isinstance(ex.time, datetime) else fill.time
    return IbExecution(
        exec_id=str(ex.execId),
        order_id=int(ex.orderId),
        perm_id=int(ex.permId),
        client_id=int(ex.clientId),
        order_ref=str(ex.orderRef or ""),
        con_id=int(fill.contract.conId or 0),
        side=str(ex.side),
        shares=text(ex.shares),
        price=text(ex.price),
        cum_qty=text(ex.cumQty),
        ts_ns=int(when.timestamp() * _NS) if isinstance(when, datetime) else 0,
        last_liquidity=int(ex.lastLiquidity or 0),
        commission=commission,
        commission_currency=str(report.currency) if commission is not None else "",
    )


def ib_bar(bar: Any) -> IbBar:
    when = bar.date
    if isinstance(when, datetime):
        stamp = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    elif isinstance(when, date):
        stamp = datetime(when.year, when.month, when.day, tzinfo=UTC)
    else:
        raise VenueError(f"IB bar date {when!r} is not a date")
    return IbBar(
        ts_open_ns=int(stamp.timestamp()) * _NS,
        open=text(bar.open),
        high=text(bar.high),
        low=text(bar.low),
        close=text(bar.close),
        volume=text(bar.volume) or "0",
    )


def venue_order_status(status: str, filled: Decimal, total: Decimal) -> VenueOrderStatus:
    """IB's order status in our terms; an order IB made inactive without fills was refused."""
    if status == "Filled" or (total > 0 and filled >= total):
        return VenueOrderStatus.FILLED
    if status in ("Cancelled", "ApiCancelled"):
        return VenueOrderStatus.CANCELED
    if status == "Inactive":
        return VenueOrderStatus.REJECTED if filled == 0 else VenueOrderStatus.CANCELED
    return VenueOrderStatus.OPEN


def venue_order(state: IbOrderState, inst: Instrument, ts_ns: int) -> VenueOrder:
    total = exact(state.total_quantity, inst.lot_size, "order quantity")
    filled = exact(state.filled or "0", inst.lot_size, "filled quantity")
    price = exact(state.lmt_price, inst.tick_size, "limit price") if state.lmt_price else None
    return VenueOrder(
        client_order_id=ClientOrderId(state.order_ref),
        venue_order_id=VenueOrderId(str(state.perm_id)),
        instrument_id=inst.id,
        side=OrderSide.BUY if state.action == "BUY" else OrderSide.SELL,
        status=venue_order_status(state.status, filled, total),
        quantity=total,
        filled_qty=filled,
        price=price,
        ts_ns=ts_ns,
    )


def fill_event(
    ex: IbExecution, client_order_id: ClientOrderId, inst: Instrument, ts_init: int, *, fee_estimate: Decimal | None = None
) -> OrderFilled:
    """Our fill for one IB execution. The fee is IB's commission; without a report yet, `fee_estimate`."""
    price = exact(ex.price, inst.tick_size, f"fill price of execution {ex.exec_id}")
    qty = exact(ex.shares, inst.lot_size, f"fill size of execution {ex.exec_id}")
    if qty <= 0:
        raise VenueError(f"IB execution {ex.exec_id} has size {qty}")
    fee = Decimal(ex.commission) if ex.commission is not None else (fee_estimate or Decimal(0))
    return OrderFilled(
        client_order_id=client_order_id,
        instrument_id=inst.id,
        venue_order_id=VenueOrderId(str(ex.perm_id)),
        trade_id=TradeId(ex.exec_id),
        side=OrderSide.BUY if ex.side == "BOT" else OrderSide.SELL,
        last_px=price,
        last_qty=qty,
        liquidity=LiquiditySide.MAKER if ex.last_liquidity == 1 else LiquiditySide.TAKER,
        fee=fee,
        fee_currency=ex.commission_currency or inst.settle,
        ts_event=ex.ts_ns or ts_init,
        ts_init=ts_init,
    )
