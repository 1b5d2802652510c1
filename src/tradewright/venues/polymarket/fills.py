"""How `PolymarketExecution` takes the user channel's word: order updates (an ack, a venue cancel that
carries the matched size) and each trade status of our fills — booked once, at its first status, on
the side and token of *our* order, then followed to settlement in the `SettlementLedger`."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

from tradewright.core.ids import ClientOrderId, VenueOrderId
from tradewright.engine.venue_state import VenueOrder, VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.events import OrderFilled
from tradewright.model.orders import Order
from tradewright.venues._common.ports import VenueHealth, VenueHooks
from tradewright.venues.polymarket.catalog import Catalog
from tradewright.venues.polymarket.parsing import TradeFill, ms_to_ns, order_status
from tradewright.venues.polymarket.settlement import SettlementLedger
from tradewright.venues.polymarket.state import snap

__all__ = ["UserEvents"]


class UserEvents:
    """The user-channel half of `PolymarketExecution` (it supplies the attributes below)."""

    catalog: Catalog
    collateral: str
    ledger: SettlementLedger
    _hooks: VenueHooks
    _orders: dict[ClientOrderId, Order]
    _by_hash: dict[str, ClientOrderId]
    _cancel_heard: dict[ClientOrderId, asyncio.Event]

    def _accept(self, order: Order, order_id: str) -> None:
        raise NotImplementedError

    async def _settle(self, order: Order, view: VenueOrder) -> None:
        raise NotImplementedError

    def _deliver(self, fill: OrderFilled) -> None:
        raise NotImplementedError

    def _status(self, health: VenueHealth, reason: str) -> None:
        raise NotImplementedError

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        raise NotImplementedError

    def on_order_message(
        self, order_id: str, status: str, kind: str, size_matched: Decimal, ts_ms: str
    ) -> None:
        cid = self._by_hash.get(order_id)
        order = self._orders.get(cid) if cid is not None else None
        if order is None:
            return
        if kind.upper() == "PLACEMENT" or order_status(status, kind) is VenueOrderStatus.OPEN:
            self._accept(order, order_id)
            return
        if kind.upper() != "CANCELLATION" or order.status.is_terminal:
            return
        heard = self._cancel_heard.get(order.client_order_id)
        if heard is not None:
            heard.set()
        view = VenueOrder(
            order.client_order_id, VenueOrderId(order_id), order.instrument_id, order.side,
            VenueOrderStatus.CANCELED, order.quantity, snap(size_matched), order.price, ms_to_ns(ts_ms),
        )  # fmt: skip
        if status.upper() == "CANCELED_MARKET_RESOLVED":
            self._hooks.log.info("polymarket order %s canceled: its market resolved", order.client_order_id)
        self._spawn(self._settle(order, view), f"settle {order.client_order_id}")

    def on_fill(self, fill: TradeFill) -> None:
        """A trade status of one of our fills: book it the first time, then follow its settlement."""
        cid = self._by_hash.get(fill.order_id)
        order = self._orders.get(cid) if cid is not None else None
        signed_qty = fill.size if fill.side is OrderSide.BUY else -fill.size
        is_new, failed = self.ledger.on_status(fill.trade_id, fill.token_id, signed_qty, fill.status)
        if failed:
            self._status(
                VenueHealth.DEGRADED,
                f"trade {fill.trade_id} FAILED on chain: the position it made did not happen; reconcile",
            )
        if not is_new or order is None:
            return
        self._deliver(self.fill_event(order, fill))

    def fill_event(self, order: Order, fill: TradeFill) -> OrderFilled:
        market, _ = self.catalog.market_of(order.instrument_id)
        size = snap(fill.size)
        if size != fill.size:
            self._hooks.log.info("polymarket fill %s: size %s snapped to %s", fill.trade_id, fill.size, size)
        taker = fill.liquidity is LiquiditySide.TAKER
        return OrderFilled(
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            venue_order_id=VenueOrderId(fill.order_id),
            trade_id=fill.trade_id,  # type: ignore[arg-type]
            side=order.side,  # ours, as sent: never inferred from the taker's side
            last_px=fill.price,
            last_qty=size,
            liquidity=fill.liquidity,
            fee=market.fees.fee(fill.price, size, taker=taker),
            fee_currency=self.collateral,
            ts_event=fill.ts_ns,
            ts_init=self._hooks.clock.now_ns(),
        )

    def our_sides(self) -> dict[str, OrderSide]:
        return {h: self._orders[c].side for h, c in self._by_hash.items() if c in self._orders}
