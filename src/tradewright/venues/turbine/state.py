"""What reconciliation reads from Turbine (`VenueStatePort`): our open orders per market and outcome,
one order by its reproducible hash, and the account — YES and NO shares per market (the positions the
node is seeded with at start) and the USDC balance. Fills are delivered by the poll (Turbine's trades
do not name orders), so `order_fills` has nothing more to add."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradewright.core.ids import ClientOrderId, InstrumentId, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus, VenuePosition
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderFilled
from tradewright.model.orders import Order
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.turbine.client import TurbineHttp
from tradewright.venues.turbine.parsing import decode, from_micro
from tradewright.venues.turbine.schemas import Balances, OrdersAnswer, Position
from tradewright.venues.turbine.schemas import Order as VOrder
from tradewright.venues.turbine.signing import ChainConfig, TurbineOrder

__all__ = ["StateReads"]


class StateReads:
    """The `VenueStatePort` half of `TurbineExecution` (it supplies the attributes below)."""

    http: TurbineHttp
    trader: str
    chain: ChainConfig
    collateral: str
    _hooks: VenueHooks
    _orders: dict[ClientOrderId, Order]
    _hashes: dict[ClientOrderId, str]
    _by_hash: dict[str, ClientOrderId]

    def _market(self, instrument_id: InstrumentId) -> tuple[Any, int]:
        raise NotImplementedError

    def signed(self, order: Order) -> tuple[TurbineOrder, str, str]:
        raise NotImplementedError

    async def _get_order(self, hash_: str) -> VOrder | None:
        raise NotImplementedError

    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        tm, outcome = self._market(instrument_id)
        raw = await self.http.request(
            "GET",
            "/api/v1/orders",
            params={"trader": self.trader, "market_id": tm.market.market_id, "status": "open"},
            auth=True,
        )
        return [
            self._view(o, instrument_id)
            for o in decode(OrdersAnswer, raw, "orders").orders
            if o.outcome == outcome
        ]

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        order = self._orders.get(client_order_id)
        if order is None:
            return None
        hash_ = self._hashes.get(client_order_id) or self.signed(order)[1]
        row = await self._get_order(hash_)
        return None if row is None else self._view(row, instrument_id)

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        return []  # fills are delivered by the poll; Turbine's trades do not name orders

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        """Positions seeded from the venue (YES and NO shares per market) and the USDC balance."""
        raw = await self.http.request(
            "GET",
            f"/api/v1/users/{self.trader}/positions",
            params={"chain_id": str(self.chain.chain_id)},
            auth=True,
        )
        rows = raw.get("positions", raw) if isinstance(raw, dict) else raw
        held: dict[tuple[str, int], Decimal] = {}
        for row in rows or []:
            p = decode(Position, row, "position")
            held[(p.marketId, 0)] = from_micro(p.yesShares)
            held[(p.marketId, 1)] = from_micro(p.noShares)
        positions = {}
        for iid in instrument_ids:
            tm, outcome = self._market(iid)
            qty = held.get((tm.market.market_id, outcome), Decimal(0))
            if qty:
                positions[iid] = VenuePosition(iid, qty, Decimal(0))
        return AccountSnapshot(self._hooks.clock.now_ns(), positions, {self.collateral: await self.balance()})

    async def balance(self) -> Decimal:
        raw = await self.http.request(
            "GET", f"/api/v1/users/{self.trader}/balances", params={"chain_id": str(self.chain.chain_id)}
        )
        return from_micro(decode(Balances, raw, "balances").balance)

    def _view(self, row: VOrder, instrument_id: InstrumentId) -> VenueOrder:
        cid = self._by_hash.get(row.orderHash, ClientOrderId(row.orderHash))
        status = row.status.lower()
        state = (
            VenueOrderStatus.OPEN if status == "open" else VenueOrderStatus.FILLED if status == "filled"
            else VenueOrderStatus.CANCELED
        )  # fmt: skip
        return VenueOrder(
            cid, VenueOrderId(row.orderHash), instrument_id, OrderSide.BUY if row.side == 0 else OrderSide.SELL, state,
            from_micro(row.size), from_micro(row.filledSize), from_micro(row.price), row.createdAt * 1_000_000_000,
        )  # fmt: skip
