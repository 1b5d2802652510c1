"""OKX orders on the shared CCXT base: how an order is written for OKX and what its answers mean.

Client order ids are OKX's `clOrdId` (1-32 letters and digits). Post-only, IOC and FOK are OKX order
types (`post_only`, `ioc`, `fok`); spot market buys are sized in the base currency (`tgtCcy`). Amend is
native (`amend-order`, same order id); cancel-all cancels the open orders in batches of 20.
"""

from __future__ import annotations

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
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.orders import Order
from tradewright.venues._ccxt.family import Failure, Family, OrderArgs, OrderView
from tradewright.venues.okx import parsing

__all__ = ["OkxExecution"]

_CODE = re.compile(r'"s?[cC]ode"\s*:\s*"(\d+)"')
# OKX codes (https://www.okx.com/docs-v5/en/#error-code) -> what they mean for the order
_UNKNOWN = {"50001", "50004", "50013", "50026", "51149"}  # busy / timeout: it may have been processed
_RATE = {"50011", "50061"}
_AUTH = {"50100", "50101", "50102", "50103", "50104", "50105", "50110", "50111", "50112", "50113", "50114"}
_REASONS = {
    "51008": "insufficient_funds", "51019": "post_only_would_take", "51016": "duplicate_client_order_id",
    "51121": "off_grid", "51020": "below_min_size", "51001": "unknown_instrument", "51603": "order_not_found",
    "51400": "cancel_failed", "51503": "amend_failed", "51009": "fok_not_filled", "51007": "self_trade_prevented",
}  # fmt: skip


def _codes(exc: BaseException) -> list[str]:
    return [c for c in _CODE.findall(str(exc)) if c != "0"]


class OkxExecution(Family):
    """The order hooks of the OKX family."""

    client_id_pattern = r"[A-Za-z0-9]{1,32}"

    def _instrument_kind(self, order: Order) -> str:
        return (
            "spot"
            if "-SWAP" not in order.instrument_id.symbol and order.instrument_id.symbol.count("-") == 1
            else "swap"
        )

    def order_args(self, order: Order, venue_cid: str) -> OrderArgs:
        params: dict[str, Any] = {"clOrdId": venue_cid}
        if order.reduce_only:
            params["reduceOnly"] = True
        if order.order_type is OrderType.MARKET:
            if self._instrument_kind(order) == "spot":
                params["tgtCcy"] = "base_ccy"
            return OrderArgs("market", order.side.value.lower(), str(order.quantity), None, params)
        if order.order_type is not OrderType.LIMIT:
            raise VenueError(f"okx: {order.order_type} orders are not supported by this client")
        if order.post_only:
            params["postOnly"] = True
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            params["timeInForce"] = order.time_in_force.value
        elif order.time_in_force is not TimeInForce.GTC:
            raise VenueError(f"okx: time in force {order.time_in_force} is not supported")
        return OrderArgs("limit", order.side.value.lower(), str(order.quantity), str(order.price), params)

    def order_view(self, raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
        return parsing.order_view(raw, iid)

    def fill_of(self, raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
        return parsing.fill_from_row(raw, iid, ts_init)

    def pushes(self, message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
        return parsing.pushes(message, markets, ts_init)

    async def query(self, exchange: Any, symbol: str, venue_cid: str) -> Mapping[str, Any] | None:
        try:
            answer = await exchange.fetch_order(None, symbol, {"clOrdId": venue_cid})
        except ccxt.OrderNotFound:
            return None
        info: Mapping[str, Any] = answer["info"]
        return info

    async def fills(self, exchange: Any, symbol: str, venue_order_id: str) -> list[Mapping[str, Any]]:
        trades = await exchange.fetch_my_trades(symbol, None, None, {"ordId": venue_order_id})
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
        params: dict[str, Any] = {}
        if order.venue_order_id is None:
            params["clOrdId"] = venue_cid
        await exchange.edit_order(
            order.venue_order_id, symbol, order.order_type.value.lower(), order.side.value.lower(),
            None if quantity is None else str(quantity), None if price is None else str(price), params,
        )  # fmt: skip

    async def cancel(self, exchange: Any, symbol: str, order: Order, venue_cid: str) -> None:
        if order.venue_order_id is None:
            await exchange.cancel_order(None, symbol, {"clOrdId": venue_cid})
        else:
            await exchange.cancel_order(order.venue_order_id, symbol)

    async def cancel_all(self, exchange: Any, symbol: str) -> None:
        ids = [o["id"] for o in await exchange.fetch_open_orders(symbol)]
        for start in range(0, len(ids), 20):
            await exchange.cancel_orders(ids[start : start + 20], symbol)

    async def account(self, exchange: Any, instruments: Mapping[str, Instrument]) -> AccountSnapshot:
        balance = await exchange.privateGetAccountBalance()
        rows = balance.get("data") or [{}]
        positions: list[Mapping[str, Any]] = []
        if any(i.kind is not InstrumentKind.SPOT for i in instruments.values()):
            positions = (await exchange.privateGetAccountPositions()).get("data", [])
        by_id = {str(i.id.symbol): i for i in instruments.values()}
        return parsing.account_snapshot(rows[0], positions, by_id)

    def classify(self, exc: BaseException) -> tuple[Failure, str]:
        codes = _codes(exc)
        for code in codes:
            if code in _RATE:
                return Failure.RATE_LIMITED, "rate_limited"
            if code in _AUTH:
                return Failure.AUTH, "authentication"
            if code in _UNKNOWN:
                return Failure.UNKNOWN, f"okx_{code}"
            if code == "51603":
                return Failure.NOT_FOUND, "order_not_found"
            if code in _REASONS:
                return Failure.REJECTED, _REASONS[code]
        failure, reason = super().classify(exc)
        if failure is Failure.REJECTED and codes:
            return failure, f"okx_{codes[0]}"
        return failure, reason
