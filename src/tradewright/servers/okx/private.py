"""OKX v5 private REST and WebSocket payloads, and the signature checks OKX makes.

Shapes follow the nautilus fixtures where they exist (`ws_orders.json`, `http_get_orders_pending.json`,
`http_get_account_balance.json`, `http_get_positions.json`, `http_get_trade_fee_response.json`). What no
fixture holds — the place/cancel/amend answers, the fills list, the login answer and every error
envelope — is written from OKX's API v5 documentation (https://www.okx.com/docs-v5/en/) and marked
"documented" below.

Signing (documented): REST ``OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD +
path[?query] + body))`` with ``OK-ACCESS-TIMESTAMP`` ISO-8601 in milliseconds; WebSocket login signs
``timestamp + "GET" + "/users/self/verify"`` with the timestamp in Unix seconds. Both timestamps must be
within 30 s of the server's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from tradewright.servers._core.accounts import ZERO, Account, MarketKind, SimMarket
from tradewright.servers._core.exchange import OrderRefused, SimFill, SimOrder, Status
from tradewright.servers._core.rest import RestAnswer, RestRequest
from tradewright.servers._core.text import num

__all__ = [
    "OkxAuthError",
    "balance_details",
    "check_login",
    "check_rest_signature",
    "error",
    "fill_json",
    "op_result",
    "order_json",
    "position_json",
    "refusal_code",
]

_SKEW_MS = 30_000

# documented: OKX error codes (https://www.okx.com/docs-v5/en/#error-code)
_REFUSALS = {
    "unknown_symbol": ("51001", "Instrument ID does not exist."),
    "unsupported": ("51000", "Parameter ordType error"),
    "off_grid": ("51121", "Order quantity must be a multiple of the lot size."),
    "below_min_size": ("51020", "Your order should meet or exceed the minimum order amount."),
    "duplicate_client_order_id": ("51016", "Duplicated clOrdId"),
    "insufficient_funds": ("51008", "Order failed. Insufficient balance."),
    "post_only_would_take": ("51019", "Post only order will take liquidity and is canceled."),
    "self_trade_prevented": ("51007", "Order failed. Self-trade prevention."),
    "fok_not_filled": ("51009", "Order failed. FOK order could not be filled completely."),
    "order_not_found": ("51603", "Order does not exist"),
    "would_cross": ("51510", "The order cannot be amended: it would take liquidity."),
    "quantity_below_filled": ("51506", "New order size cannot be smaller than the filled size."),
    "injected": ("51008", "Order failed. Insufficient balance."),
}
_STATE = {
    Status.NEW: "live",
    Status.PARTIALLY_FILLED: "partially_filled",
    Status.FILLED: "filled",
    Status.CANCELED: "canceled",
    Status.EXPIRED: "canceled",
    Status.REJECTED: "canceled",
}


class OkxAuthError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def error(code: str, msg: str, status: int = 200) -> RestAnswer:
    """OKX's error envelope (documented): ``{"code": "...", "msg": "...", "data": []}``."""
    return RestAnswer.of({"code": code, "msg": msg, "data": []}, status)


def refusal_code(exc: OrderRefused, action: str) -> tuple[str, str]:
    if exc.venue_code:
        return exc.venue_code, exc.message
    if action == "cancel" and exc.reason in ("order_not_open", "order_not_found"):
        return "51400", "Order cancellation failed as the order has been filled, canceled or does not exist."
    if action == "amend" and exc.reason in ("order_not_open", "order_not_found"):
        return "51503", "Order modification failed as the order has been filled, canceled or does not exist."
    return _REFUSALS.get(exc.reason, ("51000", exc.message))


def op_result(items: list[dict[str, Any]], now_ms: int) -> RestAnswer:
    """The answer to place/cancel/amend (documented): code 0 all fine, 1 all failed, 2 some failed."""
    failed = sum(1 for it in items if it["sCode"] != "0")
    code = "0" if not failed else "1" if failed == len(items) else "2"
    msg = (
        ""
        if not failed
        else "All operations failed"
        if code == "1"
        else "Batch operation partially succeeded"
    )
    return RestAnswer.of(
        {"code": code, "msg": msg, "data": items, "inTime": str(now_ms * 1000), "outTime": str(now_ms * 1000)}
    )


