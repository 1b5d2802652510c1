"""Bitget v2 spot private payloads and Bitget's signature checks.

No recording or fixture holds any Bitget private payload: every shape here is written from Bitget's
API v2 documentation (https://www.bitget.com/api-doc/spot/, "Trade" and the private WebSocket's
`orders` / `fill` channels) and is therefore "documented", not recorded.

Signing (documented): REST ``ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + path
[+ "?" + query] + body))``, ``ACCESS-TIMESTAMP`` in ms within 30 s, ``ACCESS-PASSPHRASE`` checked;
WebSocket ``login`` signs ``timestamp + "GET" + "/user/verify"`` (timestamp in seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from tradewright.servers._core.accounts import Account
from tradewright.servers._core.exchange import OrderRefused, SimFill, SimOrder, Status
from tradewright.servers._core.rest import RestAnswer, RestRequest
from tradewright.servers._core.text import num

__all__ = [
    "BitgetAuthError",
    "check_login",
    "check_rest",
    "envelope",
    "error",
    "fill_json",
    "order_json",
    "refusal",
]

_WINDOW_MS = 30_000
_REFUSALS = {
    "unknown_symbol": ("40034", "Parameter symbol does not exist"),
    "unsupported": ("40017", "Parameter verification failed"),
    "off_grid": ("40808", "Parameter verification exception size checkScale error"),
    "below_min_size": ("45110", "less than the minimum order quantity"),
    "duplicate_client_order_id": ("43122", "Duplicate clientOid"),
    "insufficient_funds": ("43012", "Insufficient balance"),
    "post_only_would_take": ("43009", "The post-only order would match immediately"),
    "self_trade_prevented": ("43010", "Self-trade prevention"),
    "fok_not_filled": ("43011", "The FOK order could not be filled completely"),
    "order_not_found": ("43001", "The order does not exist"),
    "order_not_open": ("43001", "The order does not exist"),
    "injected": ("43012", "Insufficient balance"),
}
_STATUS = {Status.NEW: "live", Status.PARTIALLY_FILLED: "partially_filled", Status.FILLED: "filled",
           Status.CANCELED: "cancelled", Status.EXPIRED: "cancelled", Status.REJECTED: "cancelled"}  # fmt: skip


class BitgetAuthError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def envelope(data: Any, now_ms: int) -> RestAnswer:
    return RestAnswer.of({"code": "00000", "msg": "success", "requestTime": now_ms, "data": data})


def error(code: str, msg: str, now_ms: int, status: int = 400) -> RestAnswer:
    """Bitget's error envelope (documented): HTTP 400 with ``{"code", "msg", "requestTime", "data": null}``."""
    return RestAnswer.of({"code": code, "msg": msg, "requestTime": now_ms, "data": None}, status)


def refusal(exc: OrderRefused, now_ms: int) -> RestAnswer:
    code, msg = (
        (exc.venue_code, exc.message) if exc.venue_code else _REFUSALS.get(exc.reason, ("40017", exc.message))
    )
    return error(code, msg, now_ms)


def _sign(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def check_rest(req: RestRequest, accounts: Mapping[str, Account], now_ms: int) -> Account:
    h = req.headers
    acc = accounts.get(h.get("ACCESS-KEY", ""))
    if acc is None:
        raise BitgetAuthError("40037", "Apikey does not exist")
    if h.get("ACCESS-PASSPHRASE", "") != acc.passphrase:
        raise BitgetAuthError("40012", "apikey/password is incorrect")
    ts = h.get("ACCESS-TIMESTAMP", "")
    if not ts.isdigit() or abs(now_ms - int(ts)) > _WINDOW_MS:
        raise BitgetAuthError("40008", "Request timestamp expired")
    text = ts + req.method.upper() + req.path + (f"?{unquote(req.query)}" if req.query else "") + req.body
    if not hmac.compare_digest(_sign(acc.secret, text), h.get("ACCESS-SIGN", "")):
        raise BitgetAuthError("40009", "sign signature error")
    return acc


def check_login(arg: Mapping[str, Any], accounts: Mapping[str, Account], now_ms: int) -> Account:
    acc = accounts.get(str(arg.get("apiKey", "")))
    if acc is None:
        raise BitgetAuthError("30011", "Invalid ACCESS_KEY")
    if str(arg.get("passphrase", "")) != acc.passphrase:
        raise BitgetAuthError("30012", "Invalid ACCESS_PASSPHRASE")
    ts = str(arg.get("timestamp", ""))
    if not ts.isdigit() or abs(now_ms - int(ts) * 1000) > _WINDOW_MS:
        raise BitgetAuthError("30008", "Request timestamp expired")
    if not hmac.compare_digest(_sign(acc.secret, ts + "GET/user/verify"), str(arg.get("sign", ""))):
        raise BitgetAuthError("30015", "Invalid sign")
    return acc


def order_json(order: SimOrder) -> dict[str, Any]:
    """A spot order (REST `orderInfo`/`unfilled-orders` rows; documented)."""
    force = {"POST_ONLY": "post_only", "IOC": "ioc", "FOK": "fok"}.get(order.tif, "gtc")
    return {
        "userId": "1", "symbol": order.symbol, "orderId": order.order_id, "clientOid": order.client_id,
        "price": num(order.price, "0"), "size": num(order.qty), "orderType": order.type, "side": order.side,
        "status": _STATUS[order.status], "priceAvg": num(order.avg_px), "baseVolume": num(order.filled),
        "quoteVolume": num(order.cum_quote), "enterPointSource": "API", "force": force,
        "cTime": str(order.created_ms), "uTime": str(order.updated_ms), "orderSource": "normal",
        "feeDetail": "",
    }  # fmt: skip


def push_json(order: SimOrder, fill: SimFill | None) -> dict[str, Any]:
    """The `orders` channel's row (documented): the order, and the fill that caused the push if any."""
    row = order_json(order) | {
        "instId": order.symbol,
        "notional": num(order.cum_quote),
        "accBaseVolume": num(order.filled),
    }
    if fill is not None:
        row |= {"fillPrice": num(fill.price), "tradeId": fill.trade_id, "baseVolume": num(fill.qty), "fillTime": str(fill.ts_ms),
                "fillFee": num(-fill.fee), "fillFeeCoin": fill.fee_ccy, "tradeScope": "maker" if fill.maker else "taker"}  # fmt: skip
    return row


def fill_json(fill: SimFill) -> dict[str, Any]:
    """A row of `GET /api/v2/spot/trade/fills` and of the `fill` channel (documented)."""
    return {
        "userId": "1", "symbol": fill.symbol, "orderId": fill.order_id, "tradeId": fill.trade_id, "orderType": "limit",
        "side": fill.side, "priceAvg": num(fill.price), "size": num(fill.qty), "amount": num(fill.price * fill.qty),
        "feeDetail": {"deduction": "no", "feeCoin": fill.fee_ccy, "totalDeductionFee": "0", "totalFee": num(-fill.fee)},
        "tradeScope": "maker" if fill.maker else "taker", "cTime": str(fill.ts_ms), "uTime": str(fill.ts_ms),
    }  # fmt: skip
