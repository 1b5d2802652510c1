"""Kraken spot private payloads (REST v0, WebSocket v2 `executions`) and Kraken's signature checks.

Shapes follow nautilus' Kraken fixtures where they exist (`http_add_order_spot.json`,
`http_open_orders.json`, `http_trades_history.json`, `http_cancel_order_spot.json`; several are Kraken
documentation examples, so they are used for shape only). What no fixture holds — the v2 `executions`
stream, the WebSockets token answer and the ``EOrder:*``/``EAPI:*`` errors — is written from Kraken's
documentation (https://docs.kraken.com/api/) and marked "documented".

Signing (documented): ``API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce +
postdata)))``; the nonce must grow with every request of a key (``EAPI:Invalid nonce`` otherwise).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tradewright.servers._core.accounts import Account
from tradewright.servers._core.exchange import OrderRefused, SimFill, SimOrder, Status
from tradewright.servers._core.rest import RestAnswer, RestRequest
from tradewright.servers._core.text import num
from tradewright.servers.kraken.public import Pair

__all__ = [
    "KrakenAuthError",
    "NonceBook",
    "check_rest",
    "error",
    "execution",
    "ok",
    "order_id",
    "order_json",
    "refusal",
    "trade_id",
    "trade_json",
    "txid",
]

# documented error strings
_REFUSALS = {
    "unknown_symbol": "EQuery:Unknown asset pair",
    "unsupported": "EGeneral:Invalid arguments",
    "off_grid": "EGeneral:Invalid arguments:price",
    "below_min_size": "EOrder:Order minimum not met",
    "duplicate_client_order_id": "EOrder:Duplicate order",
    "insufficient_funds": "EOrder:Insufficient funds",
    "post_only_would_take": "EOrder:Post only order",
    "self_trade_prevented": "EOrder:Self trade prevention",
    "fok_not_filled": "EOrder:Trading agreement required",
    "order_not_found": "EOrder:Unknown order",
    "order_not_open": "EOrder:Unknown order",
    "would_cross": "EOrder:Post only order",
    "quantity_below_filled": "EOrder:Invalid order",
    "injected": "EOrder:Insufficient funds",
}
_STATUS = {Status.NEW: "open", Status.PARTIALLY_FILLED: "open", Status.FILLED: "closed", Status.CANCELED: "canceled",
           Status.EXPIRED: "expired", Status.REJECTED: "canceled"}  # fmt: skip
_V2_STATUS = {Status.NEW: "new", Status.PARTIALLY_FILLED: "partially_filled", Status.FILLED: "filled",
              Status.CANCELED: "canceled", Status.EXPIRED: "expired", Status.REJECTED: "canceled"}  # fmt: skip


class KrakenAuthError(Exception):
    pass


def ok(result: Any) -> RestAnswer:
    return RestAnswer.of({"error": [], "result": result})


def error(message: str, status: int = 200) -> RestAnswer:
    """Kraken's envelope (documented): HTTP 200 with ``{"error": ["EClass:Message"]}``."""
    return RestAnswer.of({"error": [message], "result": {}}, status)


def refusal(exc: OrderRefused) -> RestAnswer:
    return error(exc.venue_code or _REFUSALS.get(exc.reason, "EGeneral:Invalid arguments"))


def txid(order: SimOrder) -> str:
    """Kraken-style order id (``OXXXXX-XXXXX-XXXXXX``) for our numeric one."""
    n = int(order.order_id)
    return f"O{n:05d}-TWLOC-{n:06d}"


def order_id(text: str) -> str:
    if text.startswith("O") and "-TWLOC-" in text:
        return str(int(text.split("-")[-1]))
    return ""


def trade_id(fill: SimFill) -> str:
    n = int(fill.trade_id)
    return f"T{n:05d}-TWLOC-{n:06d}"