def _sign(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def check_rest_signature(req: RestRequest, accounts: Mapping[str, Account], now_ms: int) -> Account:
    """The account a signed request belongs to, or `OkxAuthError` with OKX's code."""
    h = req.headers
    key = h.get("OK-ACCESS-KEY", "")
    if not key:
        raise OkxAuthError("50103", "Request header OK-ACCESS-KEY cannot be empty.")
    acc = accounts.get(key)
    if acc is None:
        raise OkxAuthError("50111", "Invalid OK-ACCESS-KEY.")
    if h.get("OK-ACCESS-PASSPHRASE", "") != acc.passphrase:
        raise OkxAuthError("50105", "Invalid OK-ACCESS-PASSPHRASE.")
    ts = h.get("OK-ACCESS-TIMESTAMP", "")
    try:
        sent_ms = int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise OkxAuthError("50112", "Invalid OK-ACCESS-TIMESTAMP.") from None
    if abs(now_ms - sent_ms) > _SKEW_MS:
        raise OkxAuthError("50102", "Timestamp request expired.")
    expected = _sign(acc.secret, ts + req.method.upper() + req.path_and_query + req.body)
    if not hmac.compare_digest(expected, h.get("OK-ACCESS-SIGN", "")):
        raise OkxAuthError("50113", "Invalid Sign.")
    return acc


def check_login(arg: Mapping[str, Any], accounts: Mapping[str, Account], now_ms: int) -> Account:
    """The account of a WebSocket ``login`` op (documented), or `OkxAuthError` (60xxx codes)."""
    acc = accounts.get(str(arg.get("apiKey", "")))
    if acc is None:
        raise OkxAuthError("60005", "Invalid OK-ACCESS-KEY.")
    if str(arg.get("passphrase", "")) != acc.passphrase:
        raise OkxAuthError("60024", "Wrong passphrase.")
    ts = str(arg.get("timestamp", ""))
    try:
        sent_ms = int(Decimal(ts) * 1000)
    except ArithmeticError:
        raise OkxAuthError("60006", "Timestamp request expired.") from None
    if abs(now_ms - sent_ms) > _SKEW_MS:
        raise OkxAuthError("60006", "Timestamp request expired.")
    if not hmac.compare_digest(_sign(acc.secret, ts + "GET/users/self/verify"), str(arg.get("sign", ""))):
        raise OkxAuthError("60007", "Invalid sign.")
    return acc


def _inst_type(market: SimMarket) -> str:
    return "SPOT" if market.kind is MarketKind.SPOT else "SWAP"


def order_json(order: SimOrder, market: SimMarket, fill: SimFill | None = None) -> dict[str, Any]:
    """An order as OKX writes it (fixture shape); the fill fields describe `fill` when given."""
    ord_type = {"POST_ONLY": "post_only", "IOC": "ioc", "FOK": "fok"}.get(order.tif, "limit")
    return {
        "accFillSz": num(order.filled),
        "algoClOrdId": "",
        "algoId": "",
        "avgPx": num(order.avg_px) if order.filled else "",
        "cTime": str(order.created_ms),
        "cancelSource": "1" if order.status is Status.CANCELED and order.cancel_source == "user" else "",
        "category": "normal",
        "ccy": "",
        "clOrdId": order.client_id,
        "execType": "" if fill is None else ("M" if fill.maker else "T"),
        "fee": num(-order.fee),
        "feeCcy": order.fee_ccy,
        "fillFee": "0" if fill is None else num(-fill.fee),
        "fillFeeCcy": "" if fill is None else fill.fee_ccy,
        "fillPx": "" if fill is None else num(fill.price),
        "fillSz": "0" if fill is None else num(fill.qty),
        "fillTime": "" if fill is None else str(fill.ts_ms),
        "instId": order.symbol,
        "instType": _inst_type(market),
        "lever": "",
        "ordId": order.order_id,
        "ordType": "market" if order.type == "market" else ord_type,
        "pnl": "0",
        "posSide": "net",
        "px": num(order.price),
        "rebate": "0",
        "rebateCcy": order.fee_ccy,
        "reduceOnly": "true" if order.reduce_only else "false",
        "side": order.side,
        "source": "",
        "state": _STATE[order.status],
        "sz": num(order.qty),
        "tag": "",
        "tdMode": "cash" if market.kind is MarketKind.SPOT else "cross",
        "tgtCcy": "",
        "tradeId": "" if fill is None else fill.trade_id,
        "uTime": str(order.updated_ms),
    }


def fill_json(fill: SimFill, market: SimMarket) -> dict[str, Any]:
    """A row of GET /api/v5/trade/fills (documented)."""
    return {
        "instType": _inst_type(market),
        "instId": fill.symbol,
        "tradeId": fill.trade_id,
        "ordId": fill.order_id,
        "clOrdId": fill.client_id,
        "billId": fill.trade_id,
        "tag": "",
        "fillPx": num(fill.price),
        "fillSz": num(fill.qty),
        "side": fill.side,
        "posSide": "net",
        "execType": "M" if fill.maker else "T",
        "feeCcy": fill.fee_ccy,
        "fee": num(-fill.fee),
        "ts": str(fill.ts_ms),
        "fillTime": str(fill.ts_ms),
    }


def balance_details(acc: Account, now_ms: int) -> dict[str, Any]:
    """GET /api/v5/account/balance's data row (fixture shape, the fields a client reads)."""
    details = []
    for ccy, bal in sorted(acc.balances.items()):
        details.append(
            {
                "ccy": ccy, "eq": num(bal.total), "cashBal": num(bal.total), "availBal": num(bal.free),
                "availEq": num(bal.free), "frozenBal": num(bal.locked), "ordFrozen": num(bal.locked),
                "upl": "0", "uTime": str(now_ms),
            }
        )  # fmt: skip
    return {"details": details, "totalEq": "", "uTime": str(now_ms), "adjEq": "", "imr": "", "mmr": ""}


def position_json(symbol: str, acc: Account, market: SimMarket, mark: Decimal | None) -> dict[str, Any]:
    """A row of GET /api/v5/account/positions (fixture shape; net mode)."""
    pos = acc.position(symbol)
    upl = (
        ZERO
        if mark is None or not pos.qty
        else (mark - pos.entry_px) * pos.qty * market.instrument.multiplier
    )
    return {
        "instId": symbol, "instType": "SWAP", "mgnMode": "cross", "posId": symbol, "posSide": "net",
        "pos": num(pos.qty), "ccy": market.settle, "avgPx": num(pos.entry_px), "upl": num(upl),
        "lever": str(acc.leverage), "liqPx": "", "markPx": num(mark), "realizedPnl": num(pos.realized),
        "uTime": str(pos.updated_ms), "cTime": str(pos.updated_ms),
    }  # fmt: skip
