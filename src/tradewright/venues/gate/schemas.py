"""Gate v4 futures payloads as typed records (only the fields we read; names are Gate's own).

Sizes are signed contract counts (a sell is negative) written as strings (the client asks for
``X-Gate-Size-Decimal``); times are Unix seconds with a fraction.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["GateAccount", "GateContract", "GateOrder", "GatePosition", "GateTrade"]


class GateContract(msgspec.Struct, frozen=True):
    """A row of GET /api/v4/futures/usdt/contracts."""

    name: str
    order_price_round: Decimal
    quanto_multiplier: Decimal
    order_size_min: Decimal = Decimal(1)
    order_size_max: Decimal | None = None
    maker_fee_rate: Decimal = Decimal(0)
    taker_fee_rate: Decimal = Decimal(0)
    in_delisting: bool = False


class GateOrder(msgspec.Struct, frozen=True):
    """A futures order (REST answers and `futures.orders` pushes)."""

    id: int
    contract: str
    size: Decimal
    left: Decimal
    status: str
    price: Decimal
    text: str = ""
    finish_as: str | None = None
    update_time: Decimal | None = None
    create_time: Decimal = Decimal(0)
    finish_time: Decimal | None = None


class GateTrade(msgspec.Struct, frozen=True):
    """A fill (GET my_trades and `futures.usertrades` pushes)."""

    id: int
    contract: str
    order_id: str
    size: Decimal
    price: Decimal
    role: str
    create_time: Decimal
    text: str = ""
    fee: Decimal = Decimal(0)


class GateAccount(msgspec.Struct, frozen=True):
    """GET /api/v4/futures/usdt/accounts."""

    total: Decimal
    currency: str


class GatePosition(msgspec.Struct, frozen=True):
    contract: str
    size: Decimal
    entry_price: Decimal
    update_time: int = 0
