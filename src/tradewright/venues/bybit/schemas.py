"""Bybit v5 payloads as typed records (only the fields we read; names are Bybit's own)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["BybitCoin", "BybitExecution", "BybitInstrument", "BybitOrder", "BybitPosition"]


class _Price(msgspec.Struct, frozen=True):
    tickSize: Decimal


class _Lot(msgspec.Struct, frozen=True):
    qtyStep: Decimal
    minOrderQty: Decimal
    maxOrderQty: Decimal | None = None
    minNotionalValue: Decimal = Decimal(0)


class BybitInstrument(msgspec.Struct, frozen=True):
    """A row of GET /v5/market/instruments-info (linear)."""

    symbol: str
    baseCoin: str
    quoteCoin: str
    priceFilter: _Price
    lotSizeFilter: _Lot
    status: str = "Trading"
    settleCoin: str = ""


class BybitOrder(msgspec.Struct, frozen=True):
    """An order (GET /v5/order/realtime|history rows and the `order` topic)."""

    orderId: str
    orderLinkId: str
    symbol: str
    side: str
    orderStatus: str
    qty: Decimal
    cumExecQty: Decimal
    updatedTime: int
    price: str = ""
    orderType: str = "Limit"


class BybitExecution(msgspec.Struct, frozen=True):
    """A fill (the `execution` topic and GET /v5/execution/list rows)."""

    execId: str
    orderId: str
    symbol: str
    side: str
    execPrice: Decimal
    execQty: Decimal
    execFee: Decimal
    isMaker: bool
    execTime: int
    orderLinkId: str = ""
    execType: str = "Trade"


class BybitCoin(msgspec.Struct, frozen=True):
    coin: str
    walletBalance: Decimal


class BybitPosition(msgspec.Struct, frozen=True):
    symbol: str
    side: str
    size: Decimal
    avgPrice: Decimal
    updatedTime: int = 0
