"""What `tradewright markets --venue V` lists: one venue's instruments, as the venue defines them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["MarketInfo"]


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """One tradable market. `symbol` is the venue's own id; `end_ns` is set for markets that expire
    (dated futures, prediction markets); `extra` holds venue-specific facts worth showing (e.g. a
    prediction market's condition id and neg-risk flag)."""

    symbol: str
    kind: str
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_size: Decimal | None = None
    min_notional: Decimal | None = None
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    active: bool = True
    end_ns: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
