"""Kraken payloads as typed records (only the fields we read; names are Kraken's own).

REST v0 writes decimals as strings; the WebSocket v2 `executions` channel writes JSON numbers, which
arrive as floats and are read through their shortest repr (exact for Kraken's decimals).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["KrakenExecution", "KrakenOrder", "KrakenPair", "KrakenTrade"]


class KrakenPair(msgspec.Struct, frozen=True):
    """A row of GET /0/public/AssetPairs."""

    altname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    ordermin: Decimal = Decimal(0)
    costmin: Decimal = Decimal(0)
    wsname: str = ""
    fees: list[list[Decimal]] = msgspec.field(default_factory=list)
    fees_maker: list[list[Decimal]] = msgspec.field(default_factory=list)


class _Descr(msgspec.Struct, frozen=True):
    pair: str
    type: str
    ordertype: str
    price: Decimal = Decimal(0)


class KrakenOrder(msgspec.Struct, frozen=True):
    """An OpenOrders/ClosedOrders/QueryOrders row (`txid` added from its key)."""

    txid: str
    status: str
    descr: _Descr
    vol: Decimal
    vol_exec: Decimal
    opentm: Decimal
    closetm: Decimal | None = None
    cl_ord_id: str | None = None


class KrakenTrade(msgspec.Struct, frozen=True):
    """A TradesHistory row (`txid` added from its key)."""

    txid: str
    ordertxid: str
    type: str
    price: Decimal
    vol: Decimal
    fee: Decimal
    time: Decimal
    maker: bool = False


class KrakenExecution(msgspec.Struct, frozen=True):
    """A row of the WebSocket v2 `executions` channel."""

    order_id: str
    exec_type: str
    order_status: str
    side: str
    timestamp: str
    symbol: str = ""
    cl_ord_id: str = ""
    order_qty: Decimal | None = None
    cum_qty: Decimal | None = None
    limit_price: Decimal | None = None
    exec_id: str = ""
    last_qty: Decimal | None = None
    last_price: Decimal | None = None
    liquidity_ind: str = ""
    fees: list[dict[str, object]] = msgspec.field(default_factory=list)
