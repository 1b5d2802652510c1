"""What a venue reports about our account, for reconciliation: a port that venues implement.

Records are the venue's facts translated into the engine's terms (exact Decimals on the instrument's
grid, UTC nanoseconds of the venue's clock); `tradewright.engine.reconcile` compares them with local
state. Fills are reported as `OrderFilled` events, so a missed fill can be applied as it is.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from tradewright.core.ids import ClientOrderId, InstrumentId, VenueOrderId
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderFilled

__all__ = ["AccountSnapshot", "VenueOrder", "VenueOrderStatus", "VenuePosition", "VenueStatePort"]


class VenueOrderStatus(enum.StrEnum):
    """An order's state at the venue (venues' own names map onto these)."""

    OPEN = "OPEN"  # resting, possibly partly filled
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"  # includes a post-only order the venue removed rather than let it take
    REJECTED = "REJECTED"

    @property
    def is_open(self) -> bool:
        return self is VenueOrderStatus.OPEN


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """One order as the venue knows it. `filled_qty` is cumulative; `ts_ns` is its last update."""

    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId
    instrument_id: InstrumentId
    side: OrderSide
    status: VenueOrderStatus
    quantity: Decimal
    filled_qty: Decimal
    price: Decimal | None
    ts_ns: int


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """A net position at the venue: signed size (long > 0) and the venue's entry price."""

    instrument_id: InstrumentId
    quantity: Decimal
    entry_price: Decimal


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Positions and balances read together. `as_of_ns` is the venue time up to which every fill is
    included (the newest update the snapshot shows): fills after it are not in these figures.

    `balances` are in the portfolio's convention: cash in each currency after every fill's full
    price x size (for a USD-M futures wallet that is wallet balance - size x entry price).
    """

    as_of_ns: int
    positions: Mapping[InstrumentId, VenuePosition] = field(default_factory=dict)
    balances: Mapping[str, Decimal] = field(default_factory=dict)


class VenueStatePort(Protocol):
    """Read our orders, fills and account at one venue (the live node's reconciliation calls it)."""

    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        """Every order of ours working at the venue on this instrument."""
        ...

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        """One order by its client order id, open or not; None when the venue does not know it."""
        ...

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        """Every fill of one order, oldest first."""
        ...

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        """Positions (in these instruments) and balances, read in one consistent snapshot."""
        ...
