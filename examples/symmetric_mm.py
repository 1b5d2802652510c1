"""A symmetric market maker: quote both sides at the touch ± `offset_ticks`, fixed size,
no new quotes on the side that would take the position beyond `max_position`.

The simplest honest market maker: it earns the spread when the price oscillates and loses to
adverse selection when the price trends. Good for checking that the engine's queue, latency and fee
models behave; not a money-maker.
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


class SymmetricMMConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    size: Decimal
    max_position: Decimal
    offset_ticks: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0


class SymmetricMarketMaker(Strategy):
    Config = SymmetricMMConfig
    book_trigger = BookTrigger.TOP_PRICE

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: SymmetricMMConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        if config.size <= 0:
            raise ValueError(f"strategy.params.size must be > 0, got {config.size}")
        if config.max_position < config.size:
            raise ValueError(
                f"strategy.params.max_position ({config.max_position}) must be >= size ({config.size})"
            )
        self.cfg = config
        self.iid = instruments[0]
        self._quotes: dict[OrderSide, tuple[ClientOrderId, int] | None] = {
            OrderSide.BUY: None,
            OrderSide.SELL: None,
        }

    def on_start(self, **kw: Any) -> None:
        self.ctx.instrument(self.iid).size_to_lots(self.cfg.size)  # refuse a size off the lot grid up front

    def on_config(self, config: SymmetricMMConfig, **kw: Any) -> None:
        """Adopt new parameters while running (`PATCH /api/v1/strategies/{id}/params`): the next book
        update quotes with them. Raising refuses the change and keeps the old parameters."""
        if config.size <= 0 or config.max_position < config.size:
            raise ValueError(f"size must be > 0 and <= max_position, got {config.size} / {config.max_position}")
        self.ctx.instrument(self.iid).size_to_lots(config.size)
        self.cfg = config

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        bid, ask = book.best_bid_tick, book.best_ask_tick
        if bid is None or ask is None:
            return
        position = self.ctx.position(self.iid).quantity
        off = self.cfg.offset_ticks
        want_bid = bid - off if position + self.cfg.size <= self.cfg.max_position else None
        want_ask = ask + off if position - self.cfg.size >= -self.cfg.max_position else None
        self._quote(OrderSide.BUY, want_bid)
        self._quote(OrderSide.SELL, want_ask)

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        # A quote filled or was cancelled: re-quote now rather than wait for the next price change.
        # (After a rejection we wait for the book to move, so a persistent reject cannot loop.)
        if isinstance(event, OrderFilled | OrderCanceled | OrderExpired):
            order = self.ctx.order(event.client_order_id)
            if order is not None and order.is_closed:
                self.on_book(self.ctx.book(self.iid))

    def _quote(self, side: OrderSide, want_tick: int | None) -> None:
        current = self._quotes[side]
        if current is not None:
            cid, tick = current
            order = self.ctx.order(cid)
            if order is not None and order.is_open and tick == want_tick:
                return
            if order is not None and order.is_open:
                self.ctx.cancel(cid)
            self._quotes[side] = None
        if want_tick is None:
            return
        inst = self.ctx.instrument(self.iid)
        cid = self.ctx.submit(self.iid, side, self.cfg.size, inst.ticks_to_price(want_tick), post_only=True)
        self._quotes[side] = (cid, want_tick)
