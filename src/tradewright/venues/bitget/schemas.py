"""Bitget v2 spot payloads as typed records (only the fields we read; names are Bitget's own)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["BitgetAsset", "BitgetFill", "BitgetOrder", "BitgetSymbol"]


class BitgetSymbol(msgspec.Struct, frozen=True):
    """A row of GET /api/v2/spot/public/symbols."""

    symbol: str
    baseCoin: str
    quoteCoin: str
    pricePrecision: int
    quantityPrecision: int
    minTradeAmount: Decimal = Decimal(0)
    makerFeeRate: Decimal = Decimal(0)
    takerFeeRate: Decimal = Decimal(0)
    minTradeUSDT: Decimal = Decimal(0)
    status: str = "online"


class BitgetOrder(msgspec.Struct, frozen=True):
    """A spot order (REST orderInfo / unfilled-orders rows, and the `orders` channel)."""

    orderId: str
    side: str
    status: str
    size: Decimal
    symbol: str = ""  # REST rows
    instId: str = ""  # the `orders` channel
    baseVolume: Decimal = Decimal(0)
    accBaseVolume: Decimal | None = None
    price: str = ""
    orderType: str = "limit"
    clientOid: str = ""
    uTime: int = 0
    tradeId: str = ""
    fillPrice: str = ""
    fillFee: str = ""
    fillFeeCoin: str = ""
    fillTime: str = ""
    tradeScope: str = ""


class _FeeDetail(msgspec.Struct, frozen=True):
    feeCoin: str
    totalFee: Decimal


class BitgetFill(msgspec.Struct, frozen=True):
    """A row of GET /api/v2/spot/trade/fills (and of the `fill` channel)."""

    orderId: str
    tradeId: str
    symbol: str
    side: str
    priceAvg: Decimal
    size: Decimal
    feeDetail: _FeeDetail
    tradeScope: str
    cTime: int


class BitgetAsset(msgspec.Struct, frozen=True):
    coin: str
    available: Decimal
    frozen: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)
    uTime: int = 0
