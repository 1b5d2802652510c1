"""Quote intents and the quote manager that turns them into orders.

A market-making strategy decides, as a pure function, which quotes it wants (`Quote`: side, level,
price, size) and hands them to a `QuoteManager`; the manager diffs them against the orders it has
working and sends only what is worth sending:

- a new quote for a (side, level) with no working order is sent at once (post-only limit);
- a working quote is moved (or resized) only when its price moved at least `min_change_ticks` (any
  size change counts), it has lived at least `min_quote_lifetime_ms`, and the per-market budget of
  `max_cancels_per_min` cancels and replaces in any 60 s allows;
- a working quote that is no longer wanted is cancelled under the same lifetime and budget rules;
- a quote with a request on its way (cancel or modify not yet answered) is left alone.

A replace is one `modify` (an amend; on the simulated venue a smaller size at the same price keeps queue
priority) when `use_modify`, else a cancel followed, once confirmed, by a new order. Where the venue has no
native amend the engine carries the modify out as cancel-then-replace; the manager follows the quote to
its replacement (`StrategyContext.current_order_id`).
`cancel_all` bypasses the lifetime and the budget: it is for stopping, not for quoting.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.strategy.context import StrategyContext

__all__ = ["Quote", "QuoteManager", "QuoteManagerConfig", "QuoteStats"]

_MINUTE_NS = 60_000_000_000
_BUSY = frozenset({OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_UPDATE})
_RESTING = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """One desired resting order. `level` 0 is nearest the touch; price and size on the grid."""

    side: OrderSide
    price: Decimal
    size: Decimal
    level: int = 0


class QuoteManagerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a working quote may be touched (module docstring). Times in ms, moves in ticks."""

    min_change_ticks: Annotated[int, msgspec.Meta(ge=0)] = 1
    min_quote_lifetime_ms: Annotated[int, msgspec.Meta(ge=0)] = 0
    max_cancels_per_min: Annotated[int, msgspec.Meta(ge=1)] = 600
    use_modify: bool = True
    post_only: bool = True


class _Why(enum.Enum):
    LIFETIME = "held_by_lifetime"
    BUDGET = "held_by_budget"


@dataclass(slots=True)
class QuoteStats:
    """What the manager did and what it held back (counts since it was created)."""

    submitted: int = 0
    modified: int = 0
    cancelled: int = 0
    held_by_min_change: int = 0
    held_by_lifetime: int = 0
    held_by_budget: int = 0


@dataclass(slots=True)
class _Live:
    cid: ClientOrderId
    price: Decimal
    size: Decimal
    placed_ns: int


Key = tuple[OrderSide, int]


