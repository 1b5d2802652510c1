"""Binance USD-M payloads as typed records (only the fields we use; the venue sends more).

Prices, sizes and money stay exact: Binance writes them as strings, and these records decode them
into `Decimal`. Single-letter stream fields keep the venue's names (`rename`), so the records read like
Binance's own documentation.

Decoding is also the boundary check: an id or a time outside 0..2^63-1 (times as ns), a number that is
not finite (``"NaN"``, ``"Infinity"``) or beyond `MAX_MAGNITUDE`, a negative price or size: each fails
decoding (`msgspec.ValidationError`, which `parsing.decode` turns into a `VenueError` naming the field),
so no such value ever reaches the engine.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

__all__ = [
    "MAX_MAGNITUDE",
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

#: No price, size or amount of a real market comes near this; beyond it a value is corrupt, not big.
MAX_MAGNITUDE = Decimal("1e15")
_MAX_EXPONENT = 15
_INT64_MAX = 2**63 - 1
Id = Annotated[int, msgspec.Meta(ge=0, le=_INT64_MAX)]
Ms = Annotated[int, msgspec.Meta(ge=0, le=_INT64_MAX // 1_000_000)]


def _check(record: msgspec.Struct, *, amounts: tuple[str, ...] = (), signed: tuple[str, ...] = ()) -> None:
    """Refuse non-finite or absurd Decimals; `amounts` must also be >= 0 (raises ValueError naming the
    venue's field)."""
    for name in (*amounts, *signed):
        value = getattr(record, name)
        if value is None:
            continue
        # adjusted() is the exponent of the leading digit: no arithmetic, so no Overflow on 1e999999
        if not value.is_finite() or (value and value.adjusted() >= _MAX_EXPONENT):
            raise ValueError(
                f"`{_wire_name(record, name)}` is not a finite number below 1e15: {str(value)[:40]}"
            )
        if name in amounts and value < 0:
            raise ValueError(f"`{_wire_name(record, name)}` must not be negative, got {value}")


_WIRE_NAMES: dict[tuple[type, str], str] = {}


def _wire_name(record: msgspec.Struct, name: str) -> str:
    """The venue's name of a field (``l`` for `last_qty`), for error messages (the slow path only)."""
    key = (type(record), name)
    if key not in _WIRE_NAMES:
        for f in msgspec.structs.fields(type(record)):
            _WIRE_NAMES[(type(record), f.name)] = f.encode_name
    return _WIRE_NAMES.get(key, name)


class Filter(msgspec.Struct, frozen=True):
    """One of a symbol's trading rules (PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL, ...)."""

    filterType: str
    tickSize: Decimal | None = None
    stepSize: Decimal | None = None
    minQty: Decimal | None = None
    maxQty: Decimal | None = None
    notional: Decimal | None = None

    def __post_init__(self) -> None:
        _check(self, amounts=("tickSize", "stepSize", "minQty", "maxQty", "notional"))


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

    orderId: Id
    symbol: str
    status: str
    clientOrderId: str
    side: str
    origQty: Decimal
    executedQty: Decimal
    updateTime: Ms
    price: Decimal | None = None
    type: str = "LIMIT"

    def __post_init__(self) -> None:
        _check(self, amounts=("origQty", "executedQty", "price"))


class UserTrade(msgspec.Struct, frozen=True):
    """One of our fills, from GET /fapi/v1/userTrades."""

    id: Id
    orderId: Id
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commissionAsset: str
    time: Ms
    maker: bool

    def __post_init__(self) -> None:
        _check(self, amounts=("price", "qty"), signed=("commission",))


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
    order_id: Id
    last_qty: Decimal
    filled_qty: Decimal
    last_px: Decimal
    trade_time: Ms
    trade_id: Id
    maker: bool = False
    commission: Decimal = Decimal(0)
    commission_asset: str | None = None

    def __post_init__(self) -> None:
        _check(
            self, amounts=("quantity", "price", "last_qty", "filled_qty", "last_px"), signed=("commission",)
        )


class OrderTradeUpdate(
    msgspec.Struct, frozen=True, rename={"event": "e", "event_time": "E", "time": "T", "order": "o"}
):
    """The user stream's ORDER_TRADE_UPDATE event."""

    event: str
    event_time: Ms
    time: Ms
    order: OrderUpdate


class AccountAsset(msgspec.Struct, frozen=True):
    asset: str
    walletBalance: Decimal
    updateTime: Ms = 0

    def __post_init__(self) -> None:
        _check(self, signed=("walletBalance",))


class AccountPosition(msgspec.Struct, frozen=True):
    symbol: str
    positionAmt: Decimal
    entryPrice: Decimal = Decimal(0)
    positionSide: str = "BOTH"
    updateTime: Ms = 0

    def __post_init__(self) -> None:
        _check(self, amounts=("entryPrice",), signed=("positionAmt",))


class AccountInfo(msgspec.Struct, frozen=True):
    """GET /fapi/v2/account: wallet balances and positions in one answer."""

    assets: list[AccountAsset]
    positions: list[AccountPosition]
