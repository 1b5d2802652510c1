"""Gate futures orders on the shared CCXT base.

Client order ids are Gate's `text` (``t-`` and up to 28 of ``0-9A-Za-z_.-``); an order is queried and
cancelled by it. Post-only is Gate's ``poc`` time in force; IOC and FOK are native. Amend is native
(PUT, same order id); cancel-all is Gate's per-contract DELETE; fills come on `futures.usertrades`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
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
from tradewright.venues.gate import parsing

__all__ = ["GateExecution"]

_LABEL = re.compile(r'"label"\s*:\s*"([A-Z_]+)"')
_REASONS = {
    "INSUFFICIENT_AVAILABLE": "insufficient_funds", "ORDER_POC_IMMEDIATE": "post_only_would_take",
    "ORDER_SIZE_TOO_SMALL": "below_min_size", "INVALID_PARAM_VALUE": "invalid_order", "ORDER_FOK": "fok_not_filled",
    "CONTRACT_NOT_FOUND": "unknown_instrument", "ORDER_FINISHED": "order_not_open", "STP_CANCELLED": "self_trade_prevented",
}  # fmt: skip
_AUTH = {"INVALID_KEY", "INVALID_SIGNATURE", "REQUEST_EXPIRED", "MISSING_REQUIRED_HEADER", "FORBIDDEN"}
_VALID = re.compile(r"[0-9A-Za-z_.-]{1,28}")


class GateExecution(Family):
    """The order hooks of the Gate family."""

    def client_id(self, cid: str) -> str:
        body = cid if _VALID.fullmatch(cid) else hashlib.sha256(cid.encode()).hexdigest()[:28]
        return f"t-{body}"

    def order_args(self, order: Order, venue_cid: str) -> OrderArgs:
        params: dict[str, Any] = {"text": venue_cid}
        if order.reduce_only:
            params["reduceOnly"] = True
        if order.order_type is OrderType.MARKET:
            return OrderArgs("market", order.side.value.lower(), str(order.quantity), None, params)
        if order.order_type is not OrderType.LIMIT:
            raise VenueError(f"gate: {order.order_type} orders are not supported by this client")
        if order.post_only:
            params["postOnly"] = True
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            params["timeInForce"] = order.time_in_force.value
        elif order.time_in_force is not TimeInForce.GTC:
            raise VenueError(f"gate: time in force {order.time_in_force} is not supported")
        return OrderArgs("limit", order.side.value.lower(), str(order.quantity), str(order.price), params)

    def order_view(self, raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
        return parsing.order_view(raw, iid)

    def fill_of(self, raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
        return parsing.fill_of(raw, iid, "USDT", ts_init)

    def pushes(self, message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
        return parsing.pushes(message, markets, "USDT", ts_init)

    async def watch_private(self, exchange: Any) -> Any:
        """Orders and fills are two channels on Gate: keep both subscribed."""
        import asyncio

        return await asyncio.gather(exchange.watch_orders(None, None, None, {"type": "swap"}),
                                    exchange.watch_my_trades(None, None, None, {"type": "swap"}))  # fmt: skip

    async def query(self, exchange: Any, symbol: str, venue_cid: str) -> Mapping[str, Any] | None:
        try:
            answer = await exchange.fetch_order(None, symbol, {"text": venue_cid})
        except ccxt.OrderNotFound:
            return None
        info: Mapping[str, Any] = answer["info"]
        return info

    async def fills(self, exchange: Any, symbol: str, venue_order_id: str) -> list[Mapping[str, Any]]:
        trades = await exchange.fetch_my_trades(symbol, None, None, {"order": venue_order_id})
        return [t["info"] for t in trades]

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
            order.venue_order_id or venue_cid, symbol, order.order_type.value.lower(), order.side.value.lower(),
            None if quantity is None else str(quantity), None if price is None else str(price),
        )  # fmt: skip

    async def cancel(self, exchange: Any, symbol: str, order: Order, venue_cid: str) -> None:
        await exchange.cancel_order(order.venue_order_id or venue_cid, symbol)

    async def account(self, exchange: Any, instruments: Mapping[str, Instrument]) -> AccountSnapshot:
        account = await exchange.privateFuturesGetSettleAccounts({"settle": "usdt"})
        positions = await exchange.privateFuturesGetSettlePositions({"settle": "usdt"})
        by_id = {i.id.symbol.removesuffix("-PERP"): i for i in instruments.values()}
        return parsing.account_snapshot(account, positions, by_id)

    async def verify_keys(self, exchange: Any) -> None:
        await exchange.privateFuturesGetSettleAccounts({"settle": "usdt"})

    def classify(self, exc: BaseException) -> tuple[Failure, str]:
        labels = _LABEL.findall(str(exc))
        for label in labels:
            if label == "TOO_MANY_REQUESTS":
                return Failure.RATE_LIMITED, "rate_limited"
            if label in _AUTH:
                return Failure.AUTH, "authentication"
            if label == "ORDER_NOT_FOUND":
                return Failure.NOT_FOUND, "order_not_found"
            if label == "SERVER_ERROR":
                return Failure.UNKNOWN, "gate_server_error"
            if label in _REASONS:
                return Failure.REJECTED, _REASONS[label]
        failure, reason = super().classify(exc)
        if failure is Failure.REJECTED and labels:
            return failure, f"gate_{labels[0].lower()}"
        return failure, reason
