"""Every connected venue as one `VenueStatePort`, so one reconciliation covers the whole node.

Orders are read from the venue of their instrument. `account` reads each venue's positions and
balances (concurrently) and merges them: positions are per instrument (each at one venue), cash is
summed per currency across venues — the node's portfolio keeps one balance per currency. The merged
snapshot's `as_of_ns` is the oldest venue's: a fill between two venues' snapshot times can show as a
momentary difference, which reconciliation only acts on once `reconcile.confirmations` passes in a
row have seen it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal

from tradewright.core.errors import TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenuePosition
from tradewright.model.events import OrderFilled
from tradewright.model.orders import Order
from tradewright.venues._common.ports import VenueExecution

__all__ = ["AllVenues"]


class AllVenues:
    """A `VenueStatePort` (and the reconciler's venue actions) over several venues' execution sides."""

    def __init__(self, executions: Mapping[Venue, VenueExecution]) -> None:
        self.executions = dict(executions)

    def _of(self, instrument_id: InstrumentId) -> VenueExecution:
        execution = self.executions.get(instrument_id.venue)
        if execution is None:
            raise TradewrightError(f"{instrument_id}: no connected venue {instrument_id.venue}")
        return execution

    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        return await self._of(instrument_id).open_orders(instrument_id)

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        return await self._of(instrument_id).query_order(instrument_id, client_order_id)

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        return await self._of(order.instrument_id).order_fills(order)

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        by_venue: dict[Venue, list[InstrumentId]] = {venue: [] for venue in self.executions}
        for iid in instrument_ids:
            self._of(iid)
            by_venue[iid.venue].append(iid)
        venues = list(by_venue)
        snapshots = await asyncio.gather(*(self.executions[v].account(by_venue[v]) for v in venues))
        positions: dict[InstrumentId, VenuePosition] = {}
        balances: dict[str, Decimal] = {}
        for venue, snapshot in zip(venues, snapshots, strict=True):
            positions.update({iid: p for iid, p in snapshot.positions.items() if iid.venue == venue})
            for currency, amount in snapshot.balances.items():
                balances[currency] = balances.get(currency, Decimal(0)) + amount
        as_of = min((s.as_of_ns for s in snapshots), default=0)
        return AccountSnapshot(as_of_ns=as_of, positions=positions, balances=balances)

    def resend_cancel(self, order: Order) -> None:
        self._of(order.instrument_id).cancel(order)

    def cancel_unknown(self, order: VenueOrder) -> None:
        self._of(order.instrument_id).cancel_unknown(order)
