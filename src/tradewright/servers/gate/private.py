"""Gate v4 futures private payloads and Gate's signature checks.

The recording holds no private data at all: every shape here is written from Gate's API v4
documentation (https://www.gate.com/docs/developers/apiv4/, "Futures" and the futures WebSocket's
`futures.orders` / `futures.usertrades` channels) and marked "documented".

Signing (documented): REST ``SIGN = hex(HMAC-SHA512(secret, METHOD \\n /api/v4/path \\n query \\n
hex(SHA512(body)) \\n timestamp))`` with headers ``KEY``, ``Timestamp`` (seconds, within 60 s);
WebSocket private channels carry ``auth = {method: api_key, KEY, SIGN}`` with ``SIGN =
hex(HMAC-SHA512(secret, "channel=<c>&event=<e>&time=<t>"))``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from tradewright.servers._core.accounts import Account, SimMarket
from tradewright.servers._core.exchange import OrderRefused, SimFill, SimOrder, Status
from tradewright.servers._core.rest import RestAnswer, RestRequest
from tradewright.servers._core.text import num

__all__ = [
    "GateAuthError",
    "account_json",
    "check_rest",
    "check_ws",
    "error",
    "order_json",
    "refusal",
    "trade_json",
]

_WINDOW_S = 60
# documented labels (https://www.gate.com/docs/developers/apiv4/#label-list)
_REFUSALS = {
    "unknown_symbol": (400, "CONTRACT_NOT_FOUND", "Contract not found"),
    "unsupported": (400, "INVALID_PARAM_VALUE", "Invalid parameter value"),
    "off_grid": (400, "INVALID_PARAM_VALUE", "Invalid order price or size"),
    "below_min_size": (400, "ORDER_SIZE_TOO_SMALL", "Order size too small"),
    "duplicate_client_order_id": (400, "DUPLICATE_REQUEST", "Duplicated request"),
    "insufficient_funds": (400, "INSUFFICIENT_AVAILABLE", "Insufficient available balance"),
    "post_only_would_take": (400, "ORDER_POC_IMMEDIATE", "Order would match and take liquidity"),
    "self_trade_prevented": (400, "STP_CANCELLED", "Order cancelled by self-trade prevention"),
    "fok_not_filled": (400, "ORDER_FOK", "Fill-or-kill order not filled"),
    "order_not_found": (404, "ORDER_NOT_FOUND", "Order not found"),
    "order_not_open": (400, "ORDER_FINISHED", "Order finished"),
    "would_cross": (400, "ORDER_POC_IMMEDIATE", "Amended order would take liquidity"),
    "quantity_below_filled": (400, "INVALID_PARAM_VALUE", "New size is below the filled size"),
    "injected": (400, "INSUFFICIENT_AVAILABLE", "Insufficient available balance"),
}


class GateAuthError(Exception):
    def __init__(self, label: str, message: str) -> None:
        super().__init__(message)
        self.label = label
        self.message = message


def error(status: int, label: str, message: str) -> RestAnswer:
    """Gate's error envelope (documented): ``{"label": "...", "message": "..."}``."""
    return RestAnswer.of({"label": label, "message": message}, status)


def refusal(exc: OrderRefused) -> RestAnswer:
    if exc.venue_code:
        return error(400, exc.venue_code, exc.message)
    status, label, message = _REFUSALS.get(exc.reason, (400, "INVALID_PARAM_VALUE", exc.message))
    return error(status, label, message)


