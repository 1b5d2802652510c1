"""The API's operations, shared by REST and the WebSocket API: parameters in, Binance's JSON out."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from tradewright.emulator import payloads as P
from tradewright.emulator import views
from tradewright.emulator.errors import BinanceError
from tradewright.emulator.exchange import Exchange
from tradewright.emulator.exchange_info import exchange_info
from tradewright.emulator.filters import check_market_filters
from tradewright.emulator.grammar import json_value
from tradewright.emulator.ratelimit import RateLimitConfig
from tradewright.emulator.records import EmOrder
from tradewright.emulator.requests import (
    OrderRequest,
    int_param,
    limit_param,
    new_client_order_id,
    parse_modify,
    parse_new_order,
    symbol_param,
)

__all__ = ["Endpoints", "Params"]

Params = Mapping[str, Any]
_SPOT_DEPTH_LIMITS = range(1, 5001)
_FUTURES_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
_LISTEN_KEY_TTL_MS = 60 * 60 * 1000


class Endpoints:
    """Each method takes (api key or None, params) and returns the JSON-ready answer."""

    def __init__(self, ex: Exchange, limits: RateLimitConfig, wall_ms: Callable[[], int]) -> None:
        self.ex = ex
        self.spec = ex.spec
        self.errors = ex.errors
        self.limits = limits
        self.wall_ms = wall_ms

    # --- public market data ------------------------------------------------------------------------
    async def ping(self, key: str | None, p: Params) -> Any:
        return {}

    async def time(self, key: str | None, p: Params) -> Any:
        return {"serverTime": self.wall_ms()}

    async def exchange_info(self, key: str | None, p: Params) -> Any:
        symbol_param(p, self.spec, self.errors, required=False)
        return exchange_info(self.spec, self.limits, self.wall_ms())

    def depth_limit(self, p: Params) -> int:
        limit = int_param(p, "limit", self.errors)
        if self.spec.futures:
            limit = 500 if limit is None else limit
            if limit not in _FUTURES_DEPTH_LIMITS:
                raise BinanceError(-4021, f"'{limit}' is not valid depth limit.")
            return limit
        limit = 100 if limit is None else limit
        if limit not in _SPOT_DEPTH_LIMITS:
            raise self.errors.invalid_value("limit")
        return limit

    async def depth(self, key: str | None, p: Params) -> Any:
        symbol_param(p, self.spec, self.errors, required=True)
        return self.ex.market.depth(self.depth_limit(p), self.ex.venue_ms())

    async def trades(self, key: str | None, p: Params) -> Any:
        symbol_param(p, self.spec, self.errors, required=True)
        return views.recent_trades(self.ex.market, limit_param(p, self.errors, 500, 1000))

    async def agg_trades(self, key: str | None, p: Params) -> Any:
        symbol_param(p, self.spec, self.errors, required=True)
        return views.agg_trades(
            self.ex.market,
            limit_param(p, self.errors, 500, 1000),
            int_param(p, "fromId", self.errors),
            int_param(p, "startTime", self.errors),
            int_param(p, "endTime", self.errors),
        )

    async def klines(self, key: str | None, p: Params) -> Any:
        symbol_param(p, self.spec, self.errors, required=True)
        interval = p.get("interval")
        if interval is None or interval == "":
            raise self.errors.mandatory("interval")
        return views.klines(
            self.ex.market,
            str(interval),
            int_param(p, "startTime", self.errors),
            int_param(p, "endTime", self.errors),
            limit_param(p, self.errors, 500, 1500 if self.spec.futures else 1000),
            self.errors,
        )

    def _maybe_list(self, p: Params, value: dict[str, Any]) -> Any:
        return value if symbol_param(p, self.spec, self.errors, required=False) else [value]

    async def book_ticker(self, key: str | None, p: Params) -> Any:
        return self._maybe_list(p, views.book_ticker(self.ex.market, self.ex.venue_ms()))

    async def ticker_price(self, key: str | None, p: Params) -> Any:
        return self._maybe_list(p, views.ticker_price(self.ex.market, self.ex.venue_ms()))

    async def ticker_24hr(self, key: str | None, p: Params) -> Any:
        return self._maybe_list(p, views.ticker_24hr(self.ex.market, self.ex.venue_ms()))

    # --- orders ------------------------------------------------------------------------------------
    async def new_order(self, key: str | None, p: Params) -> Any:
        assert key is not None
        req = parse_new_order(p, self.spec, self.errors)
        check_market_filters(
            req,
            self.spec,
            self.errors,
            reference=self.ex.market.mark_price(),
            open_orders=len(self.ex.open_orders(key)),
        )
        order = await self.ex.place(key, req)
        if self.spec.futures:
            if req.resp_type == "ACK":  # the order as it was accepted, before any match
                return P.futures_order(_as_accepted(order), self.spec)
            return P.futures_order(order, self.spec)
        fills = self.ex.fills_of(order.order_id)
        return P.spot_new_order(order, self.spec, req.resp_type, fills, order.time_ms)

    def _find(self, key: str, p: Params, *, for_cancel: bool) -> EmOrder:
        symbol_param(p, self.spec, self.errors, required=True)
        order_id = int_param(p, "orderId", self.errors)
        client_id = p.get("origClientOrderId") or None
        if order_id is None and client_id is None:
            raise self.errors.one_of("orderId", "origClientOrderId")
        found = self.ex.find_order(key, order_id, None if client_id is None else str(client_id))
        if found is None:
            raise self.errors.unknown_order_cancel() if for_cancel else self.errors.unknown_order_query()
        return found

    def _order_json(self, order: EmOrder) -> Any:
        return P.futures_order(order, self.spec) if self.spec.futures else P.spot_query(order, self.spec)

    async def query_order(self, key: str | None, p: Params) -> Any:
        assert key is not None
        return self._order_json(self._find(key, p, for_cancel=False))

    async def open_order(self, key: str | None, p: Params) -> Any:
        """USD-M GET /fapi/v1/openOrder: one open order (-2013 if it is not open)."""
        assert key is not None
        order = self._find(key, p, for_cancel=False)
        if not order.is_open:
            raise self.errors.unknown_order_query()
        return self._order_json(order)

    async def cancel_order(self, key: str | None, p: Params) -> Any:
        assert key is not None
        order = self._find(key, p, for_cancel=True)
        cancel_id = p.get("newClientOrderId") or new_client_order_id()
        await self.ex.cancel(order, str(cancel_id))
        if self.spec.futures:
            return P.futures_order(order, self.spec)
        return P.spot_cancel(order, self.spec, self.ex.venue_ms())

    async def modify_order(self, key: str | None, p: Params) -> Any:
        """USD-M PUT /fapi/v1/order: change a resting LIMIT order's price and size, keeping its id
        (`Exchange.amend` has the venue's rules). The side must be the order's own."""
        assert key is not None
        side, price, quantity = parse_modify(p, self.spec, self.errors)
        order = self._find(key, p, for_cancel=False)
        if side != order.side:
            raise self.errors.invalid_value("side")
        request = OrderRequest(
            self.spec.symbol, side, "LIMIT", order.tif, quantity, price, order.client_order_id, "RESULT",
            order.reduce_only, None,
        )  # fmt: skip
        check_market_filters(
            request, self.spec, self.errors, reference=self.ex.market.mark_price(), open_orders=0
        )
        return P.futures_order(await self.ex.amend(order, price, quantity), self.spec)

    async def cancel_open_orders(self, key: str | None, p: Params) -> Any:
        """Spot DELETE /api/v3/openOrders: cancel every open order of the symbol."""
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=True)
        found = self.ex.open_orders(key)
        out = []
        for order in found:
            try:
                await self.ex.cancel(order, new_client_order_id())
            except BinanceError:
                continue  # it filled meanwhile
            out.append(P.spot_cancel(order, self.spec, self.ex.venue_ms()))
        return out

    async def cancel_all_futures(self, key: str | None, p: Params) -> Any:
        """USD-M DELETE /fapi/v1/allOpenOrders."""
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=True)
        self.ex.cancel_all_now(key)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    async def open_orders(self, key: str | None, p: Params) -> Any:
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=False)
        return [self._order_json(o) for o in sorted(self.ex.open_orders(key), key=lambda o: o.order_id)]

    async def all_orders(self, key: str | None, p: Params) -> Any:
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=True)
        order_id = int_param(p, "orderId", self.errors)
        start, end = int_param(p, "startTime", self.errors), int_param(p, "endTime", self.errors)
        limit = limit_param(p, self.errors, 500, 1000)
        rows = sorted(self.ex.orders_of(key), key=lambda o: o.order_id)
        if order_id is not None:
            rows = [o for o in rows if o.order_id >= order_id][:limit]
        elif start is not None or end is not None:
            rows = [
                o for o in rows if (start is None or o.time_ms >= start) and (end is None or o.time_ms <= end)
            ]
            rows = rows[:limit]
        else:
            rows = rows[-limit:]
        return [self._order_json(o) for o in rows]

    async def my_trades(self, key: str | None, p: Params) -> Any:
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=True)
        order_id = int_param(p, "orderId", self.errors)
        from_id = int_param(p, "fromId", self.errors)
        start, end = int_param(p, "startTime", self.errors), int_param(p, "endTime", self.errors)
        limit = limit_param(p, self.errors, 500, 1000)
        rows = [f for f in self.ex.fills if f.api_key == key]
        if order_id is not None:
            rows = [f for f in rows if f.order_id == order_id]
        if from_id is not None:
            rows = [f for f in rows if f.trade_id >= from_id][:limit]
        elif start is not None or end is not None:
            rows = [
                f for f in rows if (start is None or f.time_ms >= start) and (end is None or f.time_ms <= end)
            ]
            rows = rows[:limit]
        else:
            rows = rows[-limit:]
        row = P.futures_user_trade if self.spec.futures else P.spot_my_trade
        return [row(f, self.spec) for f in rows]

    async def batch_orders(self, key: str | None, p: Params) -> Any:
        """USD-M POST /fapi/v1/batchOrders: up to 5 orders; each answer is an order or an error object."""
        raw = p.get("batchOrders")
        if raw is None or raw == "":
            raise self.errors.mandatory("batchOrders")
        try:
            items = raw if isinstance(raw, list) else json_value(str(raw))
        except ValueError:
            raise self.errors.invalid_value("batchOrders") from None
        if not isinstance(items, list) or not 1 <= len(items) <= 5:
            raise BinanceError(-4082, "Invalid number of batch place orders.")
        out: list[Any] = []
        for item in items:
            if not isinstance(item, dict):
                out.append(self.errors.invalid_value("batchOrders").body())
                continue
            try:
                out.append(await self.new_order(key, {k: v for k, v in item.items()}))
            except BinanceError as exc:
                out.append(exc.body())
        return out

    async def batch_cancel(self, key: str | None, p: Params) -> Any:
        """USD-M DELETE /fapi/v1/batchOrders with orderIdList or origClientOrderIdList (JSON arrays)."""
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=True)
        # Binance also takes these two names in lower case, which is how ccxt sends them
        ids = _json_list(p.get("orderIdList", p.get("orderidlist")))
        clients = _json_list(p.get("origClientOrderIdList", p.get("origclientorderidlist")))
        if not ids and not clients:
            raise self.errors.one_of("orderIdList", "origClientOrderIdList")
        if len(ids) + len(clients) > 10:
            raise self.errors.invalid_value("orderIdList" if ids else "origClientOrderIdList")
        if not all(type(i) is int and 0 <= i < 2**63 for i in ids):  # bool is an int: not an order id
            raise self.errors.invalid_value("orderIdList")
        if not all(isinstance(c, str) for c in clients):
            raise self.errors.invalid_value("origClientOrderIdList")
        out: list[Any] = []
        lookups = [(int(i), None) for i in ids] + [(None, str(c)) for c in clients]
        for order_id, client_id in lookups:
            order = self.ex.find_order(key, order_id, client_id)
            try:
                if order is None:
                    raise self.errors.unknown_order_cancel()
                await self.ex.cancel(order, new_client_order_id())
                out.append(P.futures_order(order, self.spec))
            except BinanceError as exc:
                out.append(exc.body())
        return out

    # --- accounts ----------------------------------------------------------------------------------
    async def spot_account(self, key: str | None, p: Params) -> Any:
        assert key is not None
        s = self.ex.settings
        return P.spot_account(self.ex.account(key), self.spec, s.maker_fee, s.taker_fee, _uid(key))

    async def futures_account(self, key: str | None, p: Params, version: int = 3) -> Any:
        assert key is not None
        acc = self.ex.account(key)
        _, open_margin, available = self.ex.futures_margins(acc)
        mark = self.ex.market.mark_price()
        return P.futures_account(acc, self.spec, mark, open_margin, available, version, self.ex.venue_ms())

    async def futures_account_v2(self, key: str | None, p: Params) -> Any:
        return await self.futures_account(key, p, 2)

    async def futures_balance(self, key: str | None, p: Params) -> Any:
        assert key is not None
        acc = self.ex.account(key)
        unrealized, _, available = self.ex.futures_margins(acc)
        return [P.futures_balance(acc, self.spec, unrealized, available, self.ex.venue_ms())]

    async def position_risk(self, key: str | None, p: Params, version: int = 3) -> Any:
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=False)
        acc = self.ex.account(key)
        _, open_margin, _ = self.ex.futures_margins(acc)
        if version >= 3 and acc.position(self.spec.symbol).amount == 0 and open_margin == 0:
            return []  # v3 lists only symbols with a position or open orders
        mark = self.ex.market.mark_price()
        return [P.futures_position_risk(acc, self.spec, mark, open_margin, version, self.ex.venue_ms())]

    async def position_risk_v2(self, key: str | None, p: Params) -> Any:
        return await self.position_risk(key, p, 2)

    async def leverage_bracket(self, key: str | None, p: Params) -> Any:
        brackets = [
            (1, 125, 50_000, 0, "0.004", "0.0"),
            (2, 100, 600_000, 50_000, "0.005", "50.0"),
            (3, 75, 3_000_000, 600_000, "0.0065", "950.0"),
            (4, 50, 12_000_000, 3_000_000, "0.01", "11450.0"),
            (5, 25, 70_000_000, 12_000_000, "0.02", "131450.0"),
        ]
        rows = [
            {
                "bracket": b,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": float(mmr),
                "cum": float(cum),
            }
            for b, lev, cap, floor, mmr, cum in brackets
        ]
        entry = {"symbol": self.spec.symbol, "brackets": rows}
        return entry if symbol_param(p, self.spec, self.errors, required=False) else [entry]

    async def set_leverage(self, key: str | None, p: Params) -> Any:
        assert key is not None
        symbol_param(p, self.spec, self.errors, required=True)
        lev = int_param(p, "leverage", self.errors)
        if lev is None:
            raise self.errors.mandatory("leverage")
        if not 1 <= lev <= 125:
            raise BinanceError(-4028, f"Leverage {lev} is not valid")
        acc = self.ex.account(key)
        acc.leverage = lev
        acc.dirty = True
        self.ex.commit()
        return {"leverage": lev, "maxNotionalValue": "50000", "symbol": self.spec.symbol}

    async def position_side(self, key: str | None, p: Params) -> Any:
        return {"dualSidePosition": False}

    async def commission_rate(self, key: str | None, p: Params) -> Any:
        symbol_param(p, self.spec, self.errors, required=True)
        s = self.ex.settings
        return {
            "symbol": self.spec.symbol,
            "makerCommissionRate": f"{s.maker_fee.normalize():f}",
            "takerCommissionRate": f"{s.taker_fee.normalize():f}",
        }

    # --- listen keys (user data streams) -----------------------------------------------------------
    async def listen_key_create(self, key: str | None, p: Params) -> Any:
        assert key is not None
        now = self.wall_ms()
        for lk, (owner, _) in self.ex.listen_keys.items():
            if owner == key:  # an account's active key is returned again and extended
                self.ex.set_listen_key(lk, (owner, now))
                self.ex.commit()
                return {"listenKey": lk}
        lk = secrets.token_hex(32)[:60]
        self.ex.set_listen_key(lk, (key, now))
        self.ex.commit()
        return {"listenKey": lk}

    def _listen_key_of(self, key: str, p: Params) -> str:
        lk = p.get("listenKey")
        if lk is None or lk == "":
            if self.spec.futures:  # USD-M keeps one key per account and takes none in the request
                for found, (owner, _) in self.ex.listen_keys.items():
                    if owner == key:
                        return found
                raise self.errors.listen_key_unknown()
            raise self.errors.mandatory("listenKey")
        entry = self.ex.listen_keys.get(str(lk))
        if entry is None or entry[0] != key:
            raise self.errors.listen_key_unknown()
        return str(lk)

    async def listen_key_keepalive(self, key: str | None, p: Params) -> Any:
        assert key is not None
        lk = self._listen_key_of(key, p)
        self.ex.set_listen_key(lk, (key, self.wall_ms()))
        self.ex.commit()
        return {"listenKey": lk} if self.spec.futures else {}

    async def listen_key_close(self, key: str | None, p: Params) -> Any:
        assert key is not None
        lk = self._listen_key_of(key, p)
        self.ex.set_listen_key(lk, None)
        self.ex.commit()
        return {}

    def expired_listen_keys(self) -> list[str]:
        now = self.wall_ms()
        return [lk for lk, (_, t) in self.ex.listen_keys.items() if now - t > _LISTEN_KEY_TTL_MS]


def _as_accepted(order: EmOrder) -> EmOrder:
    zero = order.executed_qty * 0
    return dataclasses.replace(order, status="NEW", executed_qty=zero, cum_quote=zero, dirty=False)


def _json_list(raw: Any) -> list[Any]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, list):
        return raw
    try:
        value = json_value(str(raw))
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _uid(api_key: str) -> int:
    return int.from_bytes(api_key.encode()[:4].ljust(4, b"\0"), "big") % 1_000_000_000
