"""The strategy the crash and reconciliation tests run live: a two-sided quoter with its own state.

It quotes one post-only order a side at the touch (minus/plus `offset_ticks`) within `max_position`, and
keeps its own books: which orders are its quotes, and how much it bought and sold. Both are saved in
snapshots and rebuilt after a restart from the snapshot plus the fills since (`on_fill(..., replay=True)`),
which is what the tests check against the store.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderCanceled, OrderEvent, OrderExpired, OrderFilled
from tradewright.strategy.base import BookTrigger, Strategy


class QuoterConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    size: Decimal
    max_position: Decimal
    offset_ticks: Annotated[int, msgspec.Meta(ge=0)] = 0


class CrashQuoter(Strategy):
    Config = QuoterConfig
    book_trigger = BookTrigger.TOP_PRICE

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: QuoterConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.iid = instruments[0]
        self.quotes: dict[OrderSide, tuple[ClientOrderId, int] | None] = {
            OrderSide.BUY: None,
            OrderSide.SELL: None,
        }
        self.bought = Decimal(0)
        self.sold = Decimal(0)
        self.fills = 0

    # --- state ------------------------------------------------------------------------------------
    def snapshot_state(self) -> dict[str, Any]:
        return {
            "quotes": {side.value: None if q is None else [q[0], q[1]] for side, q in self.quotes.items()},
            "bought": str(self.bought),
            "sold": str(self.sold),
            "fills": self.fills,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        for side in OrderSide:
            q = state["quotes"].get(side.value)
            self.quotes[side] = None if q is None else (ClientOrderId(q[0]), int(q[1]))
        self.bought = Decimal(state["bought"])
        self.sold = Decimal(state["sold"])
        self.fills = int(state["fills"])

    # --- hooks ------------------------------------------------------------------------------------
    def on_start(self, **kw: Any) -> None:
        mine = {q[0] for q in self.quotes.values() if q is not None}
        for order in self.ctx.open_orders(self.iid):
            if order.client_order_id not in mine:
                self.ctx.cancel(order.client_order_id)  # a restored order it no longer counts as a quote
        for side, q in self.quotes.items():
            order = None if q is None else self.ctx.order(q[0])
            if order is None or not order.is_open:
                self.quotes[side] = None

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        if fill.side is OrderSide.BUY:
            self.bought += fill.last_qty
        else:
            self.sold += fill.last_qty
        self.fills += 1

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        # A quote filled or was cancelled: quote again now. After a rejection or a denial wait for the
        # book to move (re-quoting at once would loop while the node refuses orders).
        if isinstance(event, OrderFilled | OrderCanceled | OrderExpired):
            order = self.ctx.order(event.client_order_id)
            if order is not None and order.is_closed:
                self.on_book(self.ctx.book(self.iid))

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        bid, ask = book.best_bid_tick, book.best_ask_tick
        if bid is None or ask is None:
            return
        position = self.ctx.position(self.iid).quantity
        off = self.cfg.offset_ticks
        self._quote(OrderSide.BUY, bid - off if position + self.cfg.size <= self.cfg.max_position else None)
        self._quote(OrderSide.SELL, ask + off if position - self.cfg.size >= -self.cfg.max_position else None)

    def _quote(self, side: OrderSide, want_tick: int | None) -> None:
        current = self.quotes[side]
        if current is not None:
            cid, tick = current
            order = self.ctx.order(cid)
            if order is not None and order.is_open and tick == want_tick:
                return
            if order is not None and order.is_open:
                self.ctx.cancel(cid)
            self.quotes[side] = None
        if want_tick is None:
            return
        price = self.ctx.instrument(self.iid).ticks_to_price(want_tick)
        cid = self.ctx.submit(self.iid, side, self.cfg.size, price, post_only=True)
        order = self.ctx.order(cid)
        if order is not None and order.is_open:
            self.quotes[side] = (cid, want_tick)
