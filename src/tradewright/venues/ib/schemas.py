"""What the adapter reads from IB, as typed records.

ib-async decodes the socket messages into its own mutable objects with float prices; the adapter copies
the facts it uses into these frozen records at once (`parsing.py`), numbers as the decimal text IB
sent (a float's shortest repr is the text it was parsed from), so everything downstream is exact and
typed.
"""

from __future__ import annotations

import msgspec

__all__ = ["IbBar", "IbContract", "IbExecution", "IbOrderState", "IbPosition"]


class IbContract(msgspec.Struct, frozen=True, kw_only=True):
    """A qualified contract (`ContractDetails`)."""

    con_id: int
    symbol: str
    sec_type: str
    last_trade: str  # YYYYMMDD (futures), "" (stocks)
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    min_tick: str
    long_name: str
    time_zone: str
    trading_hours: str
    liquid_hours: str


class IbOrderState(msgspec.Struct, frozen=True, kw_only=True):
    """An order as IB reports it (openOrder + orderStatus)."""

    order_id: int
    perm_id: int
    client_id: int
    parent_id: int
    order_ref: str
    con_id: int
    action: str  # BUY / SELL
    total_quantity: str
    order_type: str
    lmt_price: str  # "" when unset
    status: str
    filled: str
    remaining: str


class IbExecution(msgspec.Struct, frozen=True, kw_only=True):
    """One fill (execDetails), with its commission once the report has come."""

    exec_id: str
    order_id: int
    perm_id: int
    client_id: int
    order_ref: str
    con_id: int
    side: str  # BOT / SLD
    shares: str
    price: str
    cum_qty: str
    ts_ns: int
    last_liquidity: int  # 1 added (maker), 2 removed (taker), 3 routed out
    commission: str | None = None
    commission_currency: str = ""


class IbPosition(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    con_id: int
    quantity: str
    avg_cost: str  # price x multiplier for futures


class IbBar(msgspec.Struct, frozen=True, kw_only=True):
    """One bar of reqHistoricalData / its keepUpToDate updates, opening at `ts_open_ns`."""

    ts_open_ns: int
    open: str
    high: str
    low: str
    close: str
    volume: str
