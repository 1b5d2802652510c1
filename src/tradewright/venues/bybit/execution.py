"""Bybit v5 linear orders on the shared CCXT base (unified trading account).

Client order ids are Bybit's `orderLinkId` (up to 36 of ``A-Za-z0-9_-``). Post-only, IOC and FOK are
Bybit's time-in-force values. Amend is native (`/v5/order/amend`, same order id); cancel-all is
`/v5/order/cancel-all`. Orders are looked up by `orderLinkId` among open and recent ones, then in the
order history; fills come on the `execution` topic and from `/v5/execution/list`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradewright.core.errors import VenueError
from tradewright.core.ids import InstrumentId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder
from tradewright.model.enums import OrderType, TimeInForce
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._ccxt.family import Failure, Family, OrderArgs, OrderView
from tradewright.venues.bybit import parsing

__all__ = ["BybitExecution"]

_CODE = re.compile(r'"retCode"\s*:\s*(\d+)')
_AUTH = {"10002", "10003", "10004", "10005", "10009", "10010", "33004"}
_UNKNOWN = {"10000", "10016", "10019"}
_REASONS = {"110007": "insufficient_funds", "110079": "post_only_would_take", "110072": "duplicate_client_order_id",
            "110094": "below_min_size", "10001": "invalid_order", "110043": "fok_not_filled", "110044": "self_trade_prevented"}  # fmt: skip


class BybitExecution(Family):
    """The order hooks of the Bybit family."""

    client_id_pattern = r"[A-Za-z0-9_-]{1,36}"
    private_url_marker = "/v5/private"

    def order_args(self, order: Order, venue_cid: str) -> OrderArgs:
        params: dict[str, Any] = {"orderLinkId": venue_cid}
        if order.reduce_only:
            params["reduceOnly"] = True
        if order.order_type is OrderType.MARKET:
            return OrderArgs("market", order.side.value.lower(), str(order.quantity), None, params)
        if order.order_type is not OrderType.LIMIT:
            raise VenueError(f"bybit: {order.order_type} orders are not supported by this client")
        if order.post_only:
            params["timeInForce"] = "PO"
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            params["timeInForce"] = order.time_in_force.value
        elif order.time_in_force is not TimeInForce.GTC:
            raise VenueError(f"bybit: time in force {order.time_in_force} is not supported")
        return OrderArgs("limit", order.side.value.lower(), str(order.quantity), str(order.price), params)

    def order_view(self, raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
        return parsing.order_view(raw, iid)

    def fill_of(self, raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
        return parsing.fill_of(raw, iid, "USDT", ts_init)

    def pushes(self, message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
        return parsing.pushes(message, markets, "USDT", ts_init)

    async def watch_private(self, exchange: Any) -> Any:
        return await asyncio.gather(exchange.watch_orders(), exchange.watch_my_trades())

    @staticmethod
    def _venue_symbol(exchange: Any, symbol: str) -> str:
        return str(exchange.market(symbol)["id"])

    async def query(self, exchange: Any, symbol: str, venue_cid: str) -> Mapping[str, Any] | None:
        request = {
            "category": "linear",
            "symbol": self._venue_symbol(exchange, symbol),
            "orderLinkId": venue_cid,
        }
        for endpoint in (exchange.privateGetV5OrderRealtime, exchange.privateGetV5OrderHistory):
            rows = (await endpoint(request)).get("result", {}).get("list") or []
            if rows:
                row: Mapping[str, Any] = rows[0]
                return row
        return None

    async def fills(self, exchange: Any, symbol: str, venue_order_id: str) -> list[Mapping[str, Any]]:
        request = {
            "category": "linear",
            "symbol": self._venue_symbol(exchange, symbol),
            "orderId": venue_order_id,
        }
        rows: list[Mapping[str, Any]] = (await exchange.privateGetV5ExecutionList(request)).get(
            "result", {}
        ).get("list") or []
        return rows

    async def open_orders(self, exchange: Any, symbol: str) -> list[Mapping[str, Any]]:
        request = {"category": "linear", "symbol": self._venue_symbol(exchange, symbol)}
        rows: list[Mapping[str, Any]] = (await exchange.privateGetV5OrderRealtime(request)).get(
            "result", {}
        ).get("list") or []
        return [r for r in rows if r.get("orderStatus") in ("New", "PartiallyFilled", "Untriggered")]

    async def amend(
        self,
        exchange: Any,
        symbol: str,
        order: Order,
        venue_cid: str,
        price: Decimal | None,
        quantity: Decimal | None,
    ) -> None:
        await exchange.edit_order(
            order.venue_order_id, symbol, order.order_type.value.lower(), order.side.value.lower(),
            None if quantity is None else str(quantity), None if price is None else str(price),
        )  # fmt: skip

    async def cancel(self, exchange: Any, symbol: str, order: Order, venue_cid: str) -> None:
        if order.venue_order_id is None:
            await exchange.cancel_order(None, symbol, {"orderLinkId": venue_cid})
        else:
            await exchange.cancel_order(order.venue_order_id, symbol)

    async def account(self, exchange: Any, instruments: Mapping[str, Instrument]) -> AccountSnapshot:
        wallet = await exchange.privateGetV5AccountWalletBalance({"accountType": "UNIFIED"})
        coins = [c for row in wallet.get("result", {}).get("list", []) for c in row.get("coin", [])]
        positions = (
            (await exchange.privateGetV5PositionList({"category": "linear", "settleCoin": "USDT"}))
            .get("result", {})
            .get("list", [])
        )
        by_id = {str(exchange.market(s)["id"]): i for s, i in instruments.items()}
        return parsing.account_snapshot(coins, positions, by_id)

    async def verify_keys(self, exchange: Any) -> None:
        await exchange.privateGetV5AccountWalletBalance({"accountType": "UNIFIED"})

    def classify(self, exc: BaseException) -> tuple[Failure, str]:
        for code in _CODE.findall(str(exc)):
            if code == "10006":
                return Failure.RATE_LIMITED, "rate_limited"
            if code in _AUTH:
                return Failure.AUTH, "authentication"
            if code in ("110001", "170213"):
                return Failure.NOT_FOUND, "order_not_found"
            if code in _UNKNOWN:
                return Failure.UNKNOWN, f"bybit_{code}"
            if code in _REASONS:
                return Failure.REJECTED, _REASONS[code]
        return super().classify(exc)
