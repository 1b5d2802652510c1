"""Spread-capture quoter (B2): a ladder of quotes a fixed or volatility-scaled distance around mid or microprice.

Each side quotes `len(bid_sizes)` / `len(ask_sizes)` levels: level 0 at `half_spread_bps` from the
reference price (the mid, or the microprice, which leans towards the side with less size), each next
level `level_spacing_ticks` further out, each with its own size. With ``spread = "volatility"`` the
half spread is ``half_spread_bps + vol_multiplier x σ`` where σ is the realised volatility of the
reference over one `vol_sample_ms` interval, in bps. Bids round down and asks up onto the grid and never
cross the book. Levels whose fill would take the inventory beyond `max_inventory` are not quoted.
Every change goes through the quote manager, so `min_change_ticks`, `min_quote_lifetime_ms` and
`max_cancels_per_min` hold.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.indicators import RealisedVolatility
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderEvent, TimerFired
from tradewright.model.instrument import Instrument, to_decimal
from tradewright.strategy.base import BookTrigger, Strategy
from tradewright.strategy.quotes import Quote, QuoteManager, QuoteManagerConfig

__all__ = ["SpreadQuoter", "SpreadQuoterConfig", "ladder_quotes"]

_BPS = Decimal(10_000)
_SECONDS_PER_YEAR = 365.25 * 86_400


class SpreadQuoterConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Distances in bps of the reference price or in ticks; sizes in the base asset, one per level."""

    bid_sizes: list[Decimal]
    ask_sizes: list[Decimal]
    max_inventory: Decimal
    reference: Literal["mid", "microprice"] = "mid"
    spread: Literal["fixed", "volatility"] = "fixed"
    half_spread_bps: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    vol_multiplier: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    vol_window: Annotated[int, msgspec.Meta(ge=2)] = 30
    vol_sample_ms: Annotated[int, msgspec.Meta(ge=1)] = 1000
    level_spacing_ticks: Annotated[int, msgspec.Meta(ge=1)] = 1
    quotes: QuoteManagerConfig = msgspec.field(default_factory=QuoteManagerConfig)

    def __post_init__(self) -> None:
        if not self.bid_sizes and not self.ask_sizes:
            raise ValueError("`bid_sizes` and `ask_sizes` are both empty: nothing to quote")
        for name in ("bid_sizes", "ask_sizes"):
            for size in getattr(self, name):
                if not size.is_finite() or size <= 0:
                    raise ValueError(f"`{name}` must hold numbers > 0, got {size}")
        if not self.max_inventory.is_finite() or self.max_inventory <= 0:
            raise ValueError(f"`max_inventory` must be a number > 0, got {self.max_inventory}")


def ladder_quotes(
    reference: Decimal,
    half_spread_bps: Decimal,
    best_bid_tick: int,
    best_ask_tick: int,
    inventory: Decimal,
    cfg: SpreadQuoterConfig,
    inst: Instrument,
) -> list[Quote]:
    """The quote ladder for one moment (pure): exact Decimal prices, bids rounded down, asks up."""
    offset = reference * half_spread_bps / _BPS
    top_bid = min(inst.price_to_ticks(inst.round_price_down(reference - offset)), best_ask_tick - 1)
    top_ask = max(inst.price_to_ticks(inst.round_price_up(reference + offset)), best_bid_tick + 1)
    step = cfg.level_spacing_ticks
    quotes: list[Quote] = []
    room = cfg.max_inventory - inventory  # how much more we may buy
    for level, size in enumerate(cfg.bid_sizes):
        if size > room:
            break
        room -= size
        price = inst.ticks_to_price(top_bid - level * step)
        quotes.append(Quote(side=OrderSide.BUY, price=price, size=size, level=level))
    room = cfg.max_inventory + inventory  # how much more we may sell
    for level, size in enumerate(cfg.ask_sizes):
        if size > room:
            break
        room -= size
        price = inst.ticks_to_price(top_ask + level * step)
        quotes.append(Quote(side=OrderSide.SELL, price=price, size=size, level=level))
    return quotes


class SpreadQuoter(Strategy):
    Config = SpreadQuoterConfig
    book_trigger = BookTrigger.TOP

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: SpreadQuoterConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.iid = instruments[0]
        periods = _SECONDS_PER_YEAR * 1000 / config.vol_sample_ms
        self.vol = RealisedVolatility(config.vol_window, periods_per_year=periods)
        self._per_sample = 1 / math.sqrt(periods)  # annualised -> one sampling interval
        self._quotes: QuoteManager | None = None

    @property
    def quotes(self) -> QuoteManager:
        assert self._quotes is not None, "on_start has not run"
        return self._quotes

    def on_start(self, **kw: Any) -> None:
        inst = self.ctx.instrument(self.iid)
        for size in (*self.cfg.bid_sizes, *self.cfg.ask_sizes):
            inst.size_to_lots(size)  # refuse sizes off the lot grid up front
        self._quotes = QuoteManager(self.ctx, self.iid, self.cfg.quotes)
        if self.cfg.spread == "volatility":
            self.ctx.set_timer("vol", self.cfg.vol_sample_ms * 1_000_000)

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        ref = self.reference(self.ctx.book(self.iid))
        if ref is not None:
            self.vol.update(float(ref))

    def reference(self, book: OrderBook) -> Decimal | None:
        return book.microprice if self.cfg.reference == "microprice" else book.mid

    def half_spread_bps(self) -> Decimal | None:
        """The half spread now, in bps (None while the volatility is warming up)."""
        cfg = self.cfg
        if cfg.spread == "fixed":
            return to_decimal(cfg.half_spread_bps)
        if not self.vol.ready:
            return None
        sigma_bps = self.vol.value * self._per_sample * 10_000
        return to_decimal(round(cfg.half_spread_bps + cfg.vol_multiplier * sigma_bps, 4))

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        bb, ba = book.best_bid_tick, book.best_ask_tick
        ref = self.reference(book)
        half = self.half_spread_bps()
        if bb is None or ba is None or ref is None or half is None:
            return
        inventory = self.ctx.position(self.iid).quantity
        self.quotes.apply(ladder_quotes(ref, half, bb, ba, inventory, self.cfg, book.instrument))

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        order = self.ctx.order(event.client_order_id)
        if order is not None and order.is_closed:
            self.on_book(self.ctx.book(self.iid))  # a quote ended: requote now

    def on_stop(self, **kw: Any) -> None:
        if self._quotes is not None:
            self._quotes.cancel_all()