def _hmac(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()


def check_rest(req: RestRequest, accounts: Mapping[str, Account], now_s: float) -> Account:
    key = req.headers.get("KEY", "")
    acc = accounts.get(key)
    if acc is None:
        raise GateAuthError("INVALID_KEY", "Invalid key provided")
    ts = req.headers.get("Timestamp", "")
    if not ts.isdigit() or abs(now_s - int(ts)) > _WINDOW_S:
        raise GateAuthError("REQUEST_EXPIRED", "Request timestamp expired")
    body_hash = hashlib.sha512(req.body.encode()).hexdigest()
    payload = "\n".join([req.method.upper(), req.path, unquote(req.query), body_hash, ts])
    if not hmac.compare_digest(_hmac(acc.secret, payload), req.headers.get("SIGN", "")):
        raise GateAuthError("INVALID_SIGNATURE", "Signature mismatch")
    return acc


def check_ws(msg: Mapping[str, Any], accounts: Mapping[str, Account]) -> Account:
    auth = msg.get("auth") or {}
    acc = accounts.get(str(auth.get("KEY", "")))
    if acc is None:
        raise GateAuthError("INVALID_KEY", "Invalid key provided")
    text = f"channel={msg.get('channel')}&event={msg.get('event')}&time={msg.get('time')}"
    if not hmac.compare_digest(_hmac(acc.secret, text), str(auth.get("SIGN", ""))):
        raise GateAuthError("INVALID_SIGNATURE", "Signature mismatch")
    return acc


_FINISH = {
    Status.FILLED: "filled",
    Status.CANCELED: "cancelled",
    Status.EXPIRED: "ioc",
    Status.REJECTED: "cancelled",
}


def _signed(order: SimOrder, qty: Decimal) -> str:
    return num(qty if order.side == "buy" else -qty)


def order_json(order: SimOrder, market: SimMarket) -> dict[str, Any]:
    """A futures order (documented), sizes in contracts, signed (sell < 0), as strings
    (the client sends ``X-Gate-Size-Decimal: 1``)."""
    tif = {"POST_ONLY": "poc", "IOC": "ioc", "FOK": "fok"}.get(order.tif, "gtc")
    return {
        "id": int(order.order_id),
        "user": 1,
        "create_time": order.created_ms / 1000,
        "update_time": order.updated_ms / 1000,
        "finish_time": order.updated_ms / 1000 if not order.is_open else None,
        "finish_as": _FINISH.get(order.status, "_new") if not order.is_open else None,
        "status": "open" if order.is_open else "finished",
        "contract": order.symbol,
        "size": _signed(order, order.qty),
        "left": _signed(order, order.qty - order.filled),
        "price": "0" if order.price is None else num(order.price),
        "fill_price": num(order.avg_px),
        "tif": "ioc" if order.type == "market" else tif,
        "iceberg": "0",
        "is_reduce_only": order.reduce_only,
        "is_close": False,
        "is_liq": False,
        "text": order.client_id or "api",
        "tkfr": num(market.instrument.taker_fee),
        "mkfr": num(market.instrument.maker_fee),
        "refu": 0,
        "stp_act": "-",
        "amend_text": "-",
    }


def trade_json(fill: SimFill) -> dict[str, Any]:
    """A row of GET /futures/usdt/my_trades and a `futures.usertrades` push (documented)."""
    return {
        "id": int(fill.trade_id),
        "create_time": fill.ts_ms / 1000,
        "create_time_ms": fill.ts_ms,
        "contract": fill.symbol,
        "order_id": fill.order_id,
        "size": num(fill.qty if fill.side == "buy" else -fill.qty),
        "price": num(fill.price),
        "role": "maker" if fill.maker else "taker",
        "text": fill.client_id or "api",
        "fee": num(fill.fee),
        "point_fee": "0",
    }


def account_json(
    acc: Account, settle: str, order_margin: Decimal, position_margin: Decimal
) -> dict[str, Any]:
    """GET /futures/usdt/accounts (documented)."""
    total = acc.balance(settle).total
    return {
        "total": num(total), "unrealised_pnl": "0", "position_margin": num(position_margin),
        "order_margin": num(order_margin), "available": num(total - order_margin - position_margin),
        "point": "0", "currency": settle, "in_dual_mode": False, "enable_credit": False,
        "position_initial_margin": num(position_margin), "maintenance_margin": "0", "bonus": "0",
    }  # fmt: skip
