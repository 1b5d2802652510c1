"""Bitget v2 spot orders on the shared CCXT base (classic account).

Client order ids are Bitget's `clientOid`; post-only, IOC and FOK are its `force` values. Bitget spot
has no amend (its cancel-replace gives the order a new id), so `modify` is declared unsupported and the
engine replaces the order itself. Cancel-all is `cancel-symbol-order`. Market orders are not sent: a
Bitget spot market buy is sized in the quote currency, which our exact base-size orders cannot express.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ccxt

from tradewright.core.errors import VenueError
from tradewright.core.ids import InstrumentId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder
from tradewright.model.enums import OrderType, TimeInForce
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._ccxt.family import Failure, Family, OrderArgs, OrderView
from tradewright.venues.bitget import parsing

__all__ = ["BitgetExecution"]

_CODE = re.compile(r'"code"\s*:\s*"(\d+)"')
_AUTH = {"40006", "40008", "40009", "40012", "40037", "40014", "40001", "40002", "40003", "40005"}
_REASONS = {"43012": "insufficient_funds", "43009": "post_only_would_take", "43122": "duplicate_client_order_id",
            "45110": "below_min_size", "40808": "off_grid", "43011": "fok_not_filled", "40034": "unknown_instrument"}  # fmt: skip


class BitgetExecution(Family):
    """The order hooks of the Bitget family."""

    client_id_pattern = r"[A-Za-z0-9_-]{1,40}"

    def order_args(self, order: Order, venue_cid: str) -> OrderArgs:
        params: dict[str, Any] = {"clientOrderId": venue_cid}
        if order.order_type is not OrderType.LIMIT:
            raise VenueError(
                f"bitget: {order.order_type} orders are not supported on spot by this client (limit orders only)"
            )
        if order.post_only:
            params["postOnly"] = True
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            params["timeInForce"] = order.time_in_force.value
        elif order.time_in_force is not TimeInForce.GTC:
            raise VenueError(f"bitget: time in force {order.time_in_force} is not supported")
        return OrderArgs("limit", order.side.value.lower(), str(order.quantity), str(order.price), params)

    def order_view(self, raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
        return parsing.order_view(raw, iid)

    def fill_of(self, raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
        return parsing.fill_of(raw, iid, ts_init)

    def pushes(self, message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
        return parsing.pushes(message, markets, ts_init)

    async def query(self, exchange: Any, symbol: str, venue_cid: str) -> Mapping[str, Any] | None:
        try:
            answer = await exchange.fetch_order(None, symbol, {"clientOrderId": venue_cid})
        except ccxt.OrderNotFound:
            return None
        info: Mapping[str, Any] = answer["info"]
        return info

    async def fills(self, exchange: Any, symbol: str, venue_order_id: str) -> list[Mapping[str, Any]]:
        rows = await exchange.privateSpotGetV2SpotTradeFills(
            {"symbol": exchange.market(symbol)["id"], "orderId": venue_order_id}
        )
        data: list[Mapping[str, Any]] = rows.get("data") or []
        return data

    async def open_orders(self, exchange: Any, symbol: str) -> list[Mapping[str, Any]]:
        rows = await exchange.privateSpotGetV2SpotTradeUnfilledOrders(
            {"symbol": exchange.market(symbol)["id"]}
        )
        data: list[Mapping[str, Any]] = rows.get("data") or []
        return data

    async def cancel(self, exchange: Any, symbol: str, order: Order, venue_cid: str) -> None:
        if order.venue_order_id is None:
            await exchange.cancel_order(None, symbol, {"clientOrderId": venue_cid})
        else:
            await exchange.cancel_order(order.venue_order_id, symbol)

    async def cancel_all(self, exchange: Any, symbol: str) -> None:
        await exchange.privateSpotPostV2SpotTradeCancelSymbolOrder({"symbol": exchange.market(symbol)["id"]})

    async def account(self, exchange: Any, instruments: Mapping[str, Instrument]) -> AccountSnapshot:
        rows = await exchange.privateSpotGetV2SpotAccountAssets()
        return parsing.account_snapshot(rows.get("data") or [])

    async def verify_keys(self, exchange: Any) -> None:
        await exchange.privateSpotGetV2SpotAccountAssets()

    async def watch_private(self, exchange: Any) -> Any:
        return await exchange.watch_orders(None, None, None, {"type": "spot"})

    def classify(self, exc: BaseException) -> tuple[Failure, str]:
        for code in _CODE.findall(str(exc)):
            if code == "429":
                return Failure.RATE_LIMITED, "rate_limited"
            if code in _AUTH:
                return Failure.AUTH, "authentication"
            if code in ("43001", "43025"):
                return Failure.NOT_FOUND, "order_not_found"
            if code in ("40010", "40725", "45001"):
                return Failure.UNKNOWN, f"bitget_{code}"
            if code in _REASONS:
                return Failure.REJECTED, _REASONS[code]
        return super().classify(exc)
