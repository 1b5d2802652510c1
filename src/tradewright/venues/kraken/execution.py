"""Kraken spot orders on the shared CCXT base (REST v0, form-encoded and nonce-signed; user stream on
WebSocket v2 `executions` with a token from `GetWebSocketsToken`).

Client order ids are Kraken's `cl_ord_id` (up to 18 letters and digits, or a UUID: ours is written as
a deterministic UUID when it does not fit). Post-only is the ``post`` order flag; IOC is native (FOK is
not). Amend is native (`AmendOrder`, same txid).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import InstrumentId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder
from tradewright.model.enums import OrderType, TimeInForce
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._ccxt.family import Failure, Family, OrderArgs, OrderView
from tradewright.venues._common.credentials import Credentials
from tradewright.venues.kraken import parsing

__all__ = ["KrakenExecution"]

_ERRORS = re.compile(r"E[A-Z][A-Za-z]+:[A-Za-z ]+")
_AUTH = ("EAPI:Invalid key", "EAPI:Invalid signature", "EGeneral:Permission denied", "EAPI:Feature disabled")
_UNKNOWN = ("EService:Unavailable", "EService:Busy", "EGeneral:Internal error", "EService:Deadline elapsed")
_REASONS = {"EOrder:Insufficient funds": "insufficient_funds", "EOrder:Post only order": "post_only_would_take",
            "EOrder:Order minimum not met": "below_min_size", "EOrder:Duplicate order": "duplicate_client_order_id",
"EQuery:Unknown asset pair": "unknown_instrument"}  # fmt: skip


class KrakenExecution(Family):
    """The order hooks of the Kraken family."""

    client_id_pattern = r"[A-Za-z0-9]{1,18}"
    private_url_marker = "/v2"
    private_subscription = "executions"

    def _digest_id(self, digest: str) -> str:
        return f"{digest[0:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def check_credentials(self, config: Any, creds: Credentials) -> None:
        import base64
        import binascii

        try:
            base64.b64decode(creds.get("secret"), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(
                f"malformed KRAKEN credentials: {config.api_secret_env} is not base64 (Kraken secrets are)"
            ) from None

    def order_args(self, order: Order, venue_cid: str) -> OrderArgs:
        params: dict[str, Any] = {"clientOrderId": venue_cid}
        if order.order_type is OrderType.MARKET:
            return OrderArgs("market", order.side.value.lower(), str(order.quantity), None, params)
        if order.order_type is not OrderType.LIMIT:
            raise VenueError(f"kraken: {order.order_type} orders are not supported by this client")
        if order.post_only:
            params["postOnly"] = True
        elif order.time_in_force is TimeInForce.IOC:
            params["timeInForce"] = "IOC"
        elif order.time_in_force is not TimeInForce.GTC:
            raise VenueError(f"kraken: time in force {order.time_in_force} is not supported")
        return OrderArgs("limit", order.side.value.lower(), str(order.quantity), str(order.price), params)

    def placed_id(self, answer: Mapping[str, Any]) -> str:
        txid = (answer.get("info") or {}).get("txid") or [answer.get("id") or ""]
        return str(txid[0] if isinstance(txid, list) else txid)

    def order_view(self, raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
        return parsing.order_view(raw, iid)

    def fill_of(self, raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
        return parsing.fill_of(raw, iid, str(raw.get("fee_ccy", "")), ts_init)

    def pushes(self, message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
        return parsing.pushes(message, markets, ts_init)

    async def watch_private(self, exchange: Any) -> Any:
        return await exchange.watch_orders()

    @staticmethod
    def _rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [dict(row, txid=txid) for txid, row in result.items()]

    async def query(self, exchange: Any, symbol: str, venue_cid: str) -> Mapping[str, Any] | None:
        for endpoint, key in (
            (exchange.privatePostOpenOrders, "open"),
            (exchange.privatePostClosedOrders, "closed"),
        ):
            rows = self._rows((await endpoint({"cl_ord_id": venue_cid}))["result"].get(key) or {})
            if rows:
                return rows[0]
        return None

    async def fills(self, exchange: Any, symbol: str, venue_order_id: str) -> list[Mapping[str, Any]]:
        result = (await exchange.privatePostTradesHistory())["result"]
        quote = exchange.market(symbol)["quote"]
        return [
            dict(r, fee_ccy=quote)
            for r in self._rows(result.get("trades") or {})
            if r.get("ordertxid") == venue_order_id
        ]

    async def open_orders(self, exchange: Any, symbol: str) -> list[Mapping[str, Any]]:
        pair = exchange.market(symbol)["info"]["altname"]
        rows = self._rows((await exchange.privatePostOpenOrders())["result"].get("open") or {})
        return [r for r in rows if r.get("descr", {}).get("pair") == pair]

    async def amend(
        self,
        exchange: Any,
        symbol: str,
        order: Order,
        venue_cid: str,
        price: Decimal | None,
        quantity: Decimal | None,
    ) -> None:
        request: dict[str, Any] = (
            {"txid": order.venue_order_id} if order.venue_order_id else {"cl_ord_id": venue_cid}
        )
        if quantity is not None:
            request["order_qty"] = str(quantity)
        if price is not None:
            request["limit_price"] = str(price)
        await exchange.privatePostAmendOrder(request)

    async def cancel(self, exchange: Any, symbol: str, order: Order, venue_cid: str) -> None:
        await exchange.privatePostCancelOrder(
            {"txid": order.venue_order_id} if order.venue_order_id else {"cl_ord_id": venue_cid}
        )

    async def cancel_all(self, exchange: Any, symbol: str) -> None:
        for row in await self.open_orders(exchange, symbol):
            await exchange.privatePostCancelOrder({"txid": row["txid"]})

    async def account(self, exchange: Any, instruments: Mapping[str, Instrument]) -> AccountSnapshot:
        balances = (await exchange.privatePostBalance())["result"]
        return AccountSnapshot(
            as_of_ns=0,
            balances={exchange.safe_currency_code(code): Decimal(str(v)) for code, v in balances.items()},
        )

    async def verify_keys(self, exchange: Any) -> None:
        await exchange.privatePostBalance()

    def retry_after_s(self, exc: BaseException, default: float = 1.0) -> float:
        return 0.02 if "Invalid nonce" in str(exc) else default

    def classify(self, exc: BaseException) -> tuple[Failure, str]:
        text = str(exc)
        for found in _ERRORS.findall(text):
            found = found.strip()
            if found.startswith("EAPI:Rate limit") or found.startswith("EOrder:Rate limit"):
                return Failure.RATE_LIMITED, "rate_limited"
            if found.startswith("EAPI:Invalid nonce"):
                # refused before processing (concurrent requests of one key can arrive out of nonce
                # order): safe to send again, with a fresh nonce, after a short pause
                return Failure.RATE_LIMITED, "invalid_nonce"
            if found.startswith(_AUTH):
                return Failure.AUTH, "authentication"
            if found.startswith("EOrder:Unknown order") or found.startswith("EOrder:Invalid order"):
                return Failure.NOT_FOUND, "order_not_found"
            if found.startswith(_UNKNOWN):
                return Failure.UNKNOWN, "kraken_unavailable"
            for prefix, reason in _REASONS.items():
                if found.startswith(prefix):
                    return Failure.REJECTED, reason
        return super().classify(exc)
