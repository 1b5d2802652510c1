"""Bybit v5 private payloads (unified trading account, linear) and Bybit's signature checks.

Shapes follow nautilus' recorded v5 fixtures where they exist (`ws_account_order.json`,
`ws_execution.json`, `http_get_orders_realtime.json`, `http_get_wallet_balance.json`,
`http_get_positions.json`, `ws_auth_success/failure.json`, `ws_subscription_ack.json`). What no fixture
holds — the create/amend/cancel answers, the execution list and the error codes — is written from Bybit's
v5 documentation (https://bybit-exchange.github.io/docs/v5/) and marked "documented".

Signing (documented): ``X-BAPI-SIGN = hex(HMAC-SHA256(secret, timestamp + api_key + recv_window +
(query string | JSON body)))``, the timestamp within ``recv_window`` ms of the server's clock; the private
WebSocket's ``auth`` op signs ``"GET/realtime" + expires`` (expires in ms, not in the past).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from tradewright.servers._core.accounts import Account
from tradewright.servers._core.exchange import OrderRefused, SimFill, SimOrder, Status
from tradewright.servers._core.rest import RestAnswer, RestRequest
from tradewright.servers._core.text import num

__all__ = [
    "BybitAuthError",
    "check_auth",
    "check_rest",
    "envelope",
    "execution_json",
    "order_json",
    "refusal",
]

# documented v5 codes
_REFUSALS = {
    "unknown_symbol": ("10001", "params error: symbol invalid"),
    "unsupported": ("10001", "params error"),
    "off_grid": ("10001", "params error: price or qty is not on the instrument's step"),
    "below_min_size": ("110094", "Order does not meet minimum order value"),
    "duplicate_client_order_id": ("110072", "OrderLinkedID is duplicate"),
    "insufficient_funds": ("110007", "ab not enough for new order"),
    "post_only_would_take": ("110079", "The PostOnly order will take liquidity and is rejected"),
    "self_trade_prevented": ("110044", "self-trade prevention"),
    "fok_not_filled": ("110043", "FOK order could not be filled"),
    "order_not_found": ("110001", "order not exists or too late to cancel"),
    "order_not_open": ("110001", "order not exists or too late to cancel"),
    "would_cross": ("110079", "The amended PostOnly order would take liquidity"),
    "quantity_below_filled": ("10001", "params error: qty below the filled qty"),
    "injected": ("110007", "ab not enough for new order"),
}
_STATUS = {Status.NEW: "New", Status.PARTIALLY_FILLED: "PartiallyFilled", Status.FILLED: "Filled",
           Status.CANCELED: "Cancelled", Status.EXPIRED: "Cancelled", Status.REJECTED: "Rejected"}  # fmt: skip


class BybitAuthError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def envelope(result: Any, now_ms: int, code: str = "0", msg: str = "OK") -> RestAnswer:
    """Bybit's v5 envelope (documented): HTTP 200 with ``retCode``/``retMsg``/``result``."""
    return RestAnswer.of(
        {"retCode": int(code), "retMsg": msg, "result": result, "retExtInfo": {}, "time": now_ms}
    )


def refusal(exc: OrderRefused, now_ms: int) -> RestAnswer:
    code, msg = (
        (exc.venue_code, exc.message) if exc.venue_code else _REFUSALS.get(exc.reason, ("10001", exc.message))
    )
    return envelope({}, now_ms, code, msg)


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def check_rest(req: RestRequest, accounts: Mapping[str, Account], now_ms: int) -> Account:
    h = req.headers
    acc = accounts.get(h.get("X-BAPI-API-KEY", ""))
    if acc is None:
        raise BybitAuthError("10003", "API key is invalid.")
    ts, window = h.get("X-BAPI-TIMESTAMP", ""), h.get("X-BAPI-RECV-WINDOW", "5000")
    if not ts.isdigit() or not window.isdigit() or not (now_ms - int(window) <= int(ts) < now_ms + 1000):
        raise BybitAuthError(
            "10002", "invalid request, please check your server timestamp or recv_window param"
        )
    payload = req.query if req.method.upper() in ("GET", "DELETE") else req.body
    if not hmac.compare_digest(
        _sign(acc.secret, ts + acc.api_key + window + payload), h.get("X-BAPI-SIGN", "")
    ):
        raise BybitAuthError("10004", "error sign! please check your signature")
    return acc


def check_auth(args: list[Any], accounts: Mapping[str, Account], now_ms: int) -> Account:
    """The private WebSocket's `auth` op: [api_key, expires, signature]."""
    if len(args) != 3:
        raise BybitAuthError("10001", "Params Error")
    acc = accounts.get(str(args[0]))
    if acc is None:
        raise BybitAuthError("10003", "Invalid apikey")
    expires = str(args[1])
    if not expires.isdigit() or int(expires) < now_ms:
        raise BybitAuthError("10002", "Params Error: request expired")
    if not hmac.compare_digest(_sign(acc.secret, "GET/realtime" + expires), str(args[2])):
        raise BybitAuthError("10004", "Invalid sign")
    return acc


def order_json(order: SimOrder) -> dict[str, Any]:
    """An order as `GET /v5/order/realtime` and the `order` topic write it (fixture shape)."""
    tif = {"POST_ONLY": "PostOnly", "IOC": "IOC", "FOK": "FOK"}.get(order.tif, "GTC")
    return {
        "category": "linear", "symbol": order.symbol, "orderId": order.order_id, "orderLinkId": order.client_id,
        "side": "Buy" if order.side == "buy" else "Sell", "orderType": "Market" if order.type == "market" else "Limit",
        "cancelType": "CancelByUser" if order.status is Status.CANCELED else "UNKNOWN",
        "price": num(order.price, "0"), "qty": num(order.qty), "timeInForce": tif, "orderStatus": _STATUS[order.status],
        "leavesQty": num(order.leaves), "cumExecQty": num(order.filled), "cumExecValue": num(order.cum_quote),
        "cumExecFee": num(order.fee), "avgPrice": num(order.avg_px) if order.filled else "", "reduceOnly": order.reduce_only,
        "positionIdx": 0, "rejectReason": "EC_NoError", "createdTime": str(order.created_ms),
        "updatedTime": str(order.updated_ms), "feeCurrency": order.fee_ccy, "isLeverage": "", "blockTradeId": "",
        "triggerPrice": "0", "takeProfit": "0", "stopLoss": "0", "smpType": "None", "placeType": "", "tpslMode": "",
    }  # fmt: skip


def execution_json(fill: SimFill, order: SimOrder) -> dict[str, Any]:
    """One execution (the `execution` topic's fixture shape; `GET /v5/execution/list` rows alike)."""
    return {
        "category": "linear", "symbol": fill.symbol, "execFee": num(fill.fee), "execId": fill.trade_id,
        "execPrice": num(fill.price), "execQty": num(fill.qty), "execType": "Trade",
        "execValue": num(fill.price * fill.qty), "isMaker": fill.maker, "feeRate": "", "leavesQty": num(order.leaves),
        "orderId": fill.order_id, "orderLinkId": fill.client_id, "orderPrice": num(order.price, "0"),
        "orderQty": num(order.qty), "orderType": "Market" if order.type == "market" else "Limit",
        "side": "Buy" if fill.side == "buy" else "Sell", "execTime": str(fill.ts_ms), "isLeverage": "0",
        "closedSize": "", "seq": int(fill.trade_id), "markPrice": "", "blockTradeId": "",
    }  # fmt: skip
