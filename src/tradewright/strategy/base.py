"""The Strategy base class: pure reactions to events.

Override the hooks you need. Hooks never await, never touch the network and never read the wall
clock; everything they need comes from `self.ctx`. Optional hooks take `**kw` so that new keyword
arguments can be added without breaking user strategies.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from tradewright.core.ids import InstrumentId, StrategyId
from tradewright.model.bar_view import BarView
from tradewright.model.book import OrderBook
from tradewright.model.commands import SendSignal
from tradewright.model.data import TradeTick
from tradewright.model.events import OrderEvent, OrderFilled, TimerFired, WorkflowEvent
from tradewright.strategy.context import StrategyContext

__all__ = ["BookTrigger", "Strategy"]


class BookTrigger(enum.StrEnum):
    """When `on_book` fires."""

    TOP_PRICE = "top_price"  # best bid or best ask price changed
    TOP = "top"  # best price or size changed
    EVERY = "every"  # after every venue message


class Strategy:
    """Base class for every strategy. Subclasses set `instruments` and override hooks."""

    #: Class-level default for when `on_book` fires; a config may override per instance.
    book_trigger: ClassVar[BookTrigger] = BookTrigger.TOP

    #: The frozen config type a subclass accepts (a msgspec Struct); the runner validates
    #: `[strategy.params]` against it and passes the result as `config`.
    Config: ClassVar[type[Any] | None] = None

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: Any = None) -> None:
        self.id = StrategyId(strategy_id)
        self.instruments = list(instruments)
        self.config = config
        self._ctx: StrategyContext | None = None

    @property
    def ctx(self) -> StrategyContext:
        if self._ctx is None:
            raise RuntimeError(f"strategy {self.id} is not registered with a kernel yet")
        return self._ctx

    def bind(self, ctx: StrategyContext) -> None:
        """Called once by the kernel when the strategy is added."""
        self._ctx = ctx

    def wants(self, hook: str) -> bool:
        """True when the subclass overrides the hook (the kernel skips building events nobody reads)."""
        return getattr(type(self), hook) is not getattr(Strategy, hook)

    # --- hooks ------------------------------------------------------------------------------
    def on_start(self, **kw: Any) -> None:
        """Called once before the first event."""

    def on_stop(self, **kw: Any) -> None:
        """Called once after the last event (open orders are then cancelled by the runner)."""

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        """The book changed (see `book_trigger`)."""

    def on_trade(self, trade: TradeTick, **kw: Any) -> None:
        """A public trade printed."""

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        """A bar closed. `bar` is a read-only view the engine moves to the next bar: copy what you keep."""

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        """One of our orders changed state (accepted, denied, rejected, canceled, expired, ...)."""

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        """One of our orders (partially) filled. Called after `on_order` for the same event."""

    def on_workflow(self, event: WorkflowEvent, **kw: Any) -> None:
        """A multi-leg workflow started with `ctx.execute` moved on: started or refused, a leg sent or
        ended, a compensation sent or ended, finished (`tradewright.model.events`). Its leg orders'
        own events still arrive in `on_order` and `on_fill`."""

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        """A timer or alarm set through the context fired."""

    def on_signal(self, signal: SendSignal, **kw: Any) -> None:
        """An operator or a program sent this strategy a manual signal (`POST .../signal`). Only
        strategies that override this hook accept signals; orders it leads to pass risk as usual."""

    def on_config(self, config: Any, **kw: Any) -> None:
        """An operator changed the strategy's parameters while it runs: `config` is a new, validated
        instance of `Config`. Only strategies that override this hook accept live parameter changes;
        the override adopts what it can (e.g. `self.cfg = config`) and raises to refuse the change."""

    def snapshot_state(self) -> dict[str, Any]:
        """Return the strategy's own state for persistence (JSON-serialisable); default: nothing."""
        return {}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Restore from `snapshot_state()` output after a restart."""
