"""Playing one recorded market-channel message on the local Polymarket: update the venue's book (in
YES terms), send the message verbatim to its tokens' subscribers, and the other outcome's side of it
— which the venue would send too — as a `price_change` in the venue's shape."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewright.servers.polymarket.world import ReplayMessage

if TYPE_CHECKING:
    from tradewright.servers.polymarket.protocol import PolymarketProtocol

__all__ = ["apply_replay"]

_ONE = Decimal(1)


def _set(levels: dict[Decimal, Decimal], price: Decimal, size: Decimal) -> None:
    if size > 0:
        levels[price] = size
    else:
        levels.pop(price, None)


async def apply_replay(proto: PolymarketProtocol, msg: ReplayMessage) -> None:
    clob = proto.clob
    market = clob.markets.get(msg.market)
    if market is None:
        return
    payload: dict[str, Any] = msg.payload
    kind = msg.event_type
    stamp = str(payload.get("timestamp") or "0")
    proto.advance_clock(int(stamp) * (1000 if len(stamp) <= 10 else 1))
    now = proto.now_ms()
    touched: set[Decimal] = set()
    if kind == "book":
        token = str(payload["asset_id"])
        first = market.index(token) == 0
        bids = {Decimal(str(lv["price"])): Decimal(str(lv["size"])) for lv in payload.get("bids", [])}
        asks = {Decimal(str(lv["price"])): Decimal(str(lv["size"])) for lv in payload.get("asks", [])}
        touched = set(market.bids) | set(market.asks)
        if first:
            market.bids, market.asks = bids, asks
        else:  # the NO book in YES terms: NO asks at p are YES bids at 1 - p, and the other way round
            market.bids = {_ONE - p: q for p, q in asks.items()}
            market.asks = {_ONE - p: q for p, q in bids.items()}
        touched |= set(market.bids) | set(market.asks)
    elif kind == "price_change":
        changes = payload.get("price_changes") or [payload]
        for change in changes:
            token = str(change["asset_id"])
            price = Decimal(str(change["price"]))
            size = Decimal(str(change["size"]))
            yes_side, yes_price = market.to_yes(token, str(change["side"]), price)
            _set(market.bids if yes_side > 0 else market.asks, yes_price, size)
            touched.add(yes_price)
    elif kind == "tick_size_change":
        market.tick_size = Decimal(str(payload["new_tick_size"]))
    elif kind == "last_trade_price":
        # Someone traded at this price: our resting orders there fill once the queue ahead is gone.
        clob.external_trade(
            str(payload["asset_id"]), str(payload.get("side") or "BUY"), Decimal(str(payload["price"])),
            Decimal(str(payload.get("size") or 0)), now,
        )  # fmt: skip
    elif kind == "market_resolved":
        clob.resolve(market.condition_id, str(payload["winning_asset_id"]), now)
    await _publish(proto, msg)
    if touched and kind in ("book", "price_change"):
        _mirror(proto, msg, touched)


async def _publish(proto: PolymarketProtocol, msg: ReplayMessage) -> None:
    custom = msg.event_type in ("best_bid_ask", "new_market", "market_resolved")
    tokens = msg.assets or proto.clob.markets[msg.market].tokens
    sent: set[int] = set()
    for token in tokens:
        for sub in proto.server.hub.subscribers(f"book:{token}"):
            if sub.session.id in sent or (custom and not sub.session.state.get("custom")):
                continue
            sent.add(sub.session.id)
            await sub.session.send(msg.text)


def _mirror(proto: PolymarketProtocol, msg: ReplayMessage, yes_prices: set[Decimal]) -> None:
    """The venue moves both books together: tell the tokens this message did not name."""
    market = proto.clob.markets[msg.market]
    named = set(msg.assets)
    for index, token in enumerate(market.tokens):
        if token in named:
            continue
        if msg.event_type == "book":
            text = proto.book_message(token)
        else:
            bids, asks = proto.clob.book(token)
            bid_map, ask_map = dict(bids), dict(asks)
            changes = []
            for yes_price in sorted(yes_prices):
                price = yes_price if index == 0 else _ONE - yes_price
                for side, levels in (("BUY", bid_map), ("SELL", ask_map)):
                    changes.append({
                        "asset_id": token, "price": str(price), "side": side, "size": str(levels.get(price, 0)),
                        "hash": "", "best_bid": str(bids[0][0]) if bids else "0", "best_ask": str(asks[0][0]) if asks else "0",
                    })  # fmt: skip
            text = json.dumps(
                {"event_type": "price_change", "market": market.condition_id, "timestamp": str(proto.now_ms()),
                 "price_changes": changes},
                separators=(",", ":"),
            )  # fmt: skip
        for sub in proto.server.hub.subscribers(f"book:{token}"):
            proto.server.post(sub.session, text)
