"""The local Polymarket's own controls (``/_sim/…``), for tests and for people rehearsing against it:
trades by other participants, settlement steps, resolution, tick-size changes, the order version, the
exchange's mode, and wallets' funds and approvals."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers.polymarket.clob import ClobError, micro

if TYPE_CHECKING:
    from tradewright.servers.polymarket.protocol import PolymarketProtocol

__all__ = ["register_admin", "run_ticker"]

Guard = Callable[[Callable[[RestRequest], Any]], Callable[[RestRequest], Awaitable[RestAnswer]]]


def _field(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise ClobError(f"missing `{name}`")
    return body[name]


def register_admin(proto: PolymarketProtocol, router: RestRouter, guarded: Guard) -> None:
    clob = proto.clob

    async def trade(req: RestRequest) -> Any:
        """Another participant takes liquidity: ``{asset_id, side, price, size}`` (a last_trade_price goes out)."""
        body = req.json()
        token, side = str(_field(body, "asset_id")), str(_field(body, "side")).upper()
        price, size = Decimal(str(_field(body, "price"))), Decimal(str(_field(body, "size")))
        if token not in clob.by_token:
            raise ClobError("unknown asset_id")
        now = proto.now_ms()
        made = clob.external_trade(token, side, price, size, now)
        text = json.dumps({
            "event_type": "last_trade_price", "market": clob.by_token[token].condition_id, "asset_id": token,
            "price": str(price), "side": side, "size": str(size), "fee_rate_bps": "0", "timestamp": str(now),
        })  # fmt: skip
        for sub in proto.server.hub.subscribers(f"book:{token}"):
            await sub.session.send(text)
        return {"trades": [t.id for t in made]}

    def settle(req: RestRequest) -> Any:
        """Move trades on chain: ``{status: MINED|CONFIRMED|FAILED, trade_id?}`` (all pending when no id)."""
        body = req.json()
        status = str(_field(body, "status")).upper()
        if status not in ("MINED", "RETRYING", "CONFIRMED", "FAILED"):
            raise ClobError(f"unknown trade status {status}")
        ids = [str(body["trade_id"])] if body.get("trade_id") else [
            t.id for t in clob.trade_log if t.status not in ("CONFIRMED", "FAILED")
        ]  # fmt: skip
        return {"settled": [clob.settle(i, status, proto.now_ms()).id for i in ids if i in clob.trades]}

    async def resolve(req: RestRequest) -> Any:
        """Resolve a market: ``{market, winning_asset_id}`` (a market_resolved goes out; orders are canceled)."""
        body = req.json()
        cid, winner = str(_field(body, "market")), str(_field(body, "winning_asset_id"))
        market = clob.markets.get(cid)
        if market is None or winner not in market.tokens:
            raise ClobError("unknown market or winning asset")
        now = proto.now_ms()
        clob.resolve(cid, winner, now)
        text = json.dumps({
            "event_type": "market_resolved", "id": cid[-8:], "market": cid, "assets_ids": list(market.tokens),
            "winning_asset_id": winner, "winning_outcome": market.outcomes[market.index(winner)],
            "timestamp": str(now), "tags": [],
        })  # fmt: skip
        sent: set[int] = set()
        for token in market.tokens:
            for sub in proto.server.hub.subscribers(f"book:{token}"):
                if sub.session.id not in sent and sub.session.state.get("custom"):
                    sent.add(sub.session.id)
                    await sub.session.send(text)
        return {"resolved": cid, "winner": winner}

    async def tick(req: RestRequest) -> Any:
        """Change a market's tick size: ``{market, tick_size}`` (a tick_size_change per token goes out)."""
        body = req.json()
        market = clob.markets.get(str(_field(body, "market")))
        if market is None:
            raise ClobError("unknown market")
        old, new = market.tick_size, Decimal(str(_field(body, "tick_size")))
        market.tick_size = new
        for token in market.tokens:
            text = json.dumps({
                "event_type": "tick_size_change", "market": market.condition_id, "asset_id": token,
                "old_tick_size": str(old), "new_tick_size": str(new), "timestamp": str(proto.now_ms()),
            })  # fmt: skip
            for sub in proto.server.hub.subscribers(f"book:{token}"):
                await sub.session.send(text)
        return {"market": market.condition_id, "tick_size": str(new)}

    def version(req: RestRequest) -> Any:
        proto.version = int(_field(req.json(), "version"))
        return {"version": proto.version}

    def mode(req: RestRequest) -> Any:
        value = str(_field(req.json(), "mode"))
        if value not in ("open", "cancel-only", "disabled"):
            raise ClobError("mode is open, cancel-only or disabled")
        proto.mode = value
        return {"mode": value}

    def wallets(req: RestRequest) -> Any:
        return [
            {"api_key": w.api_key, "address": w.address, "collateral": str(w.collateral),
             "confirmed_collateral": str(w.confirmed_collateral), "tokens": {k: str(v) for k, v in w.tokens.items()},
             "confirmed_tokens": {k: str(v) for k, v in w.confirmed_tokens.items()}, "approved": bool(w.allowances),
             "collateral_micro": micro(w.confirmed_collateral)}
            for w in clob.wallets.values()
        ]  # fmt: skip

    def settings(req: RestRequest) -> Any:
        body = req.json()
        if "auto_settle_s" in body:
            value = body["auto_settle_s"]
            proto.auto_settle_s = None if value is None else float(value)
        if "heartbeat_timeout_s" in body:
            proto.heartbeat_timeout_s = float(body["heartbeat_timeout_s"])
        return {"auto_settle_s": proto.auto_settle_s, "heartbeat_timeout_s": proto.heartbeat_timeout_s}

    router.add("POST", "/_sim/trade", guarded(trade))
    router.add("POST", "/_sim/settle", guarded(settle))
    router.add("POST", "/_sim/resolve", guarded(resolve))
    router.add("POST", "/_sim/tick", guarded(tick))
    router.add("POST", "/_sim/version", guarded(version))
    router.add("POST", "/_sim/mode", guarded(mode))
    router.add("GET", "/_sim/wallets", guarded(wallets))
    router.add("POST", "/_sim/settings", guarded(settings))


async def run_ticker(proto: PolymarketProtocol) -> None:
    """Background work of the venue: heartbeats, GTD expiries and automatic settlement."""
    while True:
        await asyncio.sleep(0.02)
        proto.check_heartbeats()
        proto.clob.expire(proto.now_ms(), int(time.time()))
        delay = proto.auto_settle_s
        if delay is None:
            continue
        now = time.monotonic()
        for trade in proto.clob.trade_log:
            if trade.status == "MATCHED" and now - trade.born >= delay:
                proto.clob.settle(trade.id, "MINED", proto.now_ms())
            elif trade.status == "MINED" and now - trade.born >= 2 * delay:
                proto.clob.settle(trade.id, "CONFIRMED", proto.now_ms())