class QuoteManager:
    """Keep one instrument's working quotes in line with the strategy's intents (module docstring)."""

    def __init__(
        self, ctx: StrategyContext, instrument_id: InstrumentId, config: QuoteManagerConfig | None = None
    ) -> None:
        self.ctx = ctx
        self.iid = instrument_id
        self.config = config or QuoteManagerConfig()
        self.stats = QuoteStats()
        self._live: dict[Key, _Live] = {}
        self._closing: dict[Key, ClientOrderId] = {}  # cancelled, not yet confirmed
        self._touches: deque[int] = deque()  # times of our cancels and modifies (the budget)
        self._tick = ctx.instrument(instrument_id).tick_size

    # --- reading -----------------------------------------------------------------------------
    def working(self) -> dict[Key, tuple[Decimal, Decimal]]:
        """(side, level) -> (price, size) of the quotes working now (as the manager last sent them)."""
        self._refresh()
        return {key: (live.price, live.size) for key, live in self._live.items()}

    def budget_left(self) -> int:
        """Cancels and replaces still allowed in the current 60 s window."""
        self._expire(self.ctx.now_ns())
        return self.config.max_cancels_per_min - len(self._touches)

    # --- the diff ----------------------------------------------------------------------------
    def apply(self, quotes: Iterable[Quote]) -> None:
        """Make the working quotes match `quotes`, as far as the rules allow (module docstring)."""
        self._refresh()
        now = self.ctx.now_ns()
        wanted: dict[Key, Quote] = {}
        for quote in quotes:
            key = (quote.side, quote.level)
            if key in wanted:
                raise ValueError(f"two quotes for {quote.side} level {quote.level}")
            wanted[key] = quote
        for key in sorted(self._live.keys() - wanted.keys(), key=_by_level):
            unwanted = self._live[key]
            if self._busy(unwanted) or self._hold(unwanted, now) is not None:
                continue
            self._cancel(key, unwanted, now)
        for key in sorted(wanted, key=_by_level):
            quote = wanted[key]
            live = self._live.get(key)
            if live is None:
                if key not in self._closing:
                    self._submit(key, quote, now)
                continue
            if self._busy(live) or (quote.price == live.price and quote.size == live.size):
                continue
            moved = abs(quote.price - live.price) / self._tick
            if quote.size == live.size and moved < max(1, self.config.min_change_ticks):
                self.stats.held_by_min_change += 1
                continue
            if self._hold(live, now) is not None:
                continue
            if self.config.use_modify:
                self._touch(now)
                self.ctx.modify(live.cid, price=quote.price, quantity=quote.size)
                self._live[key] = _Live(live.cid, quote.price, quote.size, now)
                self.stats.modified += 1
            else:
                self._cancel(key, live, now)

    def cancel_all(self) -> None:
        """Cancel every working quote now (no lifetime or budget check: for stopping)."""
        self._refresh()
        now = self.ctx.now_ns()
        for key, live in list(self._live.items()):
            if self._status(live) is not OrderStatus.PENDING_CANCEL:
                self._touches.append(now)
                self.ctx.cancel(live.cid)
                self._closing[key] = live.cid
                del self._live[key]
                self.stats.cancelled += 1

    # --- internals ---------------------------------------------------------------------------
    def _submit(self, key: Key, quote: Quote, now: int) -> None:
        cid = self.ctx.submit(self.iid, quote.side, quote.size, quote.price, post_only=self.config.post_only)
        self._live[key] = _Live(cid, quote.price, quote.size, now)
        self.stats.submitted += 1

    def _cancel(self, key: Key, live: _Live, now: int) -> None:
        self._touch(now)
        self.ctx.cancel(live.cid)
        self._closing[key] = live.cid
        del self._live[key]
        self.stats.cancelled += 1

    def _hold(self, live: _Live, now: int) -> _Why | None:
        """Why a working quote must stay as it is for now (None: it may be cancelled or replaced)."""
        if now - live.placed_ns < self.config.min_quote_lifetime_ms * 1_000_000:
            self.stats.held_by_lifetime += 1
            return _Why.LIFETIME
        self._expire(now)
        if len(self._touches) >= self.config.max_cancels_per_min:
            self.stats.held_by_budget += 1
            return _Why.BUDGET
        return None

    def _touch(self, now: int) -> None:
        self._touches.append(now)

    def _expire(self, now: int) -> None:
        touches = self._touches
        while touches and touches[0] <= now - _MINUTE_NS:
            touches.popleft()

    def _status(self, live: _Live) -> OrderStatus | None:
        order = self.ctx.order(live.cid)
        return None if order is None else order.status

    def _busy(self, live: _Live) -> bool:
        return self._status(live) in _BUSY

    def _refresh(self) -> None:
        """Forget quotes that have ended (filled, cancelled, rejected) and cancels that are confirmed."""
        ctx = self.ctx
        for key, live in list(self._live.items()):
            live.cid = ctx.current_order_id(live.cid)  # a modify carried out as cancel-then-replace
            order = ctx.order(live.cid)
            if order is None or order.is_closed:
                del self._live[key]
            elif order.status in _RESTING and order.price is not None:
                # A modify the venue refused leaves the old price and size: follow the order.
                live.price, live.size = order.price, order.quantity
        for key, cid in list(self._closing.items()):
            order = ctx.order(cid)
            if order is None or order.is_closed:
                del self._closing[key]


def _by_level(key: Key) -> tuple[int, str]:
    side, level = key
    return level, side.value
