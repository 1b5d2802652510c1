"""A strategy that performs scripted actions at given times and records everything it sees."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradewright.core.ids import InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.events import OrderEvent, OrderFilled, TimerFired
from tradewright.strategy.base import BookTrigger, Strategy
from tradewright.strategy.context import StrategyContext

__all__ = ["ScriptedStrategy"]

Action = Callable[[StrategyContext], Any]


class ScriptedStrategy(Strategy):
    """Run `actions[(ms, name)]` at each time; keep every order event and book top it saw."""

    book_trigger = BookTrigger.EVERY

    def __init__(self, instrument_id: InstrumentId, actions: list[tuple[float, Action]]) -> None:
        super().__init__("SCRIPT", [instrument_id])
        self._actions = actions
        self.results: dict[int, Any] = {}
        self.events: list[OrderEvent] = []
        self.fills: list[OrderFilled] = []
        self.tops: list[tuple[int, Decimal | None, Decimal | None]] = []
        self.equity_checks: list[tuple[Decimal, Decimal]] = []

    def on_start(self, **kw: Any) -> None:
        for i, (ms, _) in enumerate(self._actions):
            self.ctx.set_alarm(f"a{i}", int(ms * 1_000_000))

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        i = int(event.name[1:])
        self.results[i] = self._actions[i][1](self.ctx)

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        self.tops.append((self.ctx.now_ns(), book.best_bid, book.best_ask))

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        self.events.append(event)

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        self.fills.append(fill)

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]
