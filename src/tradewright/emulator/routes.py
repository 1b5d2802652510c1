"""Which path (REST) or method (WebSocket API) runs which operation, with its security and weight."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tradewright.emulator.endpoints import Endpoints, Params

__all__ = ["Route", "Security", "rest_routes", "ws_api_routes"]

Handler = Callable[[str | None, Params], Awaitable[Any]]
Weight = Callable[[Params], int]


class Security(enum.Enum):
    NONE = "NONE"
    API_KEY = "USER_STREAM"  # X-MBX-APIKEY only
    SIGNED = "SIGNED"  # TRADE / USER_DATA: key, timestamp, signature


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    security: Security = Security.NONE
    weight: Weight = lambda p: 1
    is_order: bool = False  # counts against the order-rate limits


def _const(n: int) -> Weight:
    return lambda p: n


def _limit(p: Params) -> int:
    try:
        return int(str(p.get("limit") or 0))
    except ValueError:
        return 0


def _spot_depth_weight(p: Params) -> int:
    limit = _limit(p) or 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _futures_depth_weight(p: Params) -> int:
    limit = _limit(p) or 500
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


def _open_orders_weight(futures: bool) -> Weight:
    with_symbol, without = (1, 40) if futures else (6, 80)
    return lambda p: with_symbol if p.get("symbol") else without


def rest_routes(e: Endpoints) -> dict[tuple[str, str], Route]:
    """(HTTP method, path) -> route, for the emulated API only (spot or USD-M)."""
    S, K = Security.SIGNED, Security.API_KEY
    if not e.spec.futures:
        v3 = "/api/v3"
        return {
            ("GET", f"{v3}/ping"): Route(e.ping),
            ("GET", f"{v3}/time"): Route(e.time),
            ("GET", f"{v3}/exchangeInfo"): Route(e.exchange_info, weight=_const(20)),
            ("GET", f"{v3}/depth"): Route(e.depth, weight=_spot_depth_weight),
            ("GET", f"{v3}/trades"): Route(e.trades, weight=_const(25)),
            ("GET", f"{v3}/aggTrades"): Route(e.agg_trades, weight=_const(4)),
            ("GET", f"{v3}/klines"): Route(e.klines, weight=_const(2)),
            ("GET", f"{v3}/ticker/bookTicker"): Route(e.book_ticker, weight=_const(2)),
            ("GET", f"{v3}/ticker/price"): Route(e.ticker_price, weight=_const(2)),
            ("GET", f"{v3}/ticker/24hr"): Route(e.ticker_24hr, weight=_const(2)),
            ("POST", f"{v3}/order"): Route(e.new_order, S, is_order=True),
            ("GET", f"{v3}/order"): Route(e.query_order, S, _const(4)),
            ("DELETE", f"{v3}/order"): Route(e.cancel_order, S),
            ("GET", f"{v3}/openOrders"): Route(e.open_orders, S, _open_orders_weight(False)),
            ("DELETE", f"{v3}/openOrders"): Route(e.cancel_open_orders, S),
            ("GET", f"{v3}/allOrders"): Route(e.all_orders, S, _const(20)),
            ("GET", f"{v3}/myTrades"): Route(e.my_trades, S, _const(20)),
            ("GET", f"{v3}/account"): Route(e.spot_account, S, _const(20)),
            ("POST", f"{v3}/userDataStream"): Route(e.listen_key_create, K, _const(2)),
            ("PUT", f"{v3}/userDataStream"): Route(e.listen_key_keepalive, K, _const(2)),
            ("DELETE", f"{v3}/userDataStream"): Route(e.listen_key_close, K, _const(2)),
        }
    v1, v2, v3 = "/fapi/v1", "/fapi/v2", "/fapi/v3"
    return {
        ("GET", f"{v1}/ping"): Route(e.ping),
        ("GET", f"{v1}/time"): Route(e.time),
        ("GET", f"{v1}/exchangeInfo"): Route(e.exchange_info),
        ("GET", f"{v1}/depth"): Route(e.depth, weight=_futures_depth_weight),
        ("GET", f"{v1}/trades"): Route(e.trades, weight=_const(5)),
        ("GET", f"{v1}/aggTrades"): Route(e.agg_trades, weight=_const(20)),
        ("GET", f"{v1}/klines"): Route(e.klines, weight=_const(2)),
        ("GET", f"{v1}/ticker/bookTicker"): Route(e.book_ticker, weight=_const(2)),
        ("GET", f"{v1}/ticker/price"): Route(e.ticker_price),
        ("GET", f"{v2}/ticker/price"): Route(e.ticker_price),
        ("GET", f"{v1}/ticker/24hr"): Route(e.ticker_24hr),
        ("POST", f"{v1}/order"): Route(e.new_order, S, _const(0), is_order=True),
        ("GET", f"{v1}/order"): Route(e.query_order, S),
        ("DELETE", f"{v1}/order"): Route(e.cancel_order, S),
        # Modify Order: 1 on the order-count limits, 0 on the IP weight
        ("PUT", f"{v1}/order"): Route(e.modify_order, S, _const(0), is_order=True),
        ("GET", f"{v1}/openOrder"): Route(e.open_order, S),
        ("GET", f"{v1}/openOrders"): Route(e.open_orders, S, _open_orders_weight(True)),
        ("DELETE", f"{v1}/allOpenOrders"): Route(e.cancel_all_futures, S),
        ("POST", f"{v1}/batchOrders"): Route(e.batch_orders, S, _const(5), is_order=True),
        ("DELETE", f"{v1}/batchOrders"): Route(e.batch_cancel, S),
        ("GET", f"{v1}/allOrders"): Route(e.all_orders, S, _const(5)),
        ("GET", f"{v1}/userTrades"): Route(e.my_trades, S, _const(5)),
        ("GET", f"{v2}/account"): Route(e.futures_account_v2, S, _const(5)),
        ("GET", f"{v3}/account"): Route(e.futures_account, S, _const(5)),
        ("GET", f"{v2}/balance"): Route(e.futures_balance, S, _const(5)),
        ("GET", f"{v3}/balance"): Route(e.futures_balance, S, _const(5)),
        ("GET", f"{v2}/positionRisk"): Route(e.position_risk_v2, S, _const(5)),
        ("GET", f"{v3}/positionRisk"): Route(e.position_risk, S, _const(5)),
        ("GET", f"{v1}/leverageBracket"): Route(e.leverage_bracket, S),
        ("POST", f"{v1}/leverage"): Route(e.set_leverage, S),
        ("GET", f"{v1}/positionSide/dual"): Route(e.position_side, S, _const(30)),
        ("GET", f"{v1}/commissionRate"): Route(e.commission_rate, S, _const(20)),
        ("POST", f"{v1}/listenKey"): Route(e.listen_key_create, K),
        ("PUT", f"{v1}/listenKey"): Route(e.listen_key_keepalive, K),
        ("DELETE", f"{v1}/listenKey"): Route(e.listen_key_close, K),
    }


def ws_api_routes(e: Endpoints) -> dict[str, Route]:
    """WebSocket API method -> route (the user-data subscription methods are handled by the session)."""
    S, K = Security.SIGNED, Security.API_KEY
    common = {
        "ping": Route(e.ping),
        "time": Route(e.time),
        "exchangeInfo": Route(e.exchange_info, weight=_const(20)),
        "depth": Route(e.depth, weight=_spot_depth_weight if not e.spec.futures else _futures_depth_weight),
        "ticker.book": Route(e.book_ticker, weight=_const(2)),
        "ticker.price": Route(e.ticker_price, weight=_const(2)),
        "order.place": Route(e.new_order, S, is_order=True),
        "order.status": Route(e.query_order, S, _const(4)),
        "order.cancel": Route(e.cancel_order, S),
        "openOrders.status": Route(e.open_orders, S, _open_orders_weight(e.spec.futures)),
        "userDataStream.start": Route(e.listen_key_create, K, _const(2)),
        "userDataStream.ping": Route(e.listen_key_keepalive, K, _const(2)),
        "userDataStream.stop": Route(e.listen_key_close, K, _const(2)),
    }
    if not e.spec.futures:
        return common | {
            "trades.recent": Route(e.trades, weight=_const(25)),
            "klines": Route(e.klines, weight=_const(2)),
            "openOrders.cancelAll": Route(e.cancel_open_orders, S),
            "allOrders": Route(e.all_orders, S, _const(20)),
            "myTrades": Route(e.my_trades, S, _const(20)),
            "account.status": Route(e.spot_account, S, _const(20)),
        }
    return common | {
        "account.status": Route(e.futures_account_v2, S, _const(5)),
        "v2/account.status": Route(e.futures_account, S, _const(5)),
        "account.balance": Route(e.futures_balance, S, _const(5)),
        "v2/account.balance": Route(e.futures_balance, S, _const(5)),
        "account.position": Route(e.position_risk_v2, S, _const(5)),
        "v2/account.position": Route(e.position_risk, S, _const(5)),
    }
