"""What reconciliation reads from Polymarket (`VenueStatePort`): open orders, one order by its
reproducible hash (live orders from `/data/order`, finished ones from their trades), an order's fills
(trades of the market without an `asset_id` filter, which would hide our maker fills on the other
token), and the account: confirmed token balances as positions, and the collateral."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from tradewright.core.ids import ClientOrderId, InstrumentId, VenueOrderId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus, VenuePosition
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderFilled
from tradewright.model.orders import Order
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.polymarket.catalog import Catalog
from tradewright.venues.polymarket.http import ClobHttp
from tradewright.venues.polymarket.parsing import TradeFill, decode, order_status, our_fills
from tradewright.venues.polymarket.schemas import BalanceAllowance, OpenOrder, Page, UserTrade
from tradewright.venues.polymarket.settlement import SettlementLedger

__all__ = ["StateReads", "snap"]

_END_CURSOR = "LTE="
_LOT = Decimal("0.01")


def snap(size: Decimal) -> Decimal:
    """A fill size on the 0.01-share grid (the venue's micro-share truncation drifts by < 0.01)."""
    return size.quantize(_LOT, rounding=ROUND_HALF_EVEN)


class StateReads:
    """The `VenueStatePort` half of `PolymarketExecution` (it supplies the attributes below)."""

    http: ClobHttp
    catalog: Catalog
    collateral: str
    ledger: SettlementLedger
    _hooks: VenueHooks
    _signature_type: int
    _orders: dict[ClientOrderId, Order]
    _by_hash: dict[str, ClientOrderId]
    version: int

    def _expected_id(self, order: Order, version: int) -> str:
        raise NotImplementedError

    def fill_event(self, order: Order, fill: TradeFill) -> OrderFilled:
        raise NotImplementedError

    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        token = self.catalog.token_of(instrument_id)
        rows = await self._pages("/data/orders", {"asset_id": token})
        return [self._view(decode(OpenOrder, row, "open order")) for row in rows]

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        order = self._orders.get(client_order_id)
        if order is None:
            return None
        candidates = [order.venue_order_id] if order.venue_order_id else [
            self._expected_id(order, v) for v in (self.version, 3 - self.version)
        ]  # fmt: skip
        for oid in candidates:
            view = await self._lookup(order, oid)
            if view is not None:
                return view
        return None

    async def _lookup(self, order: Order, order_id: str) -> VenueOrder | None:
        raw = await self.http.request("GET", f"/data/order/{order_id}", auth="l2")
        if isinstance(raw, dict) and raw.get("id"):
            return self._view(decode(OpenOrder, raw, "order"), order.client_order_id)
        fills = await self._fills_of(order, order_id)
        if not fills:
            return None
        filled = sum((snap(f.last_qty) for f in fills), Decimal(0))
        status = VenueOrderStatus.FILLED if filled >= order.quantity else VenueOrderStatus.CANCELED
        return VenueOrder(
            order.client_order_id, VenueOrderId(order_id), order.instrument_id, order.side, status,
            order.quantity, filled, order.price, max(f.ts_event for f in fills),
        )  # fmt: skip

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        ours = self._orders.get(order.client_order_id)
        if ours is None:
            return []
        return await self._fills_of(ours, order.venue_order_id)

    async def _fills_of(self, order: Order, order_id: str) -> list[OrderFilled]:
        market, _ = self.catalog.market_of(order.instrument_id)
        # No asset_id filter: it selects the taker's token and would miss our maker fills on the other one.
        rows = await self._pages("/data/trades", {"market": market.market_id})
        fills: dict[str, OrderFilled] = {}
        for row in rows:
            trade = decode(UserTrade, row, "trade")
            for f in our_fills(trade, {order_id: order.side}):
                if f.order_id == order_id and f.status.upper() != "FAILED":
                    fills[f.trade_id] = self.fill_event(order, f)
        return sorted(fills.values(), key=lambda f: f.ts_event)

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        """Confirmed token balances as positions (entry price unknown to the venue: 0) and collateral."""
        cash = await self.balance("COLLATERAL")
        positions: dict[InstrumentId, VenuePosition] = {}
        for iid in instrument_ids:
            token = self.catalog.token_of(iid)
            held = await self.balance("CONDITIONAL", token)
            self.ledger.seed(token, held)
            if held:
                positions[iid] = VenuePosition(iid, held, Decimal(0))
        return AccountSnapshot(self._hooks.clock.now_ns(), positions, {self.collateral: cash})

    async def balance(self, asset_type: str, token_id: str = "") -> Decimal:
        return (await self.balance_allowance(asset_type, token_id)).balance

    async def balance_allowance(self, asset_type: str, token_id: str = "") -> BalanceAllowance:
        params = {"asset_type": asset_type, "signature_type": str(self._signature_type)}
        if token_id:
            params["token_id"] = token_id
        raw = await self.http.request("GET", "/balance-allowance", params=params, auth="l2")
        answer: BalanceAllowance = decode(BalanceAllowance, raw, "balance-allowance")
        return BalanceAllowance(
            balance=_units(answer.balance), allowances={k: _units(v) for k, v in answer.allowances.items()}
        )

    async def _pages(self, path: str, params: dict[str, str]) -> list[Any]:
        rows: list[Any] = []
        cursor = "MA=="
        while cursor != _END_CURSOR:
            raw = await self.http.request("GET", path, params={**params, "next_cursor": cursor}, auth="l2")
            if isinstance(raw, list):
                return rows + raw
            page = decode(Page, raw, f"{path} page")
            rows += page.data
            if page.next_cursor in ("", cursor):
                break
            cursor = page.next_cursor
        return rows

    def _view(self, row: OpenOrder, cid: ClientOrderId | None = None) -> VenueOrder:
        instrument = self.catalog.instrument_of_token(row.asset_id)
        known = cid or self._by_hash.get(row.id) or ClientOrderId(row.id)
        return VenueOrder(
            known, VenueOrderId(row.id), instrument.id, OrderSide(row.side.upper()), order_status(row.status or "LIVE"),
            row.original_size, snap(row.size_matched), row.price, self._hooks.clock.now_ns(),
        )  # fmt: skip


def _units(value: Decimal) -> Decimal:
    """Balances come as micro-units ("250500000") or, in older answers, as decimals ("250.500000")."""
    text = str(value)
    return value if "." in text or "E" in text.upper() else value / 1_000_000
