"""Binance USD-M payloads as typed records (only the fields we use; the venue sends more).

Prices, sizes and money stay exact: Binance writes them as strings, and these records decode them
into `Decimal`. Single-letter stream fields keep the venue's names (`rename`), so the records read like
Binance's own documentation.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = [
    "AccountAsset",
    "AccountInfo",
    "AccountPosition",
    "Filter",
    "OrderTradeUpdate",
    "OrderUpdate",
    "RestOrder",
    "SymbolInfo",
    "UserTrade",
]


class Filter(msgspec.Struct, frozen=True):
    """One of a symbol's trading rules (PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL, ...)."""

    filterType: str
    tickSize: Decimal | None = None
    stepSize: Decimal | None = None
    minQty: Decimal | None = None
    maxQty: Decimal | None = None
    notional: Decimal | None = None


class SymbolInfo(msgspec.Struct, frozen=True):
    """A symbol of GET /fapi/v1/exchangeInfo."""

    symbol: str
    baseAsset: str
    quoteAsset: str
    marginAsset: str
    contractType: str
    filters: list[Filter]
    status: str = "TRADING"


class RestOrder(msgspec.Struct, frozen=True):
    """An order as REST answers it (new order, query, cancel, open orders)."""

    orderId: int
    symbol: str
    status: str
    clientOrderId: str
    side: str
    origQty: Decimal
    executedQty: Decimal
    updateTime: int
    price: Decimal | None = None
    type: str = "LIMIT"


class UserTrade(msgspec.Struct, frozen=True):
    """One of our fills, from GET /fapi/v1/userTrades."""

    id: int
    orderId: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commissionAsset: str
    time: int
    maker: bool


class OrderUpdate(
    msgspec.Struct,
    frozen=True,
    rename={
        "symbol": "s",
        "client_order_id": "c",
        "side": "S",
        "quantity": "q",
        "price": "p",
        "execution": "x",
        "status": "X",
        "order_id": "i",
        "last_qty": "l",
        "filled_qty": "z",
        "last_px": "L",
        "commission_asset": "N",
        "commission": "n",
        "trade_time": "T",
        "trade_id": "t",
        "maker": "m",
    },
):
    """The `o` object of an ORDER_TRADE_UPDATE: the order's state after one execution."""

    symbol: str
    client_order_id: str
    side: str
    quantity: Decimal
    price: Decimal
    execution: str  # NEW, TRADE, CANCELED, EXPIRED, CALCULATED, AMENDMENT
    status: str  # NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, EXPIRED_IN_MATCH
    order_id: int
    last_qty: Decimal
    filled_qty: Decimal
    last_px: Decimal
    trade_time: int
    trade_id: int
    maker: bool = False
    commission: Decimal = Decimal(0)
    commission_asset: str | None = None


class OrderTradeUpdate(
    msgspec.Struct, frozen=True, rename={"event": "e", "event_time": "E", "time": "T", "order": "o"}
):
    """The user stream's ORDER_TRADE_UPDATE event."""

    event: str
    event_time: int
    time: int
    order: OrderUpdate


class AccountAsset(msgspec.Struct, frozen=True):
    asset: str
    walletBalance: Decimal
    updateTime: int = 0


class AccountPosition(msgspec.Struct, frozen=True):
    symbol: str
    positionAmt: Decimal
    entryPrice: Decimal = Decimal(0)
    positionSide: str = "BOTH"
    updateTime: int = 0


class AccountInfo(msgspec.Struct, frozen=True):
    """GET /fapi/v2/account: wallet balances and positions in one answer."""

    assets: list[AccountAsset]
    positions: list[AccountPosition]