class NonceBook:
    """The last nonce each key used (Kraken refuses one that does not grow)."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def take(self, key: str, nonce: str) -> bool:
        if not nonce.isdigit() or int(nonce) <= self._last.get(key, 0):
            return False
        self._last[key] = int(nonce)
        return True


def check_rest(req: RestRequest, accounts: Mapping[str, Account], nonces: NonceBook) -> Account:
    acc = accounts.get(req.headers.get("API-Key", ""))
    if acc is None:
        raise KrakenAuthError("EAPI:Invalid key")
    nonce = req.params.get("nonce", "")
    if not nonce and req.body.lstrip().startswith("{"):  # batch endpoints send JSON
        nonce = str(req.json().get("nonce", ""))
    try:
        secret = base64.b64decode(acc.secret, validate=True)
    except (binascii.Error, ValueError):
        raise KrakenAuthError("EAPI:Invalid key") from None
    digest = hashlib.sha256((nonce + req.body).encode()).digest()
    expected = base64.b64encode(
        hmac.new(secret, req.path.encode() + digest, hashlib.sha512).digest()
    ).decode()
    if not hmac.compare_digest(expected, req.headers.get("API-Sign", "")):
        raise KrakenAuthError("EAPI:Invalid signature")
    if not nonces.take(acc.api_key, nonce):
        raise KrakenAuthError("EAPI:Invalid nonce")
    return acc


def order_json(order: SimOrder, pair: Pair) -> dict[str, Any]:
    """An order as OpenOrders/ClosedOrders/QueryOrders write it (fixture shape)."""
    ordertype = "market" if order.type == "market" else "limit"
    price = "0" if order.price is None else pair.px(order.price)
    row = {
        "refid": None, "userref": 0, "cl_ord_id": order.client_id or None, "status": _STATUS[order.status],
        "opentm": order.created_ms / 1000, "starttm": 0, "expiretm": 0,
        "descr": {"pair": pair.altname, "type": order.side, "ordertype": ordertype, "price": price, "price2": "0",
                  "leverage": "none", "order": f"{order.side} {pair.qty(order.qty)} {pair.altname} @ {ordertype} {price}", "close": ""},
        "vol": pair.qty(order.qty), "vol_exec": pair.qty(order.filled), "cost": num(order.cum_quote, "0"),
        "fee": num(order.fee, "0"), "price": pair.px(order.avg_px), "stopprice": "0.00000", "limitprice": "0.00000",
        "misc": "", "oflags": "fciq,post" if order.tif == "POST_ONLY" else "fciq",
    }  # fmt: skip
    if not order.is_open:
        row |= {
            "closetm": order.updated_ms / 1000,
            "reason": "User requested" if order.status is Status.CANCELED else None,
        }
    return row


def trade_json(fill: SimFill, order: SimOrder, pair: Pair) -> dict[str, Any]:
    """A TradesHistory/QueryTrades row (fixture shape)."""
    return {
        "ordertxid": txid(order), "postxid": f"P{int(fill.trade_id):05d}-TWLOC-POSTX", "pair": pair.altname,
        "time": fill.ts_ms / 1000, "type": fill.side, "ordertype": "market" if order.type == "market" else "limit",
        "price": pair.px(fill.price), "cost": num(fill.price * fill.qty), "fee": num(fill.fee), "vol": pair.qty(fill.qty),
        "margin": "0.00000", "misc": "", "trade_id": int(fill.trade_id), "maker": fill.maker,
    }  # fmt: skip


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def execution(order: SimOrder, symbol: str, exec_type: str, fill: SimFill | None) -> dict[str, Any]:
    """One `executions` row (documented v2 shape); numbers as JSON numbers."""
    row: dict[str, Any] = {
        "order_id": txid(order), "symbol": symbol, "side": order.side,
        "order_type": "market" if order.type == "market" else "limit", "order_qty": float(order.qty),
        "exec_type": exec_type, "order_status": _V2_STATUS[order.status], "cum_qty": float(order.filled),
        "cum_cost": float(order.cum_quote), "avg_price": float(order.avg_px), "timestamp": _iso(order.updated_ms),
        "order_userref": 0,
    }  # fmt: skip
    if order.client_id:
        row["cl_ord_id"] = order.client_id
    if order.price is not None:
        row["limit_price"] = float(order.price)
    if fill is not None:
        row |= {"exec_id": trade_id(fill), "trade_id": int(fill.trade_id), "last_qty": float(fill.qty),
                "last_price": float(fill.price), "liquidity_ind": "m" if fill.maker else "t", "cost": float(fill.price * fill.qty),
                "fees": [{"asset": fill.fee_ccy, "qty": float(fill.fee)}], "timestamp": _iso(fill.ts_ms)}  # fmt: skip
    return row
