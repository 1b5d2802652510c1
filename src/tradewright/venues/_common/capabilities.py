"""What a venue adapter can do, as a typed record the kernel and the node read (never guessed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tradewright.model.enums import OrderType, TimeInForce

__all__ = ["VenueCapabilities"]


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """One venue adapter's abilities.

    `modify`: the venue amends a resting order in place (price and/or size, keeping its order id);
    without it the engine carries a modify out as cancel-then-replace. `batch_submit`/`batch_cancel`:
    the most orders one request may carry (0: no batch endpoint; the adapter sends them one by one).
    `stop_orders`: stop and stop-limit orders are held by the venue (otherwise the engine holds them).
    `brackets`: the venue holds contingent orders itself — an entry with its stop and target
    (`tradewright.model.bracket`), the children working for what the entry has filled and cancelling
    each other — and the execution side implements `BracketExecution`; otherwise the engine holds
    the children until the entry fills. `oca_groups`: plain orders may share a one-cancels-all group.
    `bar_intervals_ns`: the bar lengths the market-data side can deliver (`BarFeed.run_bars`); empty
    when the venue has no bar stream (the node then builds bars from trades).
    `market_data`: what `MarketFeed.run_book` delivers — "l2" (verified depth) or "l1" (the best bid and
    offer only, as a one-level book: brokers' quote streams).
    """

    modify: bool
    post_only: bool
    query_by_client_order_id: bool
    user_stream: bool
    max_client_order_id_len: int
    order_types: frozenset[OrderType] = frozenset({OrderType.LIMIT, OrderType.MARKET})
    time_in_force: frozenset[TimeInForce] = frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK})
    reduce_only: bool = False
    stop_orders: bool = False
    batch_submit: int = 0
    batch_cancel: int = 0
    cancel_all: bool = False
    client_order_id_chars: str = "A-Za-z0-9_-"
    brackets: bool = False
    oca_groups: bool = False
    bar_intervals_ns: frozenset[int] = frozenset()
    market_data: Literal["l2", "l1"] = "l2"
