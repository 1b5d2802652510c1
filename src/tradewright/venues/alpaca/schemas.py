"""Alpaca's payloads as typed records (decoded strictly; numbers as the text Alpaca sends).

Shapes from Alpaca's API reference (``../shared/reference/brokers.md`` §9-§11). Alpaca writes numbers
as strings in the Trading API; alpaca-py's stream clients hand over floats in a few places, so a
number field accepts both and `parsing.exact` turns either into an exact Decimal on the grid.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from tradewright.core.errors import VenueError

__all__ = ["Activity", "RawAccount", "RawAsset", "RawBar", "RawOrder", "RawPosition", "RawTradeUpdate", "decode"]

Num = str | float | int | None
T = TypeVar("T", bound=msgspec.Struct)


class RawOrder(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    client_order_id: str
    symbol: str | None = None
    asset_class: str | None = None
    qty: Num = None
    filled_qty: Num = None
    filled_avg_price: Num = None
    order_class: str = "simple"
    type: str | None = None
    side: str | None = None
    time_in_force: str = "day"
    limit_price: Num = None
    stop_price: Num = None
    status: str
    created_at: str | None = None
    updated_at: str | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    legs: list[RawOrder] | None = None


class RawTradeUpdate(msgspec.Struct, frozen=True, kw_only=True):
    event: str
    order: RawOrder
    timestamp: str
    execution_id: str | None = None
    price: Num = None
    qty: Num = None
    position_qty: Num = None


class RawPosition(msgspec.Struct, frozen=True, kw_only=True):
    asset_id: str
    symbol: str
    asset_class: str
    qty: Num
    side: str
    avg_entry_price: Num


class RawAccount(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    account_number: str
    status: str
    cash: Num = None
    currency: str = "USD"
    trading_blocked: bool = False
    account_blocked: bool = False


class RawAsset(msgspec.Struct, frozen=True, kw_only=True, rename={"asset_class": "class"}):
    id: str
    asset_class: str
    symbol: str
    exchange: str
    name: str = ""
    status: str = "active"
    tradable: bool = True
    price_increment: Num = None
    min_trade_increment: Num = None
    min_order_size: Num = None


class Activity(msgspec.Struct, frozen=True, kw_only=True):
    """One FILL account activity: an execution of an order."""

    id: str
    order_id: str
    symbol: str
    side: str
    qty: Num
    price: Num
    transaction_time: str
    type: str = "fill"


class RawBar(msgspec.Struct, frozen=True, kw_only=True, rename={"symbol": "S", "kind": "T"}):
    kind: str
    symbol: str
    o: float
    h: float
    l: float  # noqa: E741 - Alpaca's field name
    c: float
    v: float
    t: Any  # a msgpack Timestamp


def decode(kind: type[T], payload: Any, what: str) -> T:
    """Check a decoded payload against its record; `VenueError` naming `what` when it does not fit."""
    try:
        return msgspec.convert(payload, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise VenueError(f"Alpaca sent a malformed {what}: {exc}") from None
