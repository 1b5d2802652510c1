"""The strategy the multi-venue node tests run: one post-only order a side, `offset_ticks` behind the
touch, re-quoted when the touch moves; with `explode_after` > 0 it raises on that book update (the
injected failure of the fencing tests)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide
from tradewright.strategy.base import BookTrigger, Strategy


class QuoterConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    size: Decimal
    offset_ticks: Annotated[int, msgspec.Meta(ge=0)] = 5
    explode_after: Annotated[int, msgspec.Meta(ge=0)] = 0


class Quoter(Strategy):
    Config = QuoterConfig
    book_trigger = BookTrigger.EVERY  # the recorded markets seldom move their top: hear every update

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: QuoterConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.iid = instruments[0]
        self.books = 0
        self.quotes: dict[OrderSide, tuple[ClientOrderId, int] | None] = {
            OrderSide.BUY: None,
            OrderSide.SELL: None,
        }

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        self.books += 1
        if self.cfg.explode_after and self.books >= self.cfg.explode_after:
            raise RuntimeError(f"injected failure on book update {self.books}")
        bid, ask = book.best_bid_tick, book.best_ask_tick
        if bid is None or ask is None:
            return
        self._quote(OrderSide.BUY, bid - self.cfg.offset_ticks)
        self._quote(OrderSide.SELL, ask + self.cfg.offset_ticks)

    def _quote(self, side: OrderSide, tick: int) -> None:
        current = self.quotes[side]
        if current is not None:
            order = self.ctx.order(current[0])
            if order is not None and order.is_open and current[1] == tick:
                return
            if order is not None and order.is_open:
                self.ctx.cancel(current[0])
        inst = self.ctx.instrument(self.iid)
        cid = self.ctx.submit(self.iid, side, self.cfg.size, inst.ticks_to_price(tick), post_only=True)
        self.quotes[side] = (cid, tick)
