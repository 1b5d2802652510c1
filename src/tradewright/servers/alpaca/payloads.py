"""Alpaca's JSON and msgpack shapes, written from its documentation.

Field lists follow Alpaca's API reference as summarised in ``../shared/reference/brokers.md`` §9-§11
(the order entity, account, position, clock, asset; trade_updates frames; market-data frames with
msgpack Timestamps). Numbers travel as strings in the Trading API, timestamps as RFC 3339 with
nanoseconds and a Z.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgpack

from tradewright.servers.alpaca.orders import AlpacaOrder, Asset, TradeUpdate
from tradewright.servers.bars import BarRow

__all__ = ["account", "activity", "asset", "bar_frame", "clock", "order", "position", "rfc3339", "trade_update"]


def rfc3339(ts_ns: int | None) -> str | None:
    if ts_ns is None:
        return None
    secs, ns = divmod(ts_ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns:09d}Z"


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def order(o: AlpacaOrder, *, nested: bool = True) -> dict[str, Any]:
    avg = o.avg_price
    return {
        "id": o.id,
        "client_order_id": o.client_order_id,
        "created_at": rfc3339(o.created_ns),
        "updated_at": rfc3339(o.updated_ns),
        "submitted_at": rfc3339(o.created_ns),
        "filled_at": rfc3339(o.filled_ns),
        "expired_at": None,
        "canceled_at": rfc3339(o.canceled_ns) if o.status == "canceled" else None,
        "failed_at": None,
        "replaced_at": rfc3339(o.replaced_ns),
        "replaced_by": o.replaced_by,
        "replaces": o.replaces,
        "asset_id": o.asset.id,
        "symbol": o.asset.symbol,
        "asset_class": o.asset.asset_class,
        "notional": None,
        "qty": _num(o.qty),
        "filled_qty": _num(o.filled_qty),
        "filled_avg_price": None if avg is None else _num(avg),
        "order_class": o.order_class,
        "order_type": o.type,
        "type": o.type,
        "side": o.side,
        "time_in_force": o.time_in_force,
        "limit_price": _num(o.limit_price),
        "stop_price": _num(o.stop_price),
        "status": o.status,
        "extended_hours": o.extended_hours,
        "legs": [order(leg, nested=False) for leg in o.legs] if (nested and o.legs) else None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "position_intent": None,
    }


def trade_update(u: TradeUpdate) -> bytes:
    """One trade_updates frame; Alpaca sends these as binary frames holding JSON."""
    data: dict[str, Any] = {"event": u.event, "order": order(u.order), "timestamp": rfc3339(u.ts_ns)}
    if u.event in ("fill", "partial_fill"):
        data.update(
            execution_id=u.execution_id, price=_num(u.price), qty=_num(u.qty), position_qty=_num(u.position_qty)
        )
    elif u.event in ("pending_new",):
        data["execution_id"] = None
    return json.dumps({"stream": "trade_updates", "data": data}, separators=(",", ":")).encode()


def activity(u: TradeUpdate) -> dict[str, Any]:
    """One FILL account activity; its id is ``<time>::<execution id>`` as in Alpaca's documentation."""
    stamp = datetime.fromtimestamp(u.ts_ns // 1_000_000_000, UTC).strftime("%Y%m%d%H%M%S") + "000"
    return {
        "id": f"{stamp}::{u.execution_id}", "activity_type": "FILL", "transaction_time": rfc3339(u.ts_ns),
        "type": u.event, "price": _num(u.price), "qty": _num(u.qty), "side": u.order.side, "symbol": u.order.asset.symbol,
        "leaves_qty": _num(u.order.remaining), "order_id": u.order.id, "cum_qty": _num(u.order.filled_qty),
        "order_status": u.order.status,
    }


def account(account_id: str, number: str, cash: Decimal, equity: Decimal) -> dict[str, Any]:
    return {
        "id": account_id, "account_number": number, "status": "ACTIVE", "crypto_status": "ACTIVE", "currency": "USD",
        "buying_power": _num(cash * 2), "regt_buying_power": _num(cash * 2), "daytrading_buying_power": _num(cash * 4),
        "cash": _num(cash), "portfolio_value": _num(equity), "equity": _num(equity), "last_equity": _num(equity),
        "multiplier": "2", "pattern_day_trader": False, "trading_blocked": False, "transfers_blocked": False,
        "account_blocked": False, "shorting_enabled": True, "daytrade_count": 0, "sma": "0",
        "long_market_value": _num(equity - cash), "short_market_value": "0", "initial_margin": "0",
        "maintenance_margin": "0", "created_at": "2020-01-01T00:00:00Z",
    }


def position(a: Asset, qty: Decimal, avg: Decimal, mark: Decimal) -> dict[str, Any]:
    value = qty * mark
    return {
        "asset_id": a.id, "symbol": a.symbol, "exchange": a.exchange, "asset_class": a.asset_class,
        "avg_entry_price": _num(avg), "qty": _num(abs(qty)), "qty_available": _num(abs(qty)),
        "side": "long" if qty > 0 else "short", "market_value": _num(value), "cost_basis": _num(qty * avg),
        "unrealized_pl": _num(value - qty * avg), "unrealized_plpc": "0", "current_price": _num(mark),
        "lastday_price": _num(mark), "change_today": "0",
    }


def asset(a: Asset) -> dict[str, Any]:
    return {
        "id": a.id, "class": a.asset_class, "exchange": a.exchange, "symbol": a.symbol, "name": a.name,
        "status": "active", "tradable": True, "marginable": a.asset_class == "us_equity", "shortable": True,
        "easy_to_borrow": True, "fractionable": a.asset_class == "crypto",
        "min_order_size": _num(a.min_trade_increment), "min_trade_increment": _num(a.min_trade_increment),
        "price_increment": _num(a.price_increment),
    }


def clock(now_ns: int, is_open: bool, next_open_ns: int, next_close_ns: int) -> dict[str, Any]:
    return {
        "timestamp": rfc3339(now_ns), "is_open": is_open, "next_open": rfc3339(next_open_ns),
        "next_close": rfc3339(next_close_ns),
    }


def bar_frame(kind: str, symbol: str, row: BarRow, tick: Decimal) -> bytes:
    """A market-data bar in msgpack (`T` "b" minute bars, "d" daily bars); `t` is a msgpack Timestamp."""
    secs, ns = divmod(row.ts_open_ns, 1_000_000_000)
    frame: bytes = msgpack.packb(
        [
            {
                "T": kind, "S": symbol, "o": float(row.open * tick), "h": float(row.high * tick),
                "l": float(row.low * tick), "c": float(row.close * tick), "v": float(row.volume),
                "t": msgpack.Timestamp(secs, ns), "n": 1, "vw": float(row.close * tick),
            }
        ]
    )
    return frame
