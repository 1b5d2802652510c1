"""Inventory-skewed market making on rotating quick markets (Turbine's 15-minute BTC up/down markets).

The strategy is given the outcome tokens of a series of binary markets; it quotes the first outcome
(YES/Up) of the market that is *current*: the earliest one whose end (`Instrument.expiry_ns`) is more
than `stop_quoting_lead_ms` away and whose book has both sides. `stop_quoting_lead_ms` before a market
ends, it cancels every order it has there and never quotes it again — so no order is left on an
expired market as long as the cancel's round trip is shorter than the lead — and moves to the next
market as soon as that one's book is in. The rotation is checked on every book update of any of its
markets and on a timer (`check_interval_ms`), so it happens on time even when the books are quiet.

Quotes (`skewed_quotes`, pure): join the touch on both sides, shifted against the inventory by
`skew_ticks` per `order_size` held (long: both quotes lower, to sell more and buy less), never crossing
the book, one clip a side, none on a side that would take the inventory past `max_inventory`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderEvent, TimerFired
from tradewright.model.instrument import Instrument
from tradewright.strategy.base import BookTrigger, Strategy
from tradewright.strategy.quotes import Quote, QuoteManager, QuoteManagerConfig

__all__ = ["QuickMarketMaker", "QuickMarketMakerConfig", "skewed_quotes"]

_MS = 1_000_000


class QuickMarketMakerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Sizes in shares; `skew_ticks` per `order_size` of inventory; times in ms."""

    order_size: Decimal
    max_inventory: Decimal
    skew_ticks: Annotated[int, msgspec.Meta(ge=0)] = 1
    stop_quoting_lead_ms: Annotated[int, msgspec.Meta(ge=0)] = 30_000
    check_interval_ms: Annotated[int, msgspec.Meta(ge=1)] = 1_000
    quotes: QuoteManagerConfig = msgspec.field(
        default_factory=lambda: QuoteManagerConfig(use_modify=False)  # binary venues have no amend
    )

    def __post_init__(self) -> None:
        for name in ("order_size", "max_inventory"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value <= 0:
                raise ValueError(f"`{name}` must be a number > 0, got {value}")


def skewed_quotes(book: OrderBook, inventory: Decimal, cfg: QuickMarketMakerConfig) -> list[Quote]:
    """The bid and ask for this book and inventory (see the module docstring); [] without both sides."""
    bb, ba = book.best_bid_tick, book.best_ask_tick
    if bb is None or ba is None:
        return []
    inst: Instrument = book.instrument
    shift = int(inventory / cfg.order_size * cfg.skew_ticks)  # toward zero: whole clips only
    bid = min(bb - shift, ba - 1)
    ask = max(ba - shift, bb + 1)
    top = inst.price_to_ticks(Decimal(1)) - 1  # outcome prices live strictly between 0 and 1
    quotes: list[Quote] = []
    if inventory + cfg.order_size <= cfg.max_inventory and 1 <= bid <= top:
        quotes.append(Quote(side=OrderSide.BUY, price=inst.ticks_to_price(bid), size=cfg.order_size))
    if inventory - cfg.order_size >= -cfg.max_inventory and 1 <= ask <= top:
        quotes.append(Quote(side=OrderSide.SELL, price=inst.ticks_to_price(ask), size=cfg.order_size))
    return quotes


class QuickMarketMaker(Strategy):
    """See the module docstring. `instruments`: the outcome tokens of every market in the series; the
    first outcome of each market (symbol ending ``-YES``, or the first of a pair) is the one quoted."""

    Config = QuickMarketMakerConfig
    book_trigger = BookTrigger.TOP
    rotates_markets = True  # a binary backtest hands it every recorded instrument

    def __init__(
        self, strategy_id: str, instruments: list[InstrumentId], config: QuickMarketMakerConfig
    ) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self._quoters: dict[InstrumentId, QuoteManager] = {}
        self.current: InstrumentId | None = None
        self.retired: list[InstrumentId] = []  # markets left for good, in order
        self._quoted: list[InstrumentId] = []

    def on_start(self, **kw: Any) -> None:
        self._quoted = self._quoted_tokens()
        self.ctx.set_timer("rotation", self.cfg.check_interval_ms * _MS)

    def _quoted_tokens(self) -> list[InstrumentId]:
        """One token per market, the first outcome; ordered by the market's end."""
        seen: dict[str, InstrumentId] = {}
        for iid in self.instruments:
            inst = self.ctx.instrument(iid)
            market = iid.symbol.rsplit("-", 1)[0]
            if market not in seen and inst.expiry_ns is not None:
                seen[market] = iid
        return sorted(seen.values(), key=lambda i: self.ctx.instrument(i).expiry_ns or 0)

    def _quoter(self, iid: InstrumentId) -> QuoteManager:
        quoter = self._quoters.get(iid)
        if quoter is None:
            quoter = self._quoters[iid] = QuoteManager(self.ctx, iid, self.cfg.quotes)
        return quoter

    def rotate(self) -> InstrumentId | None:
        """Leave every market within the stop lead of its end; pick the current one (None: none yet)."""
        now = self.ctx.now_ns()
        lead = self.cfg.stop_quoting_lead_ms * _MS
        current = None
        for iid in self._quoted:
            if iid in self.retired:
                continue
            expiry = self.ctx.instrument(iid).expiry_ns
            assert expiry is not None
            if now >= expiry - lead:
                self.retired.append(iid)
                self._quoter(iid).cancel_all()
                continue
            book = self.ctx.book(iid)
            if current is None and book.best_bid_tick is not None and book.best_ask_tick is not None:
                current = iid
        if current != self.current and self.current is not None and self.current not in self.retired:
            self._quoter(self.current).cancel_all()
        self.current = current
        return current

    def _quote(self) -> None:
        iid = self.rotate()
        if iid is not None:
            inventory = self.ctx.position(iid).quantity
            self._quoter(iid).apply(skewed_quotes(self.ctx.book(iid), inventory, self.cfg))

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        self._quote()

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        self._quote()

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        order = self.ctx.order(event.client_order_id)
        if order is not None and order.is_closed and order.instrument_id == self.current:
            self._quote()  # a quote ended: requote now

    def on_stop(self, **kw: Any) -> None:
        for quoter in self._quoters.values():
            quoter.cancel_all()
